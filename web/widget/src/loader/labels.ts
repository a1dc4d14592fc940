// The loader's few strings (the chat page sends its own translations once it has loaded).
import { localeOf, type Locale } from "../app/lang";

export interface LoaderLabels {
  open: string;
  close: string;
  title: string;
  unread: (n: number) => string;
}

export const LABELS: Record<Locale, LoaderLabels> = {
  en: {
    open: "Open chat",
    close: "Close chat",
    title: "Chat",
    unread: (n) => `${n} unread`,
  },
  "zh-CN": {
    open: "打开聊天",
    close: "关闭聊天",
    title: "在线客服",
    unread: (n) => `${n} 条未读`,
  },
  ja: {
    open: "チャットを開く",
    close: "チャットを閉じる",
    title: "チャット",
    unread: (n) => `未読 ${n} 件`,
  },
};

/** The explicit choice, else the browser's languages, else the page's own `lang`. */
export function pickLocale(wanted: string | null): Locale {
  return localeOf([wanted, ...(navigator.languages ?? [navigator.language]), document.documentElement.lang]);
}
