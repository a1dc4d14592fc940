// The conversation list's views and filters: what to ask the server for, and the same rule
// applied to live updates so a conversation enters or leaves the list without a reload.

import type { ConversationQuery } from "../api/client";
import type { Conversation, ConversationStatus } from "../api/types";

export type ViewName = "mine" | "unassigned" | "queued" | "bot" | "all" | "resolved";
export const VIEWS: ViewName[] = ["mine", "unassigned", "queued", "bot", "all", "resolved"];

const ACTIVE: ConversationStatus[] = ["bot", "queued", "open", "pending", "snoozed"];

export interface Filters {
  team_id?: string;
  inbox_id?: string;
  tag?: string;
  priority?: string;
  status?: ConversationStatus;
  q?: string;
}

export function viewQuery(view: ViewName, me: string, f: Filters): ConversationQuery {
  const base: ConversationQuery = {
    team_id: f.team_id,
    inbox_id: f.inbox_id,
    tag: f.tag,
    priority: f.priority,
    q: f.q,
  };
  // A status filter narrows (or, in a view of other statuses, replaces) the view's own.
  const statuses = (s: ConversationStatus[]): string[] => (f.status ? [f.status] : s);
  switch (view) {
    case "mine":
      return { ...base, assignee: me, status: statuses(["open", "pending", "snoozed"]) };
    case "unassigned":
      return { ...base, assignee: "none", status: statuses(["queued", "open", "pending"]) };
    case "queued":
      return { ...base, status: statuses(["queued"]) };
    case "bot":
      return { ...base, status: statuses(["bot"]) };
    case "resolved":
      return { ...base, status: statuses(["resolved"]) };
    case "all":
      return { ...base, status: statuses(ACTIVE) };
  }
}

/** Does a conversation belong in the view (as far as the client can tell without search)? */
export function inView(c: Conversation, view: ViewName, me: string, f: Filters): boolean {
  const q = viewQuery(view, me, f);
  if (q.status && !q.status.includes(c.status)) return false;
  if (q.assignee === "none" && c.assignee_id !== null) return false;
  if (q.assignee && q.assignee !== "none" && c.assignee_id !== q.assignee) return false;
  if (f.team_id && c.team_id !== f.team_id) return false;
  if (f.inbox_id && c.inbox_id !== f.inbox_id) return false;
  if (f.tag && !c.tags.includes(f.tag)) return false;
  if (f.priority && c.priority !== f.priority) return false;
  return true;
}

export function activityOf(c: Conversation): string {
  return c.last_message_at && c.last_message_at > c.updated_at ? c.last_message_at : c.updated_at;
}

/** Newest activity first, ties by id (as the server orders). */
export function byActivity(a: Conversation, b: Conversation): number {
  const x = activityOf(a);
  const y = activityOf(b);
  if (x !== y) return x < y ? 1 : -1;
  return a.id < b.id ? 1 : -1;
}

export function unread(c: Conversation): number {
  return Math.max(0, c.last_seq - c.agent_read_seq);
}
