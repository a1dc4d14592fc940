// What the widget reports of its visitor: only what the inbox collects, bounded as the server
// bounds it (docs/widget.md, "Visitor context").
import type { CollectContext, VisitorContext } from "../client/types";

/** The host page, as the loader sees it. */
export interface HostPage {
  url: string;
  title: string;
  referrer: string;
}

const MAX_URL = 2048;
const MAX_TITLE = 300;

function webUrl(raw: unknown): string | undefined {
  if (typeof raw !== "string" || raw.length > MAX_URL) return undefined;
  try {
    const u = new URL(raw);
    if ((u.protocol !== "http:" && u.protocol !== "https:") || u.username || u.password) return undefined;
    return u.href.length <= MAX_URL ? u.href : undefined;
  } catch {
    return undefined;
  }
}

function oneLine(raw: unknown, max: number): string | undefined {
  if (typeof raw !== "string") return undefined;
  // eslint-disable-next-line no-control-regex
  const s = raw.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ").replace(/\s+/g, " ").trim();
  return s ? [...s].slice(0, max).join("") : undefined;
}

/** The report for `level` (null: nothing to send). */
export function contextReport(
  level: CollectContext,
  page: HostPage | null,
  language: string | undefined,
  timeZone: string | undefined,
): VisitorContext | null {
  if (level === "off") return null;
  const out: VisitorContext = {};
  if (language && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$/.test(language)) out.locale = language;
  if (timeZone && /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(timeZone)) out.time_zone = timeZone;
  if (level === "full" && page) {
    const url = webUrl(page.url);
    const referrer = webUrl(page.referrer);
    const title = oneLine(page.title, MAX_TITLE);
    if (url) out.page_url = url;
    if (referrer) out.referrer = referrer;
    if (title) out.page_title = title;
  }
  return Object.keys(out).length ? out : null;
}
