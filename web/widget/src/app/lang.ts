// Language tags read as the server reads them (kefu.domain.languages): one canonical form,
// the same fallbacks, the same lookup. test/language-tags.json holds the cases both check.

const TAG = /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/;
const SCRIPTS: Record<string, string> = { Hans: "zh-CN", Hant: "zh-TW" };
const NEXT: Record<string, string> = { "zh-MO": "zh-HK", "zh-HK": "zh-TW", "zh-SG": "zh-CN" };

/** `tag` in canonical form (`zh_cn` → `zh-CN`, `zh-Hans-CN` → `zh-CN`, `zh-Hant` → `zh-TW`); null if it is not a tag. */
export function canonical(tag: string): string | null {
  if (tag.length > 16 || !TAG.test(tag)) return null;
  const parts = tag.replace(/_/g, "-").split("-");
  const out = [parts[0].toLowerCase()];
  for (const p of parts.slice(1)) {
    if (p.length === 4 && /^[A-Za-z]+$/.test(p)) out.push(p[0].toUpperCase() + p.slice(1).toLowerCase());
    else if (p.length === 2 || (p.length === 3 && /^\d+$/.test(p))) out.push(p.toUpperCase());
    else out.push(p.toLowerCase());
  }
  if (out[0] === "zh" && out[1] in SCRIPTS) return out.length > 2 && out[2].length === 2 ? `zh-${out[2]}` : SCRIPTS[out[1]];
  return out.join("-");
}

/** The language subtag (`zh-CN` → `zh`). */
export function primary(tag: string): string {
  return tag.replace(/_/g, "-").split("-")[0].toLowerCase();
}

/** Where to look for `tag`'s texts, best first. */
export function fallbacks(tag: string): string[] {
  let current = canonical(tag);
  if (current === null) return [primary(tag)];
  const chain = [current];
  while (current in NEXT) {
    current = NEXT[current];
    chain.push(current);
  }
  const base = primary(chain[0]);
  if (!chain.includes(base)) chain.push(base);
  return chain;
}

/** `mapping`'s value for `tag`: through the fallbacks, then the first key (sorted) of the same language. */
export function pick<V>(mapping: Record<string, V>, tag: string): V | null {
  const keys = new Map<string, string>();
  for (const k of Object.keys(mapping)) {
    const c = canonical(k);
    if (c !== null && !keys.has(c)) keys.set(c, k);
  }
  for (const c of fallbacks(tag)) {
    const k = keys.get(c);
    if (k !== undefined) return mapping[k];
  }
  const base = primary(tag);
  for (const c of [...keys.keys()].sort()) {
    if (primary(c) === base) return mapping[keys.get(c) as string];
  }
  return null;
}

export type Locale = "en" | "zh-CN" | "ja";
const LOCALE_KEYS: Record<Locale, Locale> = { en: "en", "zh-CN": "zh-CN", ja: "ja" };

/** The first of `tags` the widget speaks (any Chinese → `zh-CN`), else English. */
export function localeOf(tags: readonly (string | null | undefined)[]): Locale {
  for (const tag of tags) {
    const found = tag ? pick(LOCALE_KEYS, tag) : null;
    if (found) return found;
  }
  return "en";
}
