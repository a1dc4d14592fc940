// The pre-chat form editor's pure part: the form as edited, what Save sends, and the server's
// refusals in words (docs/widget.md, src/kefu/domain/prechat.py).

import type { PrechatField, PrechatFieldType, PrechatForm } from "../api/types";

/** The languages the editor offers a label for; other languages already set are kept. */
export const LANGS = ["en", "zh-CN", "ja"] as const;

export const FIELD_TYPES: PrechatFieldType[] = ["text", "textarea", "email", "phone", "number", "select", "checkbox"];

/** Keys that fill the contact's own fields, and the only type each may have. */
export const BUILT_IN: Record<string, PrechatFieldType> = { name: "text", email: "email", phone: "phone" };

export const KEY_PATTERN = "[a-z][a-z0-9_]{0,39}";

export const MAX_FIELDS = 20;

export function newField(): PrechatField {
  return { key: "", type: "text", required: false, label: {}, options: [] };
}

/** A field with another key; a built-in key takes its type. */
export function withKey(f: PrechatField, key: string): PrechatField {
  const type = BUILT_IN[key];
  return type && type !== f.type ? withType({ ...f, key }, type) : { ...f, key };
}

/** A field with another type; only a select field keeps options. */
export function withType(f: PrechatField, type: PrechatFieldType): PrechatField {
  return { ...f, type, options: type === "select" ? f.options : [] };
}

/** The list with item i moved by delta places (unchanged at the ends). */
export function move<T>(list: T[], i: number, delta: number): T[] {
  const j = i + delta;
  if (i < 0 || i >= list.length || j < 0 || j >= list.length) return list;
  const out = list.slice();
  out.splice(j, 0, ...out.splice(i, 1));
  return out;
}

const labels = (l: Record<string, string>) =>
  Object.fromEntries(Object.entries(l).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v));

/** What Save sends: trimmed keys and labels, empty labels left out, options only on a select. */
export function toForm(fields: PrechatField[]): PrechatForm {
  return {
    fields: fields.map((f) => ({
      key: f.key.trim(),
      type: f.type,
      required: f.required,
      label: labels(f.label),
      options: f.type === "select" ? f.options.map((o) => ({ value: o.value.trim(), label: labels(o.label) })) : [],
    })),
  };
}

interface Detail {
  loc?: unknown;
  message?: unknown;
}

/** A 422's details as lines: "Field 2 (topic): a select field needs options with distinct values".
 *  `fieldWord` is the word for "Field" in the app's language. */
export function problems(details: unknown, form: PrechatForm, fieldWord: string): string[] {
  if (!Array.isArray(details)) return [];
  return (details as Detail[]).map((d) => {
    const loc = Array.isArray(d.loc) ? d.loc.map(String) : [];
    const message = String(d.message ?? "").replace(/^Value error, /, "");
    const at = loc.indexOf("fields");
    const i = at >= 0 ? Number(loc[at + 1]) : NaN;
    if (!Number.isInteger(i)) return message;
    const key = form.fields[i]?.key;
    const where = loc.slice(at + 2).filter((p) => !/^(constrained-str|function-after)/.test(p));
    return `${fieldWord} ${i + 1}${key ? ` (${key})` : ""}${where.length ? ` ${where.join(".")}` : ""}: ${message}`;
  });
}
