// The shapes the server sends (src/kefu/domain/views.py and events/). Ids and times are
// strings, exactly as they travel.

export type Role = "agent" | "supervisor" | "admin";
export type AgentStatus = "online" | "away" | "offline";
export type ConversationStatus = "bot" | "queued" | "open" | "pending" | "snoozed" | "resolved";
export type Priority = "low" | "normal" | "high" | "urgent";
export type SenderKind = "customer" | "agent" | "bot" | "system";
export type MessageType =
  | "text"
  | "image"
  | "file"
  | "audio"
  | "video"
  | "location"
  | "card"
  | "menu"
  | "note";

export interface AgentRef {
  id: string;
  name: string;
  avatar_url: string | null;
}

export interface Agent {
  id: string;
  email: string;
  name: string;
  role: Role;
  status: AgentStatus;
  capacity: number;
  active: boolean;
  team_ids: string[];
  languages: string[];
  avatar_url: string | null;
}

export interface Team {
  id: string;
  name: string;
  member_ids: string[];
}

export interface WidgetStyle {
  color: string;
  text_color: string;
  position: "right" | "left";
}

export interface Inbox {
  id: string;
  name: string;
  channel: string;
  key: string;
  team_id: string | null;
  require_identity: boolean;
  allowed_origins: string[];
  greeting: string | null;
  widget: WidgetStyle;
  prechat: PrechatForm;
  /** The greeting and out-of-hours text per language tag (docs/widget.md). */
  greetings?: Record<string, string>;
  away_messages?: Record<string, string>;
  collect_context?: "off" | "basic" | "full";
}

export type PrechatFieldType = "text" | "textarea" | "email" | "phone" | "number" | "select" | "checkbox";

/** An inbox's pre-chat form (docs/widget.md): labels keyed by language tag. */
export interface PrechatField {
  key: string;
  type: PrechatFieldType;
  required: boolean;
  label: Record<string, string>;
  options: { value: string; label: Record<string, string> }[];
}

export interface PrechatForm {
  fields: PrechatField[];
}

export interface Identity {
  kind: string;
  value: string;
  /** Proven by a channel or a signed identity claim; false: linked by hand. */
  verified?: boolean;
}

export interface Contact {
  id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  identities: Identity[];
  /** Trusted: set by agents or the admin API; routing rules match these. */
  attributes: Record<string, unknown>;
  created_at: string;
  /** Written by the customer (client API, pre-chat form): claims. */
  customer_attributes?: Record<string, unknown>;
  /** What the visitor's browser last reported (a claim), as far as the inbox collects it. */
  context?: VisitorContext | null;
}

export interface VisitorContext {
  page_url?: string | null;
  page_title?: string | null;
  referrer?: string | null;
  locale?: string | null;
  time_zone?: string | null;
  browser?: string | null;
  os?: string | null;
  updated_at?: string | null;
}

export interface Window {
  opened_by: "message" | "event";
  closes_at: string;
  remaining: number;
}

/** The provider does not follow the conversation's status (WeCom kf's service_state): why. */
export interface ChannelStateRefusal {
  status: ConversationStatus;
  reason: string;
  at: string;
}

export interface Conversation {
  id: string;
  inbox_id: string;
  contact_id: string;
  status: ConversationStatus;
  assignee_id: string | null;
  team_id: string | null;
  priority: Priority;
  tags: string[];
  source: string | null;
  last_seq: number;
  customer_read_seq: number;
  agent_read_seq: number;
  created_at: string;
  updated_at: string;
  last_message_at: string | null;
  first_response_at: string | null;
  resolved_at: string | null;
  snoozed_until: string | null;
  window: Window | null;
  channel_state_refused?: ChannelStateRefusal | null;
  queued_at?: string | null;
  first_response_due_at?: string | null;
  sla_breached_at?: string | null;
  // The list's row (kept by the reducer from message and status events).
  last_message_preview?: string | null;
  last_message_sender_kind?: SenderKind | null;
  waiting_since?: string | null;
}

/** A conversation as the list gives it to one agent (GET /conversations). */
export interface ConversationListItem extends Conversation {
  contact_name: string | null;
  visitor_name: string;
  unread_count: number;
}

export type ListSort = "activity" | "waiting" | "priority";

export interface SavedViewFilters {
  status?: ConversationStatus[];
  assignee?: "me" | "none" | string | null;
  team_id?: string | null;
  inbox_id?: string | null;
  tag?: string | null;
  priority?: Priority | null;
}

export interface SavedView {
  id: string;
  name: string;
  filters: SavedViewFilters;
  sort: ListSort;
  created_at: string;
  updated_at: string;
}

export interface BulkResult {
  conversation_id: string;
  ok: boolean;
  code: string | null;
  conversation: Conversation | null;
}

/** Where a conversation's contact can be reached (GET /conversations/{id}/channels). */
export interface ChannelReach {
  conversation_id: string;
  inbox_id: string;
  inbox_name: string;
  channel: string;
  status: ConversationStatus;
  current: boolean;
  window: Window | null;
  can_send: boolean;
  reason: string | null;
  last_message_at: string | null;
}

export interface Message {
  id: string;
  conversation_id: string;
  seq: number | null;
  after_seq: number | null;
  sender_kind: SenderKind;
  sender_id: string | null;
  sender_name: string | null;
  type: MessageType;
  content: string;
  payload: Record<string, unknown> | null;
  client_msg_id: string | null;
  delivery: string;
  delivery_error: string | null;
  created_at: string;
}

export type AttachmentKind = "image" | "file" | "audio" | "video";

/** An uploaded file (docs/attachments.md): the links are signed and expire. */
export interface Attachment {
  attachment_id: string;
  conversation_id: string;
  name: string;
  mime: string;
  size: number;
  kind: AttachmentKind;
  width?: number | null;
  height?: number | null;
  duration_ms?: number | null;
  thumbnail?: boolean | null;
  url: string;
  thumbnail_url: string | null;
  expires_at: number;
}

export interface Article {
  id: string;
  title: string;
  answer: string; // sanitised HTML
  questions: string[];
  language: string;
  category: string;
  tags: string[];
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

export type ArticleInput = Omit<Article, "id" | "created_at" | "updated_at">;

export interface EntryLink {
  id: string;
  inbox_id: string;
  source: string;
  label: string | null;
  url: string;
  qr_png: string;
  qr_svg: string;
}

export interface CannedReply {
  id: string;
  shortcut: string;
  title: string;
  content: string;
  created_by: string | null;
  updated_at: string;
}

export interface Notification {
  id: string;
  agent_id: string;
  kind: "mention";
  conversation_id: string | null;
  message_id: string | null;
  by_agent_id: string | null;
  by_name: string | null;
  excerpt: string;
  created_at: string;
  read_at: string | null;
}

export type KefuEvent =
  | { type: "agent.created"; agent: Agent }
  | { type: "agent.updated"; agent: Agent }
  | { type: "agent.status_changed"; agent_id: string; status: AgentStatus }
  | { type: "team.created"; team: Team }
  | { type: "team.updated"; team: Team }
  | { type: "inbox.created"; inbox: Inbox }
  | { type: "inbox.updated"; inbox: Inbox }
  | { type: "contact.created"; contact: Contact }
  | { type: "contact.updated"; contact: Contact }
  | { type: "contact.merged"; source_id: string; contact: Contact; conversation_ids: string[] }
  | { type: "conversation.created"; conversation: Conversation }
  | {
      type: "conversation.started";
      conversation_id: string;
      inbox_id: string;
      status: ConversationStatus;
      created_at: string;
    }
  | {
      type: "message.created";
      message: Message;
      conversation_status: ConversationStatus;
      first_response_at: string | null;
    }
  | { type: "message.read"; conversation_id: string; reader: SenderKind; seq: number }
  | {
      type: "conversation.assigned";
      conversation_id: string;
      assignee: AgentRef | null;
      status: ConversationStatus;
      updated_at: string;
    }
  | {
      type: "conversation.team_changed";
      conversation_id: string;
      team_id: string | null;
      updated_at: string;
    }
  | {
      type: "conversation.status_changed";
      conversation_id: string;
      status: ConversationStatus;
      previous: ConversationStatus;
      snoozed_until: string | null;
      resolved_at: string | null;
      updated_at: string;
    }
  | { type: "conversation.tags_changed"; conversation_id: string; tags: string[]; updated_at: string }
  | {
      type: "conversation.priority_changed";
      conversation_id: string;
      priority: Priority;
      updated_at: string;
    }
  | { type: "session.revoked"; session_ids: string[] }
  | {
      type: "message.delivery_changed";
      conversation_id: string;
      message_id: string;
      delivery: string;
      delivery_error: string | null;
    }
  | { type: "conversation.window_changed"; conversation_id: string; window: Window | null }
  | { type: "conversation.channel_state_changed"; conversation_id: string; refused: ChannelStateRefusal | null }
  | {
      type: "conversation.email_started";
      conversation_id: string;
      from_conversation_id: string;
      inbox_id: string;
      to: string;
      subject: string;
      started_by: string;
    }
  | {
      type: "inbox.channel_configured";
      inbox_id: string;
      channel: string;
      settings: Record<string, unknown>;
      secrets_set: string[];
    }
  | { type: "canned_reply.saved"; canned_reply: CannedReply }
  | { type: "canned_reply.deleted"; canned_reply_id: string }
  | { type: "notification.created"; notification: Notification }
  | { type: "notification.read"; agent_id: string; notification_ids: string[]; read_at: string }
  | { type: "kb.article_created"; article: Article }
  | { type: "kb.article_updated"; article: Article }
  | { type: "kb.article_deleted"; article_id: string };

export interface ConversationPage {
  items: ConversationListItem[];
  next_cursor: string | null;
}
