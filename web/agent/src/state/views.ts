// The conversation list's views and filters: what to ask the server for, and the same rule
// applied to live updates so a conversation enters or leaves the list without a reload.

import type { ConversationQuery } from "../api/client";
import type { Conversation, ConversationStatus, ListSort, SavedView, SavedViewFilters } from "../api/types";

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
  sort?: ListSort;
}

export function viewQuery(view: ViewName, me: string, f: Filters): ConversationQuery {
  const base: ConversationQuery = {
    team_id: f.team_id,
    inbox_id: f.inbox_id,
    tag: f.tag,
    priority: f.priority,
    q: f.q,
    sort: f.sort && f.sort !== "activity" && !f.q ? f.sort : undefined,
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
  return matches(c, viewQuery(view, me, f));
}

/** Does a conversation match the query the list asked the server (search aside)? */
export function matches(c: Conversation, q: ConversationQuery): boolean {
  if (q.status && q.status.length && !q.status.includes(c.status)) return false;
  if (q.assignee === "none" && c.assignee_id !== null) return false;
  if (q.assignee && q.assignee !== "none" && c.assignee_id !== q.assignee) return false;
  if (q.team_id && c.team_id !== q.team_id) return false;
  if (q.inbox_id && c.inbox_id !== q.inbox_id) return false;
  if (q.tag && !c.tags.includes(q.tag)) return false;
  if (q.priority && c.priority !== q.priority) return false;
  if (q.sort === "waiting" && !c.waiting_since) return false; // that order lists only the waiting
  return true;
}

/** What a saved view asks the server ("me" is the agent looking). */
export function savedQuery(v: SavedView, me: string, q?: string): ConversationQuery {
  const f = v.filters;
  const assignee = f.assignee === "me" ? me : (f.assignee ?? undefined);
  return {
    status: f.status && f.status.length ? f.status : undefined,
    assignee,
    team_id: f.team_id ?? undefined,
    inbox_id: f.inbox_id ?? undefined,
    tag: f.tag ?? undefined,
    priority: f.priority ?? undefined,
    q,
    sort: v.sort !== "activity" && !q ? v.sort : undefined,
  };
}

/** The view and filters on screen, as a saved view's filters. */
export function toSaved(view: ViewName, me: string, f: Filters): SavedViewFilters {
  const q = viewQuery(view, me, f);
  const out: SavedViewFilters = { status: (q.status ?? []) as ConversationStatus[] };
  if (q.assignee) out.assignee = q.assignee === me ? "me" : q.assignee;
  if (f.team_id) out.team_id = f.team_id;
  if (f.inbox_id) out.inbox_id = f.inbox_id;
  if (f.tag) out.tag = f.tag;
  if (f.priority) out.priority = f.priority as SavedViewFilters["priority"];
  return out;
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
