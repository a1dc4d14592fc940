// Every string the chat shows, in English, Simplified Chinese and Japanese.
import { localeOf, type Locale } from "./lang";

export type { Locale };
export const LOCALES: Record<Locale, string> = { en: "English", "zh-CN": "简体中文", ja: "日本語" };

const en = {
  title: "Chat with us",
  open: "Open chat",
  close: "Close chat",
  frameTitle: "Chat",
  unread: "{n} unread",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  offline: "You are offline. Messages will be sent when you are back.",
  online: "Online",
  away: "Away",
  replies: "Typically replies in {t}",
  repliesSoon: "We'll reply as soon as we can",
  closed: "Closed",
  backAt: "A person answers from {when}",
  minutes: "{n} min",
  hours: "{n} h",
  queueNext: "You are next in line.",
  placeholder: "Write a message…",
  send: "Send",
  attach: "Attach a file",
  emoji: "Insert emoji",
  messages: "Messages",
  you: "You",
  agent: "Agent",
  bot: "Assistant",
  verified: "Verified agent",
  agentId: "ID {id}",
  checkId: "Check this ID",
  sending: "Sending…",
  sent: "Sent",
  read: "Read",
  failed: "Not sent",
  retry: "Retry",
  typing: "{name} is typing…",
  someone: "Someone",
  queue: "You are number {n} in the queue.",
  wait: "Expected wait: about {m} min.",
  closedNow: "We are away right now; we will answer when we are back.",
  earlier: "Show earlier messages",
  greetingFallback: "Hi! How can we help?",
  prechatIntro: "Before we start, tell us who you are.",
  name: "Name",
  email: "Email",
  start: "Start chat",
  choose: "Choose…",
  language: "Language",
  download: "Download",
  location: "Location",
  openMap: "Open map",
  image: "Image",
  viewImage: "View image {name}",
  closePreview: "Close preview",
  uploading: "Uploading {name}…",
  sound: "Sound",
  err_identity_required: "Please sign in to chat with us.",
  err_identity_invalid: "We could not verify who you are. Please sign in again.",
  err_bad_origin: "Chat is not available on this site.",
  err_not_found: "This chat is not available.",
  err_too_large: "This file is too large.",
  err_unsupported_type: "This type of file can't be sent.",
  err_image_too_large: "This image is too large.",
  err_invalid_file_name: "This file name can't be used. Rename the file and try again.",
  err_invalid_image: "This image is damaged or not really an image.",
  err_empty_file: "The file is empty.",
  err_archive_refused: "This archive can't be sent.",
  err_unsupported_media_type: "This type of file can't be sent.",
  err_rate_limited: "Too many attempts. Please wait a minute.",
  err_empty_message: "The message is empty.",
  err_invalid_type: "This kind of message can't be sent.",
  err_invalid_prechat: "Please check the fields marked in the form.",
  err_generic: "Something went wrong ({code}).",
};
export type Key = keyof typeof en;

const zh: Record<Key, string> = {
  title: "在线客服",
  open: "打开聊天",
  close: "关闭聊天",
  frameTitle: "在线客服",
  unread: "{n} 条未读",
  connecting: "正在连接…",
  reconnecting: "正在重新连接…",
  offline: "您已离线，恢复网络后消息会自动发送。",
  online: "在线",
  away: "暂时离开",
  replies: "通常在 {t}内回复",
  repliesSoon: "我们会尽快回复",
  closed: "非工作时间",
  backAt: "人工客服 {when} 起回复",
  minutes: "{n} 分钟",
  hours: "{n} 小时",
  queueNext: "下一位就是您。",
  placeholder: "输入消息…",
  send: "发送",
  attach: "添加附件",
  emoji: "插入表情",
  messages: "消息",
  you: "我",
  agent: "客服",
  bot: "智能助手",
  verified: "已认证客服",
  agentId: "工号 {id}",
  checkId: "核验工号",
  sending: "发送中…",
  sent: "已发送",
  read: "已读",
  failed: "发送失败",
  retry: "重试",
  typing: "{name} 正在输入…",
  someone: "对方",
  queue: "您前面还有 {ahead} 位。",
  wait: "预计等待约 {m} 分钟。",
  closedNow: "现在是非工作时间，我们上班后会尽快回复。",
  earlier: "查看更早的消息",
  greetingFallback: "您好！有什么可以帮您？",
  prechatIntro: "开始之前，请留下您的信息。",
  name: "姓名",
  email: "邮箱",
  start: "开始聊天",
  choose: "请选择…",
  language: "语言",
  download: "下载",
  location: "位置",
  openMap: "打开地图",
  image: "图片",
  viewImage: "查看图片 {name}",
  closePreview: "关闭预览",
  uploading: "正在上传 {name}…",
  sound: "提示音",
  err_identity_required: "请先登录后再咨询。",
  err_identity_invalid: "无法验证您的身份，请重新登录。",
  err_bad_origin: "此网站无法使用在线客服。",
  err_not_found: "此会话不可用。",
  err_too_large: "文件太大。",
  err_unsupported_type: "不支持发送此类文件。",
  err_image_too_large: "图片尺寸太大。",
  err_invalid_file_name: "文件名无效，请重命名后再试。",
  err_invalid_image: "图片已损坏或不是真正的图片。",
  err_empty_file: "文件是空的。",
  err_archive_refused: "无法发送此压缩包。",
  err_unsupported_media_type: "不支持发送此类文件。",
  err_rate_limited: "操作太频繁，请稍后再试。",
  err_empty_message: "消息不能为空。",
  err_invalid_type: "无法发送此类消息。",
  err_invalid_prechat: "请检查表单中标出的项目。",
  err_generic: "出错了（{code}）。",
};

const ja: Record<Key, string> = {
  title: "チャットでお問い合わせ",
  open: "チャットを開く",
  close: "チャットを閉じる",
  frameTitle: "チャット",
  unread: "未読 {n} 件",
  connecting: "接続しています…",
  reconnecting: "再接続しています…",
  offline: "オフラインです。接続が戻るとメッセージを送信します。",
  online: "オンライン",
  away: "離席中",
  replies: "通常 {t}以内に返信します",
  repliesSoon: "できるだけ早く返信します",
  closed: "営業時間外",
  backAt: "{when}から担当者が対応します",
  minutes: "{n} 分",
  hours: "{n} 時間",
  queueNext: "次はあなたの番です。",
  placeholder: "メッセージを入力…",
  send: "送信",
  attach: "ファイルを添付",
  emoji: "絵文字を挿入",
  messages: "メッセージ",
  you: "あなた",
  agent: "担当者",
  bot: "アシスタント",
  verified: "認証済みの担当者",
  agentId: "ID {id}",
  checkId: "このIDを確認",
  sending: "送信中…",
  sent: "送信済み",
  read: "既読",
  failed: "未送信",
  retry: "再送信",
  typing: "{name}が入力中…",
  someone: "相手",
  queue: "順番待ち: {n} 番目です。",
  wait: "待ち時間の目安: 約 {m} 分。",
  closedNow: "ただいま営業時間外です。営業開始後に返信します。",
  earlier: "以前のメッセージを表示",
  greetingFallback: "こんにちは！ご用件をどうぞ。",
  prechatIntro: "チャットを始める前に、以下をご記入ください。",
  name: "お名前",
  email: "メールアドレス",
  start: "チャットを開始",
  choose: "選択してください…",
  language: "言語",
  download: "ダウンロード",
  location: "位置情報",
  openMap: "地図を開く",
  image: "画像",
  viewImage: "画像 {name} を表示",
  closePreview: "プレビューを閉じる",
  uploading: "{name} をアップロード中…",
  sound: "通知音",
  err_identity_required: "チャットをご利用いただくにはログインしてください。",
  err_identity_invalid: "本人確認ができませんでした。もう一度ログインしてください。",
  err_bad_origin: "このサイトではチャットを利用できません。",
  err_not_found: "このチャットは利用できません。",
  err_too_large: "ファイルが大きすぎます。",
  err_unsupported_type: "この種類のファイルは送信できません。",
  err_image_too_large: "画像のサイズが大きすぎます。",
  err_invalid_file_name: "このファイル名は使用できません。名前を変更してください。",
  err_invalid_image: "画像が壊れているか、画像ではありません。",
  err_empty_file: "ファイルが空です。",
  err_archive_refused: "このアーカイブは送信できません。",
  err_unsupported_media_type: "この種類のファイルは送信できません。",
  err_rate_limited: "試行回数が多すぎます。しばらくお待ちください。",
  err_empty_message: "メッセージが空です。",
  err_invalid_type: "この種類のメッセージは送信できません。",
  err_invalid_prechat: "フォームの印の付いた項目をご確認ください。",
  err_generic: "エラーが発生しました（{code}）。",
};

const TABLES: Record<Locale, Record<Key, string>> = { en, "zh-CN": zh, ja };
/** Every table, for the test that checks the languages are complete. */
export const TABLES_FOR_TESTS: Readonly<Record<Locale, Readonly<Record<Key, string>>>> = TABLES;
let current: Locale = "en";

/** The first of the tags the chat speaks, read as the server reads tags (`zh_CN`, `zh-Hans-CN`, `zh-TW` → zh-CN; `ja-JP` → ja). */
export function pickLocale(wanted: string | null | undefined, others: readonly (string | null | undefined)[]): Locale {
  return localeOf([wanted, ...others]);
}

export function setLocale(locale: Locale): void {
  current = locale;
  document.documentElement.lang = locale;
}

export function locale(): Locale {
  return current;
}

export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const s = TABLES[current][key] ?? en[key];
  return s.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ""));
}

/** The message for an API error code, or the generic one. */
export function errorText(code: string): string {
  const key = `err_${code}` as Key;
  return key in en ? t(key) : t("err_generic", { code });
}

/** The queue banner for 1-based `position`: the first in line is told they are next. */
export function queueText(position: number): string {
  return position <= 1 ? t("queueNext") : t("queue", { n: position, ahead: position - 1 });
}

/** A text for the current language from texts keyed by language tag: the exact tag, then
 * any of the same language (zh-CN for zh-TW readers too), else null. */
export function pickText(texts: Record<string, string> | undefined, tag: string): string | null {
  if (!texts) return null;
  const want = tag.toLowerCase();
  const base = want.split("-")[0];
  const keys = Object.keys(texts);
  const hit =
    keys.find((k) => k.toLowerCase() === want) ??
    keys.find((k) => k.toLowerCase() === base) ??
    keys.sort().find((k) => k.toLowerCase().split("-")[0] === base);
  return hit !== undefined ? texts[hit] || null : null;
}

function duration(seconds: number): string {
  const m = Math.max(1, Math.round(seconds / 60));
  return m < 60 ? t("minutes", { n: m }) : t("hours", { n: Math.round(m / 60) });
}

/** The header's status line for the team's availability (no answer yet: "Online"). */
export function availabilityText(
  a: { status: string; typical_reply_seconds: number | null; next_open_at: string | null } | null,
  now: Date = new Date(),
): string {
  if (!a) return ""; // not known yet: say nothing rather than "Online"
  if (a.status === "online") return t("online");
  if (a.status === "away") {
    const reply = a.typical_reply_seconds;
    return `${t("away")} · ${reply !== null ? t("replies", { t: duration(reply) }) : t("repliesSoon")}`;
  }
  if (!a.next_open_at) return t("closed");
  const at = new Date(a.next_open_at);
  const sameDay = at.toDateString() === now.toDateString();
  const when = new Intl.DateTimeFormat(current, sameDay
    ? { hour: "numeric", minute: "2-digit" }
    : { weekday: "short", hour: "numeric", minute: "2-digit" }).format(at);
  return `${t("closed")} · ${t("backAt", { when })}`;
}
