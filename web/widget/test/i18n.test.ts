// The chat's three languages are complete: every key in every table, nothing left in
// English, the same placeholders; and the loader's own labels likewise.

import { describe, expect, test } from "vitest";
import { type Key, type Locale, TABLES_FOR_TESTS } from "../src/app/i18n";
import { LABELS } from "../src/loader/labels";

const SAME_EVERYWHERE = new Set(["ID {id}"]);
// Keys whose text may use any of the values the code passes: queueText() gives the position
// ({n}) and the people ahead ({ahead}), and Chinese says the one, English and Japanese the other.
const EITHER: Partial<Record<Key, string[]>> = { queue: ["ahead", "n"] };

function placeholders(s: string): string {
  return [...s.matchAll(/\{(\w+)\}/g)]
    .map((m) => m[1])
    .sort()
    .join();
}

describe.each(["zh-CN", "ja"] as Locale[])("%s", (lang) => {
  const en = TABLES_FOR_TESTS.en;
  const table = TABLES_FOR_TESTS[lang];
  const keys = Object.keys(en) as Key[];

  test("every key is translated, none left in English", () => {
    expect(keys.filter((k) => !(table[k] ?? "").trim())).toEqual([]);
    expect(keys.filter((k) => table[k] === en[k] && !SAME_EVERYWHERE.has(en[k]))).toEqual([]);
    expect(keys.filter((k) => /\b[a-z]{4,}\b/.test(table[k].replace(/\{\w+\}/g, "")))).toEqual([]);
  });

  test("the same placeholders as English", () => {
    const differ = keys.filter((k) => {
      const allowed = EITHER[k];
      if (allowed) return !placeholders(table[k]).split(",").every((p) => allowed.includes(p));
      return placeholders(table[k]) !== placeholders(en[k]);
    });
    expect(differ).toEqual([]);
  });

  test("the loader's labels", () => {
    const mine = LABELS[lang];
    for (const k of ["open", "close", "title"] as const) expect(mine[k]).not.toBe(LABELS.en[k]);
    expect(mine.unread(3)).not.toBe(LABELS.en.unread(3));
    expect(mine.unread(3)).toContain("3");
  });
});
