// The one event reducer of the agent app: a port of src/kefu/domain/state.py, kept in step by
// tests/web/test_reducer_parity.py (the same events, applied by both, must give the same state).
// Unlike the Python reducer it never mutates: it returns a new state, so React sees changes.

import type {
  Agent,
  Article,
  CannedReply,
  Contact,
  Conversation,
  Inbox,
  KefuEvent,
  Message,
  Notification,
  Team,
} from "../api/types";
import { previewOf } from "../inbox/triage";

export interface State {
  agents: Record<string, Agent>;
  teams: Record<string, Team>;
  inboxes: Record<string, Inbox>;
  contacts: Record<string, Contact>;
  conversations: Record<string, Conversation>;
  // conversation id -> message id -> message (notes have no seq, so ids are the key)
  messages: Record<string, Record<string, Message>>;
  canned_replies: Record<string, CannedReply>;
  notifications: Record<string, Notification>;
  articles: Record<string, Article>; // knowledge base (loaded by the administration screen)
}

export function emptyState(): State {
  return {
    agents: {},
    teams: {},
    inboxes: {},
    contacts: {},
    conversations: {},
    messages: {},
    canned_replies: {},
    notifications: {},
    articles: {},
  };
}

const sorted = (ids: Iterable<string>): string[] => [...new Set(ids)].sort();

const sameSet = (a: string[], b: string[]): boolean => {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
};

export function apply(state: State, event: KefuEvent): State {
  switch (event.type) {
    case "agent.created":
    case "agent.updated": {
      const agents = { ...state.agents, [event.agent.id]: event.agent };
      return { ...state, agents, teams: syncTeamsOfAgent(state.teams, event.agent) };
    }
    case "agent.status_changed": {
      const a = state.agents[event.agent_id];
      if (!a) return state;
      return { ...state, agents: { ...state.agents, [a.id]: { ...a, status: event.status } } };
    }
    case "team.created":
    case "team.updated": {
      const teams = { ...state.teams, [event.team.id]: event.team };
      return { ...state, teams, agents: syncAgentsOfTeam(state.agents, event.team) };
    }
    case "inbox.created":
    case "inbox.updated":
      return { ...state, inboxes: { ...state.inboxes, [event.inbox.id]: event.inbox } };
    case "canned_reply.saved": {
      const r = event.canned_reply;
      return { ...state, canned_replies: { ...state.canned_replies, [r.id]: r } };
    }
    case "canned_reply.deleted": {
      if (!(event.canned_reply_id in state.canned_replies)) return state;
      const { [event.canned_reply_id]: _gone, ...rest } = state.canned_replies;
      return { ...state, canned_replies: rest };
    }
    case "notification.created": {
      const n = event.notification;
      return { ...state, notifications: { ...state.notifications, [n.id]: n } };
    }
    case "notification.read": {
      const notifications = { ...state.notifications };
      for (const id of event.notification_ids) {
        const n = notifications[id];
        if (n) notifications[id] = { ...n, read_at: event.read_at };
      }
      return { ...state, notifications };
    }
    case "kb.article_created":
    case "kb.article_updated":
      return { ...state, articles: { ...state.articles, [event.article.id]: event.article } };
    case "kb.article_deleted": {
      if (!(event.article_id in state.articles)) return state;
      const { [event.article_id]: _gone, ...rest } = state.articles;
      return { ...state, articles: rest };
    }
    case "contact.created":
    case "contact.updated":
      return { ...state, contacts: { ...state.contacts, [event.contact.id]: event.contact } };
    case "contact.merged":
      return merge(state, event);
    case "conversation.created": {
      const c = event.conversation;
      return {
        ...state,
        conversations: { ...state.conversations, [c.id]: c },
        messages: { ...state.messages, [c.id]: state.messages[c.id] ?? {} },
      };
    }
    case "message.created":
      return message(state, event);
    case "message.delivery_changed": {
      const m = state.messages[event.conversation_id]?.[event.message_id];
      if (!m) return state;
      const changed = { ...m, delivery: event.delivery, delivery_error: event.delivery_error };
      const thread = { ...state.messages[event.conversation_id], [m.id]: changed };
      return { ...state, messages: { ...state.messages, [event.conversation_id]: thread } };
    }
    default:
      return conversationChange(state, event);
  }
}

export function applyAll(state: State, events: Iterable<KefuEvent>): State {
  let s = state;
  for (const e of events) s = apply(s, e);
  return s;
}

// Membership is one fact seen from two sides: keep the teams' side in step.
function syncTeamsOfAgent(teams: Record<string, Team>, agent: Agent): Record<string, Team> {
  let out = teams;
  for (const team of Object.values(teams)) {
    const members = new Set(team.member_ids);
    members.delete(agent.id);
    if (agent.team_ids.includes(team.id)) members.add(agent.id);
    if (!sameSet([...members], team.member_ids)) {
      if (out === teams) out = { ...teams };
      out[team.id] = { ...team, member_ids: sorted(members) };
    }
  }
  return out;
}

function syncAgentsOfTeam(agents: Record<string, Agent>, team: Team): Record<string, Agent> {
  let out = agents;
  for (const agent of Object.values(agents)) {
    const teamIds = new Set(agent.team_ids);
    teamIds.delete(team.id);
    if (team.member_ids.includes(agent.id)) teamIds.add(team.id);
    if (!sameSet([...teamIds], agent.team_ids)) {
      if (out === agents) out = { ...agents };
      out[agent.id] = { ...agent, team_ids: sorted(teamIds) };
    }
  }
  return out;
}

// The source's conversations and customer messages now name the merged contact.
function merge(state: State, event: Extract<KefuEvent, { type: "contact.merged" }>): State {
  const target = event.contact.id;
  const { [event.source_id]: _gone, ...rest } = state.contacts;
  const contacts = { ...rest, [target]: event.contact };
  const conversations = { ...state.conversations };
  const messages = { ...state.messages };
  for (const cid of event.conversation_ids) {
    const conv = conversations[cid];
    if (conv) conversations[cid] = { ...conv, contact_id: target };
    const thread = messages[cid];
    if (!thread) continue;
    const moved = { ...thread };
    for (const [mid, m] of Object.entries(thread)) {
      if (m.sender_kind === "customer" && m.sender_id === event.source_id) moved[mid] = { ...m, sender_id: target };
    }
    messages[cid] = moved;
  }
  return { ...state, contacts, conversations, messages };
}

function message(state: State, event: Extract<KefuEvent, { type: "message.created" }>): State {
  const m = event.message;
  const thread = { ...(state.messages[m.conversation_id] ?? {}), [m.id]: m };
  const next: State = { ...state, messages: { ...state.messages, [m.conversation_id]: thread } };
  const conv = state.conversations[m.conversation_id];
  if (!conv) return next;
  let updated: Conversation = { ...conv, updated_at: m.created_at, status: event.conversation_status };
  if (m.seq !== null) {
    updated = {
      ...updated,
      last_seq: Math.max(conv.last_seq, m.seq),
      last_message_at: m.created_at,
      last_message_preview: previewOf(m.content),
      last_message_sender_kind: m.sender_kind,
    };
    // An agent's or the bot's answer ends the customer's wait; their first unanswered
    // message starts it (kefu.domain.triage).
    if (m.sender_kind === "agent" || m.sender_kind === "bot") updated = { ...updated, waiting_since: null };
    else if (m.sender_kind === "customer" && !conv.waiting_since) updated = { ...updated, waiting_since: m.created_at };
  }
  if (event.first_response_at !== null && event.first_response_at !== undefined) {
    updated = { ...updated, first_response_at: event.first_response_at };
  }
  return { ...next, conversations: { ...state.conversations, [conv.id]: updated } };
}

function conversationChange(state: State, event: KefuEvent): State {
  if (!("conversation_id" in event) || event.type === "conversation.started") return state;
  const conv = state.conversations[event.conversation_id];
  if (!conv) return state;
  let update: Partial<Conversation>;
  switch (event.type) {
    case "message.read":
      update =
        event.reader === "customer"
          ? { customer_read_seq: Math.max(conv.customer_read_seq, event.seq) }
          : { agent_read_seq: Math.max(conv.agent_read_seq, event.seq) };
      break;
    case "conversation.assigned":
      update = {
        assignee_id: event.assignee ? event.assignee.id : null,
        status: event.status,
        updated_at: event.updated_at,
      };
      break;
    case "conversation.team_changed":
      update = { team_id: event.team_id, updated_at: event.updated_at };
      break;
    case "conversation.status_changed":
      update = {
        status: event.status,
        snoozed_until: event.snoozed_until,
        resolved_at: event.resolved_at,
        updated_at: event.updated_at,
        ...(event.status === "resolved" ? { waiting_since: null } : {}),
      };
      break;
    case "conversation.tags_changed":
      update = { tags: event.tags, updated_at: event.updated_at };
      break;
    case "conversation.priority_changed":
      update = { priority: event.priority, updated_at: event.updated_at };
      break;
    case "conversation.window_changed":
      update = { window: event.window };
      break;
    case "conversation.channel_state_changed":
      update = { channel_state_refused: event.refused };
      break;
    default:
      return state;
  }
  return { ...state, conversations: { ...state.conversations, [conv.id]: { ...conv, ...update } } };
}
