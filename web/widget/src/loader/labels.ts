// The loader's few strings (the chat page sends its own translations once it has loaded).
export interface LoaderLabels {
  open: string;
  close: string;
  title: string;
  unread: (n: number) => string;
}

export const LABELS: Record<"en" | "zh-CN" | "ja", LoaderLabels> = {
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

export function pickLocale(wanted: string | null): "en" | "zh-CN" | "ja" {
  for (const tag of [wanted, ...(navigator.languages ?? [navigator.language])]) {
    const t = (tag ?? "").toLowerCase();
    if (t.startsWith("zh")) return "zh-CN";
    if (t.startsWith("ja")) return "ja";
    if (t.startsWith("en")) return "en";
  }
  return "en";
}
