// This agent's unread counts: the customer's messages after their own read position. The
// list's pages give the counts; live, a customer's message adds one unless the conversation
// is open in front of the agent, and opening one clears it.

import { useSyncExternalStore } from "react";
import type { ConversationListItem, KefuEvent } from "../api/types";

let counts: Record<string, number> = {};
let open: string | null = null;
const listeners = new Set<() => void>();
const emit = () => listeners.forEach((l) => l());

export const UNREAD_CAP = 99;

export function fromPage(items: ConversationListItem[]): void {
  counts = { ...counts, ...Object.fromEntries(items.map((c) => [c.id, c.unread_count])) };
  if (open && counts[open]) counts[open] = 0;
  emit();
}

/** The conversation in front of the agent: its count is cleared and stays so. */
export function setOpen(id: string | null): boolean {
  open = id;
  if (id && counts[id]) {
    counts = { ...counts, [id]: 0 };
    emit();
    return true;
  }
  return false;
}

export function onEvent(e: KefuEvent): void {
  if (e.type !== "message.created") return;
  const m = e.message;
  if (m.sender_kind !== "customer" || m.seq === null || m.conversation_id === open) return;
  counts = { ...counts, [m.conversation_id]: (counts[m.conversation_id] ?? 0) + 1 };
  emit();
}

export function unreadOf(id: string): number {
  return counts[id] ?? 0;
}

export function label(n: number): string {
  return n > UNREAD_CAP ? `${UNREAD_CAP}+` : String(n);
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useUnread(): Record<string, number> {
  return useSyncExternalStore(subscribe, () => counts);
}

export function resetUnread(): void {
  counts = {};
  open = null;
  emit();
}
