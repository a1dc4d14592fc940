// The widget's own rules that need no DOM: queue wording, texts per language, availability,
// the visitor-context report and the reserved image box.
import { afterEach, describe, expect, it } from "vitest";
import { contextReport } from "../src/app/context";
import { availabilityText, pickText, queueText, setLocale, t } from "../src/app/i18n";
import { imageBox } from "../src/app/render";

(globalThis as { document?: unknown }).document = { documentElement: {} };

afterEach(() => setLocale("en"));

describe("queue banner", () => {
  it("tells the first in line they are next, in every language", () => {
    for (const l of ["en", "zh-CN", "ja"] as const) {
      setLocale(l);
      expect(queueText(1)).toBe(t("queueNext"));
    }
  });
  it("counts the people ahead, not the position, in Chinese", () => {
    setLocale("zh-CN");
    expect(queueText(2)).toBe("您前面还有 1 位。");
    expect(queueText(5)).toBe("您前面还有 4 位。");
  });
  it("names the position in English and Japanese", () => {
    expect(queueText(3)).toBe("You are number 3 in the queue.");
    setLocale("ja");
    expect(queueText(3)).toBe("順番待ち: 3 番目です。");
  });
});

describe("texts per language", () => {
  const texts = { en: "Hi", "zh-CN": "您好", ja: "こんにちは" };
  it("picks the exact tag, then the same language", () => {
    expect(pickText(texts, "zh-CN")).toBe("您好");
    expect(pickText(texts, "ja")).toBe("こんにちは");
    expect(pickText({ "zh-TW": "您好" }, "zh-CN")).toBe("您好");
    expect(pickText({ "en-GB": "Hiya" }, "en")).toBe("Hiya");
  });
  it("gives null for a language it lacks", () => {
    expect(pickText({ en: "Hi" }, "ja")).toBeNull();
    expect(pickText(undefined, "ja")).toBeNull();
  });
});

describe("availability", () => {
  it("says nothing until it knows", () => expect(availabilityText(null)).toBe(""));
  it("says online only when someone is", () => {
    expect(availabilityText({ status: "online", typical_reply_seconds: null, next_open_at: null })).toBe("Online");
  });
  it("says away with the typical reply time", () => {
    const a = { status: "away", typical_reply_seconds: 420, next_open_at: null };
    expect(availabilityText(a)).toBe("Away · Typically replies in 7 min");
    expect(availabilityText({ ...a, typical_reply_seconds: 7200 })).toBe("Away · Typically replies in 2 h");
    expect(availabilityText({ ...a, typical_reply_seconds: null })).toBe("Away · We'll reply as soon as we can");
    setLocale("zh-CN");
    expect(availabilityText(a)).toBe("暂时离开 · 通常在 7 分钟内回复");
  });
  it("says closed with when a person answers", () => {
    const now = new Date("2026-12-07T20:00:00Z");
    const text = availabilityText({ status: "closed", typical_reply_seconds: null, next_open_at: "2026-12-08T01:00:00Z" }, now);
    expect(text.startsWith("Closed · A person answers from ")).toBe(true);
    setLocale("ja");
    expect(availabilityText({ status: "closed", typical_reply_seconds: null, next_open_at: null })).toBe("営業時間外");
  });
});

describe("visitor context", () => {
  const page = { url: "https://shop.example/cart", title: "  Cart\n— Shop ", referrer: "https://search.example/" };
  it("sends nothing when the inbox collects nothing", () => {
    expect(contextReport("off", page, "en-US", "Europe/Berlin")).toBeNull();
  });
  it("sends locale and time zone only for basic", () => {
    expect(contextReport("basic", page, "en-US", "Europe/Berlin")).toEqual({ locale: "en-US", time_zone: "Europe/Berlin" });
  });
  it("adds the page for full, bounded and cleaned", () => {
    expect(contextReport("full", page, "ja", "Asia/Tokyo")).toEqual({
      locale: "ja",
      time_zone: "Asia/Tokyo",
      page_url: "https://shop.example/cart",
      page_title: "Cart — Shop",
      referrer: "https://search.example/",
    });
    const long = { url: `https://shop.example/${"a".repeat(2100)}`, title: "页".repeat(400), referrer: "javascript:alert(1)" };
    const r = contextReport("full", long, "zh-CN", "Asia/Shanghai");
    expect(r?.page_url).toBeUndefined();
    expect(r?.referrer).toBeUndefined();
    expect([...(r?.page_title ?? "")].length).toBe(300);
    expect(contextReport("full", { ...page, url: "https://u:p@shop.example/" }, "en", "UTC")?.page_url).toBeUndefined();
  });
});

describe("image box", () => {
  it("reserves the shown size from the stored one", () => {
    expect(imageBox({ width: 480, height: 1200 })).toEqual([240, 600]);
    expect(imageBox({ width: 100, height: 50 })).toEqual([100, 50]);
    expect(imageBox({})).toBeNull();
    expect(imageBox({ width: 0, height: 10 })).toBeNull();
  });
});
