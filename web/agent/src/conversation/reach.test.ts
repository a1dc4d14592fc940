import type { ChannelReach, Contact, Conversation, Inbox } from "../api/types";
import { suggestions, windowClosed } from "./reach";

const now = Date.parse("2026-03-01T12:00:00Z");
const conv = (window: Conversation["window"]) => ({ id: "c1", inbox_id: "wx", window }) as Conversation;
const inbox = (id: string, channel: string, name = id) => ({ id, channel, name }) as Inbox;

test("a window is closed when absent, expired or spent, and only on channels that have one", () => {
  const wx = inbox("wx", "wechat_oa");
  const open = { opened_by: "message" as const, closes_at: "2026-03-01T13:00:00Z", remaining: 2 };
  expect(windowClosed(conv(open), wx, now)).toBeNull();
  expect(windowClosed(conv(null), wx, now)).toBe("no_window");
  expect(windowClosed(conv({ ...open, closes_at: "2026-03-01T12:00:00Z" }), wx, now)).toBe("expired");
  expect(windowClosed(conv({ ...open, remaining: 0 }), wx, now)).toBe("exhausted");
  expect(windowClosed(conv(null), inbox("kf", "wechat_kf"), now)).toBe("no_window");
  expect(windowClosed(conv(null), inbox("web", "web"), now)).toBeNull();
  expect(windowClosed(conv(null), undefined, now)).toBeNull();
});

const reach = (over: Partial<ChannelReach>): ChannelReach => ({
  conversation_id: "c1",
  inbox_id: "wx",
  inbox_name: "WeChat",
  channel: "wechat_oa",
  status: "open",
  current: true,
  window: null,
  can_send: false,
  reason: "window_closed: …",
  last_message_at: null,
  ...over,
});

test("suggestions: other conversations that can send, then email inboxes without an open one", () => {
  const contact = { id: "k", email: null, identities: [{ kind: "email", value: "ana@cust.test" }] } as unknown as Contact;
  const inboxes = [inbox("wx", "wechat_oa"), inbox("mail", "email", "Mail"), inbox("mail2", "email", "Sales"), inbox("tg", "telegram")];
  const list = [
    reach({}),
    reach({ conversation_id: "c2", inbox_id: "tg", inbox_name: "Telegram", channel: "telegram", current: false, can_send: true, reason: null }),
    reach({ conversation_id: "c3", inbox_id: "web", inbox_name: "Site", channel: "web", current: false, can_send: false }),
    reach({ conversation_id: "c4", inbox_id: "mail2", inbox_name: "Sales", channel: "email", current: false, can_send: true, reason: null, status: "pending" }),
  ];
  expect(suggestions(list, contact, inboxes)).toEqual([
    { kind: "open", conversationId: "c2", inboxName: "Telegram", channel: "telegram" },
    { kind: "open", conversationId: "c4", inboxName: "Sales", channel: "email" },
    { kind: "email", inboxId: "mail", inboxName: "Mail", to: "ana@cust.test" },
  ]);
  // A resolved email conversation does not stop a new one; no address known: the agent types one.
  const resolved = [reach({}), reach({ conversation_id: "c5", inbox_id: "mail", channel: "email", current: false, can_send: true, status: "resolved" })];
  expect(suggestions(resolved, undefined, [inbox("mail", "email", "Mail")])).toEqual([
    { kind: "open", conversationId: "c5", inboxName: "WeChat", channel: "email" },
    { kind: "email", inboxId: "mail", inboxName: "Mail", to: "" },
  ]);
  expect(suggestions([reach({})], contact, [inbox("wx", "wechat_oa")])).toEqual([]);
});
