import type { Contact, Conversation, Message } from "../api/types";
import { evict } from "./evict";
import { type State, emptyState } from "./reducer";

const conv = (i: number, over: Partial<Conversation> = {}): Conversation => ({
  id: `c${i}`,
  inbox_id: "i1",
  contact_id: `k${i}`,
  status: "queued",
  assignee_id: null,
  team_id: null,
  priority: "normal",
  tags: [],
  source: null,
  last_seq: 1,
  customer_read_seq: 0,
  agent_read_seq: 0,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  last_message_at: null,
  first_response_at: null,
  resolved_at: null,
  snoozed_until: null,
  window: null,
  ...over,
});

function big(n: number): State {
  const s = emptyState();
  for (let i = 0; i < n; i++) {
    const c = conv(i, i % 100 === 0 ? { assignee_id: "me", status: "open" } : {});
    s.conversations[c.id] = c;
    s.contacts[c.contact_id] = { id: c.contact_id } as Contact;
    s.messages[c.id] = { [`m${i}`]: { id: `m${i}` } as Message };
  }
  return s;
}

test("an eight-hour session stays bounded: the list, the open one, mine and the newest others are kept", () => {
  const s = big(5000);
  const listed = ["c10", "c11", "c12"];
  const { state, contacts } = evict(s, { me: "me", open: "c7", listed, threads: ["c7", "c11", "c4999"] }, 300, 10);
  const ids = new Set(Object.keys(state.conversations));
  // 3 listed + the open one + 50 of mine + the 300 most recently active of the rest.
  expect(ids.size).toBe(3 + 1 + 50 + 300);
  for (const id of [...listed, "c7", "c0", "c100", "c4900", "c4999", "c4697"]) expect(ids.has(id)).toBe(true);
  expect(ids.has("c4696")).toBe(false);
  expect(ids.has("c13")).toBe(false);
  expect(Object.keys(state.messages).sort()).toEqual(["c11", "c4999", "c7"]);
  expect(Object.keys(state.contacts)).toHaveLength(ids.size);
  expect(contacts).toHaveLength(5000 - ids.size);
  expect(Object.keys(s.conversations)).toHaveLength(5000); // the old state is untouched
});

test("a state within bounds is returned as it is", () => {
  const s = big(50);
  const kept = evict(s, { me: "me", open: null, listed: [], threads: Object.keys(s.messages) }, 300, 100);
  expect(kept.state).toBe(s);
  expect(kept.contacts).toEqual([]);
});

test("resolved conversations of mine are not pinned", () => {
  const s = emptyState();
  for (let i = 0; i < 5; i++) s.conversations[`c${i}`] = conv(i, { assignee_id: "me", status: "resolved" });
  const { state } = evict(s, { me: "me", open: null, listed: [], threads: [] }, 2);
  expect(Object.keys(state.conversations).sort()).toEqual(["c3", "c4"]);
});
