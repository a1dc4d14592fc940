import type { ConversationListItem, KefuEvent, Message } from "../api/types";
import { fromPage, label, onEvent, resetUnread, setOpen, unreadOf } from "./unread";

const msg = (conversation_id: string, sender_kind: Message["sender_kind"], seq: number | null = 1): KefuEvent =>
  ({
    type: "message.created",
    conversation_status: "open",
    message: { id: `m${Math.random()}`, conversation_id, seq, sender_kind, content: "x", created_at: "2026-01-01T00:00:00Z" },
  }) as unknown as KefuEvent;

test("a customer's message counts unless its conversation is open; opening clears", () => {
  resetUnread();
  fromPage([{ id: "a", unread_count: 2 } as ConversationListItem, { id: "b", unread_count: 0 } as ConversationListItem]);
  expect(unreadOf("a")).toBe(2);
  onEvent(msg("b", "customer"));
  onEvent(msg("b", "agent"));
  onEvent(msg("b", "customer", null)); // a note is not the customer's
  expect(unreadOf("b")).toBe(1);
  expect(setOpen("a")).toBe(true); // the list tells the server it was read
  expect(unreadOf("a")).toBe(0);
  onEvent(msg("a", "customer"));
  expect(unreadOf("a")).toBe(0);
  expect(setOpen("b")).toBe(true);
  expect(setOpen("b")).toBe(false); // nothing left to clear
  expect(label(100)).toBe("99+");
  expect(label(7)).toBe("7");
});
