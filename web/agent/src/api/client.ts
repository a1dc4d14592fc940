// A small typed client for the agent API (/api/v1). Signed in with the HttpOnly session
// cookie; errors carry the server's stable code.

import type {
  Agent,
  Article,
  ArticleInput,
  Attachment,
  CannedReply,
  ChannelReach,
  Contact,
  Conversation,
  BulkResult,
  ConversationPage,
  ListSort,
  SavedView,
  SavedViewFilters,
  EntryLink,
  Inbox,
  Message,
  Notification,
  PrechatForm,
  Team,
} from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | boolean | string[] | undefined | null>;

function qs(query: Query | undefined): string {
  if (!query) return "";
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v)) v.forEach((x) => p.append(k, x));
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : "";
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  query?: Query,
): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const r = await fetchRetrying503(`/api/v1${path}${qs(query)}`, init);
  if (r.status === 204) return undefined as T;
  const data: unknown = await r.json().catch(() => null);
  if (!r.ok) throw errorOf(r.status, data, r.statusText);
  return data as T;
}

/** How long a request keeps being retried while the server answers 503 `unavailable` (its
 *  database is away for now; nothing was stored). The same body goes again, so a message keeps
 *  its `client_msg_id` and is stored once. */
export const UNAVAILABLE_RETRY_MS = 30_000;

async function fetchRetrying503(url: string, init: RequestInit): Promise<Response> {
  const deadline = Date.now() + UNAVAILABLE_RETRY_MS;
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(url, init);
    const backoff = Math.min(8000, 250 * 2 ** attempt);
    const after = Number(r.headers.get("retry-after") ?? "1") * 1000;
    const wait = Math.max(backoff, Number.isFinite(after) ? Math.min(after, 30_000) : 1000);
    if (r.status !== 503 || Date.now() + wait > deadline) return r;
    await new Promise((resolve) => setTimeout(resolve, wait * (0.75 + Math.random() / 2)));
  }
}

function errorOf(status: number, data: unknown, fallback: string): ApiError {
  const err = (data as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
  return new ApiError(status, err?.code ?? "error", err?.message ?? fallback, err?.details);
}

export interface Upload {
  done: Promise<Attachment>;
  abort: () => void;
}

/** Uploads one file into a conversation (multipart, field `file`), reporting progress from 0
 *  to 1. XMLHttpRequest, because fetch cannot report upload progress. A request that dies
 *  without an answer (the connection cut, e.g. a body over the limit) is status 0. */
export function uploadFile(conversationId: string, file: File, onProgress: (p: number) => void): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<Attachment>((resolve, reject) => {
    xhr.open("POST", `/api/v1/conversations/${conversationId}/attachments`);
    xhr.withCredentials = true;
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status === 201) resolve(xhr.response as Attachment);
      else reject(errorOf(xhr.status, xhr.response, xhr.statusText));
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "the upload did not go through"));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "cancelled"));
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

export interface ConversationQuery {
  status?: string[];
  assignee?: string;
  team_id?: string;
  inbox_id?: string;
  contact_id?: string;
  tag?: string;
  priority?: string;
  q?: string;
  cursor?: string;
  limit?: number;
  sort?: ListSort;
}

export const api = {
  login: (email: string, password: string, otp?: string) =>
    request<{ token: string; agent: Agent; workspace_id: string }>("POST", "/auth/login", {
      email,
      password,
      ...(otp ? { otp } : {}),
    }),
  logout: () => request<void>("POST", "/auth/logout"),
  me: () => request<Agent>("GET", "/auth/me"),
  ticket: () => request<{ subprotocol: string }>("POST", "/realtime/ticket"),
  setStatus: (status: string) => request<unknown>("POST", "/agents/me/status", { status }),
  agents: () => request<Agent[]>("GET", "/agents"),
  teams: () => request<Team[]>("GET", "/teams"),
  inboxes: () => request<Inbox[]>("GET", "/inboxes"),
  conversations: (q: ConversationQuery) =>
    request<ConversationPage>("GET", "/conversations", undefined, { ...q }),
  conversation: (id: string) => request<Conversation>("GET", `/conversations/${id}`),
  messages: (id: string, before?: number) =>
    request<{ items: Message[] }>("GET", `/conversations/${id}/messages`, undefined, {
      before_seq: before,
      limit: 100,
    }),
  send: (id: string, body: { content: string; type?: string; payload?: unknown; client_msg_id: string }) =>
    request<{ message: Message; duplicate: boolean }>("POST", `/conversations/${id}/messages`, body),
  assign: (id: string, assignee_id: string | null, team_id?: string | null) =>
    request<Conversation>("POST", `/conversations/${id}/assign`, {
      assignee_id,
      ...(team_id !== undefined ? { team_id } : {}),
    }),
  transfer: (id: string, body: { agent_id?: string; team_id?: string; comment: string }) =>
    request<unknown>("POST", `/conversations/${id}/transfer`, body),
  setStatusOf: (id: string, status: string, snoozed_until?: string) =>
    request<Conversation>("POST", `/conversations/${id}/status`, {
      status,
      ...(snoozed_until ? { snoozed_until } : {}),
    }),
  setPriority: (id: string, priority: string) =>
    request<Conversation>("POST", `/conversations/${id}/priority`, { priority }),
  setTags: (id: string, tags: string[]) =>
    request<Conversation>("PUT", `/conversations/${id}/tags`, { tags }),
  channels: (id: string) => request<ChannelReach[]>("GET", `/conversations/${id}/channels`),
  startEmail: (id: string, body: { inbox_id: string; to?: string; subject?: string }) =>
    request<Conversation>("POST", `/conversations/${id}/email`, body),
  read: (id: string, seq: number) => request<unknown>("POST", `/conversations/${id}/read`, { seq }),
  bulk: (body: { conversation_ids: string[]; action: "assign" | "resolve" | "tag"; assignee_id?: string | null; tags?: string[] }) =>
    request<{ results: BulkResult[] }>("POST", "/conversations/bulk", body),
  savedViews: () => request<{ items: SavedView[] }>("GET", "/saved-views"),
  saveView: (body: { name: string; filters: SavedViewFilters; sort: ListSort }) => request<SavedView>("POST", "/saved-views", body),
  deleteView: (id: string) => request<void>("DELETE", `/saved-views/${id}`),
  contact: (id: string) => request<Contact>("GET", `/contacts/${id}`),
  /** Trusted attributes: a null value removes the attribute. */
  updateContact: (id: string, body: { attributes: Record<string, unknown> }) =>
    request<Contact>("PATCH", `/contacts/${id}`, body),
  contacts: (ids: string[]) =>
    request<{ items: Contact[] }>("GET", "/contacts", undefined, { ids, limit: 100 }),
  canned: (q?: string) =>
    request<{ items: CannedReply[] }>("GET", "/canned-replies", undefined, { q }),
  cannedByShortcut: (s: string) => request<CannedReply>("GET", `/canned-replies/shortcut/${s}`),
  saveCanned: (body: { shortcut: string; title: string; content: string }, id?: string) =>
    id
      ? request<CannedReply>("PATCH", `/canned-replies/${id}`, body)
      : request<CannedReply>("POST", "/canned-replies", body),
  deleteCanned: (id: string) => request<void>("DELETE", `/canned-replies/${id}`),
  notifications: () => request<{ items: Notification[] }>("GET", "/notifications"),
  readNotifications: (ids?: string[]) =>
    request<{ ids: string[] }>("POST", "/notifications/read", { ids: ids ?? null }),
  updateAgent: (id: string, body: Partial<Pick<Agent, "role" | "capacity" | "active" | "team_ids" | "languages">>) =>
    request<Agent>("PATCH", `/agents/${id}`, body),
  invite: (body: { email: string; role: string; team_ids: string[] }) =>
    request<{ id: string; token: string; url: string; expires_at: string }>("POST", "/invites", body),
  createTeam: (name: string) => request<Team>("POST", "/teams", { name, member_ids: [] }),
  updateTeam: (id: string, body: { name?: string; member_ids?: string[] }) =>
    request<Team>("PATCH", `/teams/${id}`, body),
  updateInbox: (id: string, body: Record<string, unknown>) =>
    request<Inbox>("PATCH", `/inboxes/${id}`, body),
  setPrechat: (id: string, form: PrechatForm) => request<Inbox>("PUT", `/inboxes/${id}/prechat`, form),
  createInbox: (name: string) => request<Inbox>("POST", "/inboxes", { name }),
  attachment: (conversationId: string, attachmentId: string) =>
    request<Attachment>("GET", `/conversations/${conversationId}/attachments/${attachmentId}`),
  articles: () => request<Article[]>("GET", "/kb/articles"),
  saveArticle: (body: ArticleInput, id?: string) =>
    id
      ? request<Article>("PUT", `/kb/articles/${id}`, body)
      : request<Article>("POST", "/kb/articles", body),
  deleteArticle: (id: string) => request<void>("DELETE", `/kb/articles/${id}`),
  entryLinks: (inboxId: string) =>
    request<{ items: EntryLink[] }>("GET", `/inboxes/${inboxId}/entry-links`),
  createEntryLink: (inboxId: string, source: string, label: string | null) =>
    request<EntryLink>("POST", `/inboxes/${inboxId}/entry-links`, { source, label }),
  deleteEntryLink: (inboxId: string, id: string) =>
    request<void>("DELETE", `/inboxes/${inboxId}/entry-links/${id}`),
  totpState: () => request<{ enabled: boolean; recovery_codes_left: number }>("GET", "/auth/totp"),
  totpBegin: () => request<{ secret: string; uri: string }>("POST", "/auth/totp"),
  totpConfirm: (code: string) =>
    request<{ recovery_codes: string[] }>("POST", "/auth/totp/confirm", { code }),
  totpDisable: (code: string) => request<void>("POST", "/auth/totp/disable", { code }),
};
