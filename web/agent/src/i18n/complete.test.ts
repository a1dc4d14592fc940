// The three languages are complete: every key in every table, nothing left in English, the
// same placeholders; plurals through Intl.PluralRules; no user-visible English written into a
// component instead of the tables.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { type Key, type Lang, TABLES_FOR_TESTS, errorText, formatNumber, relativeTime, setLang, statusLabel, t, tn } from "./index";

// Values that are the same in every language: names of products and formats, the names the
// providers' own consoles use in every language (WeChat's AppID, Token, EncodingAESKey …),
// and strings made only of placeholders, digits and punctuation.
const SAME_EVERYWHERE = new Set([
  "OK", "PNG", "SVG", "API", "Telegram", "kefu",
  "AppID", "AppSecret", "Token", "EncodingAESKey", "CorpID", "Secret", "STARTTLS", "TLS", "Webhook URL",
]);

function allowed(value: string): boolean {
  return SAME_EVERYWHERE.has(value) || !/[A-Za-z]{2,}/.test(value.replace(/\{\w+\}/g, ""));
}

function placeholders(s: string): string[] {
  return [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "").sort();
}

afterEach(() => setLang("en"));

for (const lang of ["zh-CN", "ja"] as Lang[]) {
  test(`${lang}: every key is translated, with the same placeholders`, () => {
    const en = TABLES_FOR_TESTS.en;
    const table = TABLES_FOR_TESTS[lang];
    const missing = Object.keys(en).filter((k) => !(table[k as Key] ?? "").trim());
    expect(missing).toEqual([]);
    const english = Object.keys(en).filter((k) => table[k as Key] === en[k as Key] && !allowed(en[k as Key]));
    expect(english).toEqual([]);
    const latin = Object.entries(table).filter(([, v]) => /\b[a-z]{4,}\b/.test(v.replace(/\{\w+\}/g, "")) && !/name|email|phone|Ctrl|Enter|WeChat|WeCom|Telegram|kefu|example\.com|userid/.test(v));
    expect(latin.map(([k]) => k)).toEqual([]);
    const differ = Object.keys(en).filter((k) => placeholders(en[k as Key]).join() !== placeholders(table[k as Key]).join());
    expect(differ).toEqual([]);
  });
}

test("plural forms come from Intl.PluralRules, numbers from Intl.NumberFormat", () => {
  setLang("en");
  expect(tn("questions_count", 1)).toBe("1 question");
  expect(tn("questions_count", 2)).toBe("2 questions");
  expect(tn("questions_count", 0)).toBe("0 questions");
  expect(tn("questions_count", 1200)).toBe("1,200 questions");
  setLang("zh-CN");
  expect(tn("questions_count", 1)).toBe("1 个问题");
  setLang("ja");
  expect(tn("replies_left", 3)).toBe("残り 3 件返信可能");
  expect(formatNumber(1200)).toBe("1,200");
});

test("statuses, relative times and the API's error codes in the chosen language", () => {
  setLang("zh-CN");
  expect(statusLabel("open")).toBe("处理中");
  expect(statusLabel("brand_new")).toBe("brand_new"); // a newer server's status, as it came
  expect(relativeTime(Date.now() - 3 * 60_000)).toBe("3分钟前");
  expect(errorText({ code: "needs_assignee", message: "open needs an assignee" })).toBe(t("err_needs_assignee"));
  expect(errorText({ code: "brand_new", message: "what the server says" })).toBe("出错了（brand_new）。");
  expect(errorText(new TypeError("Failed to fetch"))).toBe(t("err_network"));
  setLang("ja");
  expect(relativeTime(Date.now() + 2 * 86_400_000)).toBe("明後日");
  setLang("en");
  expect(relativeTime(Date.now() - 3_600_000)).toBe("1 hour ago");
  expect(errorText({ code: "brand_new", message: "what the server says" })).toBe("what the server says");
});

// ---- no user-visible English written into a component -------------------------------------

const SRC = join(__dirname, "..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".tsx") && !path.endsWith(".test.tsx") ? [path] : [];
  });
}

// Text that is not language: symbols, shortcut letters, units, format names.
const NOT_WORDS = /^[\s\W\d]*$|^(PNG|SVG|kefu|px|KB|MB|Esc|Enter|Ctrl|Shift|Alt|Tab)$/;
// What the crude match above also finds between a type's angle brackets: code, not text.
const CODE = /^[A-Za-z_$][\w$]*(\.[\w$]+)+$|^,\s*\n\s*[\w$]+:$/;

test("components show no English of their own: text and labels come from t()", () => {
  const found: string[] = [];
  for (const file of sources(SRC)) {
    const code = readFileSync(file, "utf8");
    // JSX text between tags
    for (const m of code.matchAll(/(?<!=)>([^<>{}`;=()]*)</g)) {
      const text = (m[1] ?? "").trim();
      if (text && /[A-Za-z]{2,}/.test(text) && !NOT_WORDS.test(text) && !CODE.test(m[1]?.trim() ?? ""))
        found.push(`${file}: ${text}`);
    }
    // attributes people read (screen readers included)
    for (const m of code.matchAll(/\b(aria-label|placeholder|title|alt)="([^"]*)"/g)) {
      if (/[A-Za-z]{2,}/.test(m[2] ?? "")) found.push(`${file}: ${m[1]}="${m[2]}"`);
    }
  }
  expect(found).toEqual([]);
});
