// The widget reads language tags as the server does: the cases in language-tags.json are
// checked here against src/app/lang.ts and in tests/domain/test_languages.py against
// kefu.domain.languages.
import { describe, expect, it } from "vitest";
import { pickLocale } from "../src/app/i18n";
import { canonical, fallbacks, localeOf, pick } from "../src/app/lang";
import cases from "./language-tags.json";

describe("language tags, as the server reads them", () => {
  it.each(cases.canonical)("canonical(%s) is %s", (tag, want) => {
    expect(canonical(tag)).toBe(want);
  });

  it.each(cases.invalid)("%j is not a tag", (tag) => {
    expect(canonical(tag)).toBeNull();
  });

  it.each(cases.fallbacks as [string, string[]][])("fallbacks(%s)", (tag, want) => {
    expect(fallbacks(tag)).toEqual(want);
  });

  it.each(cases.pick as [Record<string, string>, string, string | null][])("pick(%j, %s) is %s", (mapping, tag, want) => {
    expect(pick(mapping, tag)).toBe(want);
  });

  it.each(cases.locale as [string[], string][])("the chat speaks to %j in %s", (tags, want) => {
    expect(localeOf(tags)).toBe(want);
  });
});

describe("the chat's language", () => {
  it("takes the explicit choice first, then the browser's, then the page's", () => {
    expect(pickLocale("ja-JP", ["zh-CN", "en"])).toBe("ja");
    expect(pickLocale(null, ["fr-FR", "zh-Hant-TW", "en"])).toBe("zh-CN");
    expect(pickLocale(null, ["fr-FR", "de", "ja_JP"])).toBe("ja"); // the page's lang, last
    expect(pickLocale("fr", ["de"])).toBe("en");
  });

  it("does not take another language for one that starts with the same letters", () => {
    expect(pickLocale("jav", ["zha", "enm"])).toBe("en"); // Javanese, Zhuang, Middle English
  });

  it("finds pre-chat labels under the server's canonical keys", () => {
    expect(pick({ en: "Order number", "ja-JP": "注文番号" }, "ja")).toBe("注文番号");
    expect(pick({ en: "Order number", "zh-TW": "訂單號碼" }, "zh-CN")).toBe("訂單號碼");
    expect(pick({ en: "Order number", zh: "订单号" }, "zh-CN")).toBe("订单号");
    expect(pick({ en: "Order number" }, "ja")).toBeNull();
  });
});
