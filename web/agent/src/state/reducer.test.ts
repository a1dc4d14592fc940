import type { Conversation, Inbox, KefuEvent } from "../api/types";
import { apply, emptyState } from "./reducer";

const conv: Conversation = {
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

test("a conversation's changes land on it; the old state is untouched", () => {
  const s0 = apply(emptyState(), { type: "conversation.created", conversation: conv });
  const s1 = apply(s0, {
    type: "conversation.assigned",
    conversation_id: "c1",
    assignee: { id: "a1", name: "Li", avatar_url: null },
    status: "open",
    updated_at: "2026-01-01T00:01:00Z",
  });
  expect(s1.conversations["c1"]?.assignee_id).toBe("a1");
  expect(s1.conversations["c1"]?.status).toBe("open");
  expect(s0.conversations["c1"]?.assignee_id).toBeNull();
});

test("read positions only move forward; notes leave last_seq alone", () => {
  let s = apply(emptyState(), { type: "conversation.created", conversation: conv });
  s = apply(s, { type: "message.read", conversation_id: "c1", reader: "agent", seq: 1 });
  s = apply(s, { type: "message.read", conversation_id: "c1", reader: "agent", seq: 0 });
  expect(s.conversations["c1"]?.agent_read_seq).toBe(1);
  s = apply(s, {
    type: "message.created",
    conversation_status: "open",
    first_response_at: null,
    message: {
      id: "m9",
      conversation_id: "c1",
      seq: null,
      after_seq: 1,
      sender_kind: "agent",
      sender_id: "a1",
      sender_name: "Li",
      type: "note",
      content: "psst",
      payload: null,
      client_msg_id: null,
      delivery: "stored",
      delivery_error: null,
      created_at: "2026-01-01T00:02:00Z",
    },
  });
  expect(s.conversations["c1"]?.last_seq).toBe(1);
  expect(s.conversations["c1"]?.last_message_at).toBe(conv.last_message_at);
  expect(Object.keys(s.messages["c1"] ?? {})).toEqual(["m9"]);
});

test("events of unknown conversations and unknown types change nothing", () => {
  const s = emptyState();
  expect(apply(s, { type: "conversation.tags_changed", conversation_id: "x", tags: ["a"], updated_at: "t" })).toBe(s);
  const future = { type: "conversation.queue_updated", conversation_id: "x", position: 3 } as unknown as KefuEvent;
  expect(apply(s, future)).toBe(s);
});

test("team membership is kept on both sides", () => {
  let s = apply(emptyState(), {
    type: "agent.created",
    agent: { id: "a1", email: "a@x", name: "A", role: "agent", status: "offline", capacity: 20, active: true, team_ids: [], languages: [], avatar_url: null },
  });
  s = apply(s, { type: "team.created", team: { id: "t1", name: "T", member_ids: ["a1"] } });
  expect(s.agents["a1"]?.team_ids).toEqual(["t1"]);
  s = apply(s, { type: "agent.updated", agent: { ...s.agents["a1"]!, team_ids: [] } });
  expect(s.teams["t1"]?.member_ids).toEqual([]);
});

test("knowledge-base articles are created, replaced and deleted by their events", () => {
  const article = {
    id: "a1",
    title: "Parcel",
    answer: "<p>Track it</p>",
    questions: ["where is my parcel"],
    language: "en",
    category: "shipping",
    tags: [],
    enabled: true,
    created_at: "t",
    updated_at: "t",
  };
  const s0 = apply(emptyState(), { type: "kb.article_created", article });
  const s1 = apply(s0, { type: "kb.article_updated", article: { ...article, enabled: false } });
  expect(s1.articles["a1"]?.enabled).toBe(false);
  expect(s0.articles["a1"]?.enabled).toBe(true);
  const s2 = apply(s1, { type: "kb.article_deleted", article_id: "a1" });
  expect(s2.articles).toEqual({});
  expect(apply(s2, { type: "kb.article_deleted", article_id: "a1" })).toBe(s2);
});

test("inbox.updated brings the inbox's pre-chat form", () => {
  const inbox: Inbox = {
    id: "i1",
    name: "Web",
    channel: "web",
    key: "ik_1",
    team_id: null,
    require_identity: false,
    allowed_origins: [],
    greeting: null,
    widget: { color: "#1f6feb", text_color: "#ffffff", position: "right" },
    prechat: { fields: [] },
  };
  const s0 = apply(emptyState(), { type: "inbox.created", inbox });
  const field = { key: "phone", type: "phone" as const, required: true, label: { en: "Phone" }, options: [] };
  const s1 = apply(s0, { type: "inbox.updated", inbox: { ...inbox, prechat: { fields: [field] } } });
  expect(s1.inboxes.i1?.prechat.fields).toEqual([field]);
  expect(s0.inboxes.i1?.prechat.fields).toEqual([]);
});

test("a channel's refusal to follow the status is shown, then cleared", () => {
  let s = apply(emptyState(), { type: "conversation.created", conversation: conv });
  const refused = { status: "open" as const, reason: "wecom 95016: not allowed", at: "2026-01-01T00:02:00Z" };
  s = apply(s, { type: "conversation.channel_state_changed", conversation_id: "c1", refused });
  expect(s.conversations["c1"]?.channel_state_refused).toEqual(refused);
  s = apply(s, { type: "conversation.channel_state_changed", conversation_id: "c1", refused: null });
  expect(s.conversations["c1"]?.channel_state_refused).toBeNull();
});
