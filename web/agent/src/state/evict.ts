// Keeping the store bounded over an eight-hour session. Every agent receives every new
// conversation and message of the workspace, and the list loads pages as it scrolls, so
// without this the store only grows. What is kept: the conversations in the list on screen,
// the open one, every unresolved conversation assigned to me (my load, and my alerts, need
// them), and the `max` most recently active of the others; threads only of the conversations
// opened last (a thread is fetched again when its conversation opens); contacts only of the
// conversations kept.

import type { State } from "./reducer";
import { byActivity } from "./views";

export const MAX_OTHER_CONVERSATIONS = 300;
export const MAX_THREADS = 10;

export interface Keep {
  me: string | null;
  open: string | null;
  listed: Iterable<string>; // the list's rows, in the view and filters on screen
  threads: Iterable<string>; // conversations opened last, the open one first
}

export interface Evicted {
  state: State;
  contacts: string[]; // contact ids dropped (to be fetched again when needed)
}

export function evict(s: State, keep: Keep, max = MAX_OTHER_CONVERSATIONS, maxThreads = MAX_THREADS): Evicted {
  const pinned = new Set<string>(keep.listed);
  if (keep.open) pinned.add(keep.open);
  const others = Object.values(s.conversations).filter(
    (c) => !pinned.has(c.id) && !(c.assignee_id === keep.me && c.status !== "resolved"),
  );
  const threads = new Set([...keep.threads].slice(0, maxThreads));
  if (keep.open) threads.add(keep.open);
  const extraThreads = Object.keys(s.messages).some((id) => !threads.has(id));
  if (others.length <= max && !extraThreads) return { state: s, contacts: [] };

  let conversations = s.conversations;
  if (others.length > max) {
    conversations = { ...s.conversations };
    for (const c of others.sort(byActivity).slice(max)) delete conversations[c.id];
  }
  const messages: State["messages"] = {};
  for (const id of threads) {
    const thread = s.messages[id];
    if (thread) messages[id] = thread;
  }
  const used = new Set(Object.values(conversations).map((c) => c.contact_id));
  const contacts: State["contacts"] = {};
  const dropped: string[] = [];
  for (const [id, contact] of Object.entries(s.contacts)) {
    if (used.has(id)) contacts[id] = contact;
    else dropped.push(id);
  }
  return { state: { ...s, conversations, messages, contacts }, contacts: dropped };
}
