// The triage list's logic: the preview and visitor names the server also computes
// (src/kefu/domain/triage.py, same rules), waiting times and SLA states as of "now", and the
// client-side orders that match the server's sorts.

import type { Conversation, ListSort, Priority } from "../api/types";
import type { Lang } from "../i18n";

export const PREVIEW_MAX = 140;

/** Whitespace runs folded to one space, at most PREVIEW_MAX code points (as the server). */
export function previewOf(content: string): string {
  const folded = content.split(/\s+/u).filter(Boolean).join(" ");
  return Array.from(folded).slice(0, PREVIEW_MAX).join("");
}

// The server's lists, in the same order, translated.
const ADJECTIVES: Record<Lang, string[]> = {
  en: ["Amber", "Blue", "Brave", "Calm", "Coral", "Golden", "Green", "Happy", "Jade", "Kind", "Lucky", "Quiet", "Red", "Silver", "Swift", "Violet"],
  "zh-CN": ["琥珀", "蓝色", "勇敢", "安静", "珊瑚", "金色", "绿色", "快乐", "翡翠", "友善", "幸运", "沉静", "红色", "银色", "敏捷", "紫色"],
  ja: ["琥珀色の", "青い", "勇敢な", "穏やかな", "珊瑚色の", "金色の", "緑の", "陽気な", "翡翠色の", "優しい", "幸運な", "静かな", "赤い", "銀色の", "素早い", "紫の"],
};
const ANIMALS: Record<Lang, string[]> = {
  en: ["Badger", "Crane", "Deer", "Dolphin", "Eagle", "Falcon", "Fox", "Hare", "Heron", "Koala", "Lynx", "Marten", "Otter", "Owl", "Panda", "Penguin", "Rabbit", "Robin", "Seal", "Sparrow", "Swan", "Tiger", "Turtle", "Whale"],
  "zh-CN": ["獾", "鹤", "鹿", "海豚", "鹰", "隼", "狐狸", "野兔", "苍鹭", "考拉", "猞猁", "貂", "水獭", "猫头鹰", "熊猫", "企鹅", "兔子", "知更鸟", "海豹", "麻雀", "天鹅", "老虎", "海龟", "鲸鱼"],
  ja: ["アナグマ", "ツル", "シカ", "イルカ", "ワシ", "ハヤブサ", "キツネ", "ノウサギ", "サギ", "コアラ", "オオヤマネコ", "テン", "カワウソ", "フクロウ", "パンダ", "ペンギン", "ウサギ", "コマドリ", "アザラシ", "スズメ", "ハクチョウ", "トラ", "カメ", "クジラ"],
};

/** Adjective, animal and number (10–99) from the id's last 32 bits, as the server does. */
export function visitorParts(contactId: string): [number, number, number] {
  const hex = contactId.replace(/-/g, "");
  const n = parseInt(hex.slice(-8), 16);
  return [n % 16, Math.floor(n / 16) % 24, (Math.floor(n / 384) % 90) + 10];
}

/** A stable friendly name for a contact without one: "Blue Otter 42", "蓝色水獭 42", "青いカワウソ 42". */
export function visitorName(contactId: string, lang: Lang): string {
  const [a, b, n] = visitorParts(contactId);
  const sep = lang === "en" ? " " : "";
  return `${ADJECTIVES[lang][a]}${sep}${ANIMALS[lang][b]} ${n}`;
}

export function initials(name: string): string {
  const words = name.trim().split(/\s+/u).filter(Boolean);
  if (words.length === 0) return "?";
  const chars = words.length > 1 ? [words[0]!, words[1]!].map((w) => Array.from(w)[0]) : Array.from(words[0]!).slice(0, 2);
  return chars.join("").toUpperCase();
}

const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/** "5 minutes ago" style, in the language; under a minute says "now". */
export function relative(iso: string, now: number, lang: Lang): string {
  const diff = Date.parse(iso) - now;
  const fmt = new Intl.RelativeTimeFormat(lang, { numeric: "auto", style: "short" });
  for (const [unit, ms] of STEPS) {
    if (Math.abs(diff) >= ms) return fmt.format(Math.trunc(diff / ms), unit);
  }
  return fmt.format(0, "second");
}

/** How long the customer has waited, in ms (null when not waiting). */
export function waitedMs(c: Conversation, now: number): number | null {
  return c.waiting_since ? Math.max(0, now - Date.parse(c.waiting_since)) : null;
}

export type SlaState = "breached" | "soon" | "due";

/** The first-response SLA, while nobody has answered: past due, within 5 minutes, or later. */
export function slaState(c: Conversation, now: number): SlaState | null {
  if (!c.first_response_due_at || c.first_response_at || c.status === "resolved") return null;
  const left = Date.parse(c.first_response_due_at) - now;
  if (c.sla_breached_at || left <= 0) return "breached";
  return left <= 5 * 60_000 ? "soon" : "due";
}

export const PRIORITY_RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, urgent: 3 };

export function activityOf(c: Conversation): string {
  return c.last_message_at && c.last_message_at > c.updated_at ? c.last_message_at : c.updated_at;
}

const desc = (x: string, y: string): number => (x === y ? 0 : x < y ? 1 : -1);

/** The server's orders, for the rows the client holds. */
export function comparator(sort: ListSort): (a: Conversation, b: Conversation) => number {
  switch (sort) {
    case "waiting":
      // Longest waiting first; those not waiting (not in that list) last.
      return (a, b) => -desc(a.waiting_since ?? "~", b.waiting_since ?? "~") || -desc(a.id, b.id);
    case "priority":
      return (a, b) =>
        PRIORITY_RANK[b.priority] - PRIORITY_RANK[a.priority] || desc(activityOf(a), activityOf(b)) || desc(a.id, b.id);
    default:
      return (a, b) => desc(activityOf(a), activityOf(b)) || desc(a.id, b.id);
  }
}
