// What each external channel's set-up form holds (docs/channels.md, "Configuration"), the body
// a save sends, and where the server's refusal of a field goes. No React here: it is tested
// on its own (channelForm.test.ts).

export type Part = "settings" | "secrets";

export interface FieldSpec {
  key: string;
  part: Part;
  input: "text" | "number" | "select" | "url" | "email" | "textarea";
  required?: boolean;
  /** A select's choices; "" is "the default" (the setting is left out). */
  options?: string[];
  placeholder?: string;
  /** Where the field goes on the form: two columns share a row on a wide screen. */
  wide?: boolean;
}

const s = (key: string, input: FieldSpec["input"] = "text", extra: Partial<FieldSpec> = {}): FieldSpec => ({ key, part: "settings", input, ...extra });
const secret = (key: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({ key, part: "secrets", input: "text", ...extra });
const apiBase = (placeholder: string) => s("api_base", "url", { placeholder, wide: true });
const SECURITY = ["", "starttls", "tls", "none"];

/** The channels this screen sets up, with their settings and secrets in form order. */
export const CHANNEL_FIELDS: Record<string, FieldSpec[]> = {
  telegram: [
    secret("bot_token", { required: true, placeholder: "123456:ABC-…", wide: true }),
    secret("secret_token", { required: true, wide: true }),
    apiBase("https://api.telegram.org"),
  ],
  wechat_oa: [
    s("app_id", "text", { required: true }),
    s("mode", "select", { options: ["plaintext", "compatible", "safe"] }),
    secret("app_secret", { required: true }),
    secret("token", { required: true }),
    secret("encoding_aes_key", { wide: true }),
    apiBase("https://api.weixin.qq.com"),
  ],
  wechat_kf: [
    s("corp_id", "text", { required: true }),
    s("open_kfid", "text", { required: true, placeholder: "wk…" }),
    secret("corp_secret", { required: true }),
    secret("token", { required: true }),
    secret("encoding_aes_key", { required: true, wide: true }),
    s("servicers", "textarea", { wide: true, placeholder: "userid=agent@example.com" }),
    apiBase("https://qyapi.weixin.qq.com"),
  ],
  email: [
    s("address", "email", { required: true }),
    s("from_name"),
    s("smtp_host", "text", { placeholder: "smtp.example.com" }),
    s("smtp_port", "number", { placeholder: "587" }),
    s("smtp_security", "select", { options: SECURITY }),
    s("smtp_username"),
    secret("smtp_password"),
    s("imap_host", "text", { placeholder: "imap.example.com" }),
    s("imap_port", "number", { placeholder: "993" }),
    s("imap_security", "select", { options: SECURITY }),
    s("imap_username"),
    secret("imap_password"),
    s("imap_folder", "text", { placeholder: "INBOX" }),
    s("max_bytes", "number"),
  ],
};

/** Channels whose provider sends webhooks to kefu (email comes in by SMTP or IMAP). */
export const HAS_WEBHOOK = new Set(["telegram", "wechat_oa", "wechat_kf"]);

export const fieldId = (f: Pick<FieldSpec, "part" | "key">) => `${f.part}.${f.key}`;

export interface ChannelConfig {
  inbox_id: string;
  channel: string;
  settings: Record<string, string | number | boolean>;
  secrets_set: string[];
  webhook_path: string;
  webhook?: { registered: boolean; detail: string } | null;
}

/** The form's values from a saved configuration: settings as text, secrets always empty
 *  (they are never sent back); a select without a value takes its first choice. */
export function initialValues(fields: FieldSpec[], config: ChannelConfig | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    const saved = f.part === "settings" ? config?.settings[f.key] : undefined;
    out[fieldId(f)] = saved === undefined ? (f.input === "select" ? (f.options?.[0] ?? "") : "") : String(saved);
  }
  return out;
}

/** The PUT body: every setting the form has a value for (numbers as numbers), settings the
 *  form does not show kept as they are, and only the secrets typed in (an empty secret field
 *  keeps the saved one). */
export function buildBody(
  fields: FieldSpec[],
  values: Record<string, string>,
  saved: Record<string, string | number | boolean> = {},
): { settings: Record<string, string | number | boolean>; secrets: Record<string, string> } {
  const shown = new Set(fields.filter((f) => f.part === "settings").map((f) => f.key));
  const settings: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(saved)) if (!shown.has(k)) settings[k] = v;
  const secrets: Record<string, string> = {};
  for (const f of fields) {
    const raw = values[fieldId(f)] ?? "";
    const v = raw.trim();
    if (!v) continue;
    if (f.part === "secrets") secrets[f.key] = raw;
    else settings[f.key] = f.input === "number" && /^\d{1,15}$/.test(v) ? Number(v) : v;
  }
  return { settings, secrets };
}

export interface FieldErrors {
  /** By field id (`settings.mode`): the server's message for that field. */
  fields: Record<string, string>;
  /** What no field of the form explains (shown above the form). */
  general: string[];
}

interface ErrorLike {
  code: string;
  message: string;
  details?: unknown;
}

/** Where a refused save's reasons go: `422 validation_error` names each field with
 *  `details[].loc` (`["body", "settings", "mode"]`); `422 missing_settings` lists the keys
 *  in its message (`missing: app_id, token`), each shown as `required` next to its field. */
export function mapErrors(fields: FieldSpec[], err: ErrorLike, required: string): FieldErrors {
  const out: FieldErrors = { fields: {}, general: [] };
  const ids = new Set(fields.map(fieldId));
  const byKey = new Map(fields.map((f) => [f.key, fieldId(f)]));
  if (err.code === "validation_error" && Array.isArray(err.details)) {
    for (const d of err.details as { loc?: unknown; message?: unknown; msg?: unknown }[]) {
      const loc = Array.isArray(d.loc) ? d.loc.map(String) : [];
      const message = String(d.message ?? d.msg ?? err.message);
      const at = loc[0] === "body" ? loc.slice(1) : loc;
      const id = at.length >= 2 ? `${at[0]}.${at[1]}` : "";
      if (ids.has(id)) out.fields[id] = out.fields[id] ? `${out.fields[id]} ${message}` : message;
      else out.general.push(at.length ? `${at.join(".")}: ${message}` : message);
    }
    if (!Object.keys(out.fields).length && !out.general.length) out.general.push(err.message);
    return out;
  }
  if (err.code === "missing_settings") {
    const names = err.message.replace(/^missing:\s*/, "").split(",").map((n) => n.trim()).filter(Boolean);
    for (const n of names) {
      const id = byKey.get(n);
      if (id) out.fields[id] = required;
      else out.general.push(`${n}: ${required}`);
    }
    if (!names.length) out.general.push(err.message);
    return out;
  }
  out.general.push(err.message);
  return out;
}

/** The address to paste into the provider's console. */
export function webhookUrl(origin: string, path: string): string {
  return origin.replace(/\/+$/, "") + path;
}
