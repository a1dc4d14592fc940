import type { Conversation, KefuEvent, Message } from "../api/types";
import { type Alert, Alerts } from "./alerts";
import { type State, apply, emptyState } from "./reducer";

const base: Conversation = {
  id: "c1",
  inbox_id: "i1",
  contact_id: "k1",
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
  updated_at: "2026-01-01T00:00:00Z",
  last_message_at: "2026-01-01T00:00:00Z",
  first_response_at: null,
  resolved_at: null,
  snoozed_until: null,
  window: null,
};

const msg = (conversation_id: string, content: string): KefuEvent => ({
  type: "message.created",
  message: {
    id: `m-${content}`,
    conversation_id,
    seq: 2,
    after_seq: null,
    sender_kind: "customer",
    sender_id: "k1",
    sender_name: "Ana",
    type: "text",
    content,
    payload: null,
    client_msg_id: null,
    delivery: "stored",
    delivery_error: null,
    created_at: "2026-01-01T00:02:00Z",
  } as Message,
  conversation_status: "open",
  first_response_at: null,
});

const assigned = (id: string, to: string | null): KefuEvent => ({
  type: "conversation.assigned",
  conversation_id: id,
  assignee: to ? { id: to, name: to, avatar_url: null } : null,
  status: to ? "open" : "queued",
  updated_at: "2026-01-01T00:01:00Z",
});

/** The session's wiring with a server that answers GET /conversations/{id} from `server`. */
function harness(server: Record<string, Conversation>, looking: string | null = null) {
  let state: State = emptyState();
  const alerts: Alert[] = [];
  const loads: string[] = [];
  const a = new Alerts({
    me: () => "me",
    state: () => state,
    load: async (id) => {
      loads.push(id);
      await new Promise((r) => setTimeout(r, 0)); // the network
      const c = server[id] ?? null;
      if (c) state = { ...state, conversations: { ...state.conversations, [id]: c } };
      return c;
    },
    looking: (id) => id === looking,
    alert: (x) => alerts.push(x),
  });
  const feed = (e: KefuEvent) => {
    const before = state;
    state = apply(state, e);
    a.observe(e, before);
  };
  return { feed, alerts, loads, set: (s: State) => (state = s) };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test("an assignment to me of a conversation not loaded alerts, loads it, and its messages alert", async () => {
  const h = harness({ c1: { ...base, assignee_id: "me", status: "open" } });
  h.feed(assigned("c1", "me"));
  expect(h.alerts).toEqual([{ kind: "assigned", conversationId: "c1" }]);
  await tick();
  await tick();
  expect(h.loads).toEqual(["c1"]);
  h.feed(msg("c1", "hello?"));
  expect(h.alerts[1]).toEqual({ kind: "message", conversationId: "c1", excerpt: "hello?" });
  // Handed to a colleague: its messages no longer alert me.
  h.feed(assigned("c1", "other"));
  h.feed(msg("c1", "still there?"));
  expect(h.alerts).toHaveLength(2);
});

test("messages in conversations not loaded and not mine never alert, nor cost a request", () => {
  const h = harness({ c9: { ...base, id: "c9", assignee_id: "other", status: "open" } });
  h.feed(msg("c9", "hi"));
  h.feed(assigned("c9", "other"));
  expect(h.alerts).toEqual([]);
  expect(h.loads).toEqual([]);
});

test("a resolved conversation of mine, not loaded, reopened by the customer alerts once looked up", async () => {
  const h = harness({ c2: { ...base, id: "c2", assignee_id: "me", status: "open" } });
  h.feed({
    type: "conversation.status_changed",
    conversation_id: "c2",
    status: "open",
    previous: "resolved",
    snoozed_until: null,
    resolved_at: null,
    updated_at: "2026-01-01T00:02:00Z",
  });
  h.feed(msg("c2", "back again"));
  expect(h.alerts).toEqual([]);
  await tick();
  await tick();
  expect(h.loads).toEqual(["c2"]);
  expect(h.alerts).toEqual([{ kind: "message", conversationId: "c2", excerpt: "back again" }]);
});

test("no alert for the conversation I am looking at, nor for a re-assignment to me", () => {
  const h = harness({}, "c3");
  h.set(apply(emptyState(), { type: "conversation.created", conversation: { ...base, id: "c3", assignee_id: "me", status: "open" } }));
  h.feed(msg("c3", "seen"));
  h.feed(assigned("c3", "me"));
  expect(h.alerts).toEqual([]);
});
