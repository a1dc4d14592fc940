// Messaging windows (WeChat Official Account, WeCom kf: docs/channels.md) and where else the
// contact can be reached when a conversation's window is closed. Pure; the view renders it.

import type { ChannelReach, Contact, Conversation, Inbox } from "../api/types";

/** Channels whose provider limits how long, and how often, a business may answer. */
export const WINDOWED = new Set(["wechat_oa", "wechat_kf"]);

export type WindowClosed = "no_window" | "expired" | "exhausted";

/** Why an agent cannot answer this conversation through its channel now, or null if they can
 *  (a channel without a window, or an open one). The server's rule (domain/window.py). */
export function windowClosed(conv: Conversation, inbox: Inbox | undefined, now: number): WindowClosed | null {
  if (!inbox || !WINDOWED.has(inbox.channel)) return null;
  const w = conv.window;
  if (!w) return "no_window";
  if (now >= Date.parse(w.closes_at)) return "expired";
  if (w.remaining <= 0) return "exhausted";
  return null;
}

/** One way to reach the contact instead: an existing conversation on another channel that can
 *  send now, or a new email conversation (an email inbox exists and the contact has none
 *  unresolved there). */
export type Suggestion =
  | { kind: "open"; conversationId: string; inboxName: string; channel: string }
  | { kind: "email"; inboxId: string; inboxName: string; to: string };

export function suggestions(reach: ChannelReach[], contact: Contact | undefined, inboxes: Inbox[]): Suggestion[] {
  const out: Suggestion[] = [];
  for (const r of reach) {
    if (r.current || !r.can_send) continue;
    out.push({ kind: "open", conversationId: r.conversation_id, inboxName: r.inbox_name, channel: r.channel });
  }
  const busy = new Set(reach.filter((r) => r.status !== "resolved" && r.channel === "email").map((r) => r.inbox_id));
  const to = contact?.email ?? contact?.identities.find((i) => i.kind === "email")?.value ?? "";
  for (const inbox of inboxes) {
    if (inbox.channel !== "email" || busy.has(inbox.id)) continue;
    out.push({ kind: "email", inboxId: inbox.id, inboxName: inbox.name, to });
  }
  return out;
}
