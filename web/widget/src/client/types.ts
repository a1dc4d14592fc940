// The shapes of kefu's client API (docs/api.md, docs/realtime.md, docs/messages.md).

export type SenderKind = "customer" | "agent" | "bot" | "system";
export type ConversationStatus = "bot" | "queued" | "open" | "pending" | "snoozed" | "resolved";
export type JsonObject = { [key: string]: unknown };

export interface Message {
  id: string;
  conversation_id: string;
  seq: number | null;
  after_seq: number | null;
  sender_kind: SenderKind;
  sender_id: string | null;
  sender_name: string | null;
  type: string;
  content: string;
  payload: JsonObject | null;
  client_msg_id: string | null;
  delivery: string;
  created_at: string;
}

/** The agent who answers: name, avatar, and the public ID customers can check at /verify. */
export interface AgentRef {
  id: string;
  name: string;
  avatar_url: string | null;
  public_id: string | null;
}

export interface Conversation {
  id: string;
  inbox_id: string;
  status: ConversationStatus;
  assignee: AgentRef | null;
  last_seq: number;
  customer_read_seq: number;
  agent_read_seq: number;
  created_at: string;
}

/** One field of an inbox's pre-chat form; `label` is keyed by language (`en`, `zh-CN`, `ja`). */
export interface PrechatField {
  key: string;
  type: "text" | "textarea" | "email" | "phone" | "number" | "select" | "checkbox";
  required: boolean;
  label: Record<string, string>;
  options: { value: string; label: Record<string, string> }[];
}

export type PrechatValue = string | number | boolean | null;

/** What the widget reports of its visitor: `off` nothing, `basic` locale and time zone,
 * `full` also the page and referrer (browser and system the server reads itself). */
export type CollectContext = "off" | "basic" | "full";

export interface InboxInfo {
  id: string;
  name: string;
  /** In the session's language (its fallbacks), else the inbox's default. */
  greeting: string | null;
  /** The inbox's pre-chat form (no fields: none). */
  prechat?: { fields: PrechatField[] };
  /** Every language's greeting and out-of-hours text, by language tag. */
  greetings?: Record<string, string>;
  /** The greeting of a language without its own. */
  default_greeting?: string | null;
  away_message?: string | null;
  away_messages?: Record<string, string>;
  collect_context?: CollectContext;
}

export interface VisitorContext {
  page_url?: string;
  page_title?: string;
  referrer?: string;
  locale?: string;
  time_zone?: string;
}

/** Whether a person answers now: `away` (with the team's typical first reply when known) or
 * `closed` (out of hours, with when a person answers next). */
export interface Availability {
  status: "online" | "away" | "closed";
  typical_reply_seconds: number | null;
  next_open_at: string | null;
}

export interface SessionInfo {
  token: string;
  visitor_token: string;
  contact_id: string;
  verified: boolean;
  inbox: InboxInfo;
}

/** `conversation.queue_updated`: where the customer stands while waiting for an agent. */
export interface QueueInfo {
  conversation_id: string;
  position: number | null;
  expected_wait_seconds: number | null;
  open_now?: boolean | null;
  next_open_at?: string | null;
}

export interface Attachment {
  attachment_id: string;
  name: string;
  mime: string;
  size: number;
  width?: number;
  height?: number;
  duration_ms?: number;
  thumbnail?: boolean;
  url?: string;
  thumbnail_url?: string | null;
  expires_at?: string;
}

/** A signed-in user your backend vouches for: an HMAC of the id, or a JWT. */
export type UserClaim =
  | { id: string; name?: string; email?: string; hash: string }
  | { jwt: string };

/** One line of the thread as the UI shows it: stored messages and the customer's own
 * messages still on their way, under a key that stays the same once they are stored. */
export interface ChatItem {
  key: string;
  id: string | null;
  seq: number | null;
  sender_kind: SenderKind;
  sender_name: string | null;
  type: string;
  content: string;
  payload: JsonObject | null;
  created_at: string;
  status: "sending" | "sent" | "failed";
  error: string | null;
}

export type Connection = "idle" | "connecting" | "online" | "reconnecting" | "offline" | "error";
