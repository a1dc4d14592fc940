import type { Message } from "../api/types";

/** The agents' thread order: a message at 2·seq, a note right after the message it follows. */
export function sortKey(m: Message): number {
  return m.seq !== null ? 2 * m.seq : 2 * (m.after_seq ?? 0) + 1;
}

export function threadOf(messages: Record<string, Message> | undefined): Message[] {
  return Object.values(messages ?? {}).sort(
    (a, b) => sortKey(a) - sortKey(b) || (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : 1),
  );
}
