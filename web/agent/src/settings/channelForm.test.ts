import { describe, expect, it } from "vitest";
import { CHANNEL_FIELDS, buildBody, initialValues, mapErrors, webhookUrl } from "./channelForm";

const oa = CHANNEL_FIELDS.wechat_oa!;
const email = CHANNEL_FIELDS.email!;

describe("mapErrors", () => {
  it("puts each validation_error detail next to its field by loc", () => {
    const e = mapErrors(
      oa,
      {
        code: "validation_error",
        message: "the channel settings are not valid: settings.mode, secrets.encoding_aes_key",
        details: [
          { loc: ["body", "settings", "mode"], type: "literal_error", message: "Input should be 'plaintext', 'compatible' or 'safe'" },
          { loc: ["body", "secrets", "encoding_aes_key"], type: "value_error", message: "43 characters of base64" },
        ],
      },
      "Required",
    );
    expect(e.fields).toEqual({
      "settings.mode": "Input should be 'plaintext', 'compatible' or 'safe'",
      "secrets.encoding_aes_key": "43 characters of base64",
    });
    expect(e.general).toEqual([]);
  });

  it("keeps what no field explains for the top of the form", () => {
    const e = mapErrors(
      oa,
      { code: "validation_error", message: "not valid", details: [{ loc: ["body", "settings", "apibase"], type: "extra_forbidden", message: "not a setting" }] },
      "Required",
    );
    expect(e.fields).toEqual({});
    expect(e.general).toEqual(["settings.apibase: not a setting"]);
  });

  it("does not mix a setting and a secret of the same name", () => {
    const e = mapErrors(oa, { code: "validation_error", message: "x", details: [{ loc: ["body", "secrets", "token"], message: "bad" }] }, "R");
    expect(e.fields).toEqual({ "secrets.token": "bad" });
  });

  it("marks each missing key as required", () => {
    const e = mapErrors(oa, { code: "missing_settings", message: "missing: app_id, token" }, "Required");
    expect(e.fields).toEqual({ "settings.app_id": "Required", "secrets.token": "Required" });
  });

  it("gives any other error to the top", () => {
    expect(mapErrors(oa, { code: "forbidden", message: "admins only" }, "R")).toEqual({ fields: {}, general: ["admins only"] });
    expect(mapErrors(oa, { code: "validation_error", message: "whole body", details: [] }, "R").general).toEqual(["whole body"]);
  });
});

describe("buildBody", () => {
  it("sends settings with a value, numbers as numbers, typed secrets only", () => {
    const values = initialValues(email, null);
    values["settings.address"] = " help@shop.test ";
    values["settings.smtp_port"] = "587";
    values["settings.smtp_security"] = "starttls";
    values["secrets.smtp_password"] = "pa ss";
    expect(buildBody(email, values)).toEqual({
      settings: { address: "help@shop.test", smtp_port: 587, smtp_security: "starttls" },
      secrets: { smtp_password: "pa ss" },
    });
  });

  it("leaves an empty secret out (the saved one stays) and keeps settings the form does not show", () => {
    const saved = { app_id: "wx1", mode: "safe", extra_knob: true };
    const values = initialValues(oa, { inbox_id: "i", channel: "wechat_oa", settings: saved, secrets_set: ["token"], webhook_path: "/hooks/x" });
    expect(values["settings.mode"]).toBe("safe");
    expect(values["secrets.token"]).toBe("");
    expect(buildBody(oa, values, saved)).toEqual({ settings: { extra_knob: true, app_id: "wx1", mode: "safe" }, secrets: {} });
  });

  it("sends a number-looking text that is not a number as text, for the server to refuse", () => {
    const values = initialValues(email, null);
    values["settings.address"] = "a@b.test";
    values["settings.imap_port"] = "99x";
    expect(buildBody(email, values).settings.imap_port).toBe("99x");
  });
});

it("webhookUrl joins the origin and the path", () => {
  expect(webhookUrl("https://kefu.example/", "/hooks/telegram/k1")).toBe("https://kefu.example/hooks/telegram/k1");
});
