// The agent's messages on their way out: each is shown in its thread at once (as pending),
// kept in localStorage per agent and conversation (a reload keeps it), and sent over HTTP with
// its own `client_msg_id`. A send that does not reach the server (network down, the server
// restarting, 5xx, 429) waits and goes again with the same id when the socket is live again
// (or after a back-off); the server stores a `client_msg_id` once, so a send whose answer was
// lost is never doubled. A send the server refuses (4xx) stays as failed, to send again or
// discard.

import { useSyncExternalStore } from "react";
import { ApiError, api } from "../api/client";
import type { Message } from "../api/types";
import { store } from "./store";

export type OutState = "sending" | "waiting" | "failed";

export interface OutBody {
  content: string;
  type: string;
  payload?: Record<string, unknown>;
}

export interface Outgoing {
  client_msg_id: string;
  conversation_id: string;
  body: OutBody;
  state: OutState;
  error: string | null; // the API's code of a refusal ("network" while waiting)
  created_at: string;
}

const PREFIX = "kefu.outbox.";
const EMPTY: Outgoing[] = [];
let owner: string | null = null; // the signed-in agent: an outbox is theirs alone
let byConversation: Record<string, Outgoing[]> = {};
const listeners = new Set<() => void>();
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let retryDelay = 1000;

function keyOf(conversationId: string): string {
  return `${PREFIX}${owner ?? "-"}.${conversationId}`;
}

function persist(conversationId: string): void {
  const items = byConversation[conversationId] ?? EMPTY;
  try {
    if (items.length) localStorage.setItem(keyOf(conversationId), JSON.stringify(items));
    else localStorage.removeItem(keyOf(conversationId));
  } catch {
    /* private mode or full: the outbox lives in memory only */
  }
}

function changed(conversationId: string, items: Outgoing[]): void {
  byConversation = { ...byConversation, [conversationId]: items };
  if (!items.length) delete byConversation[conversationId];
  persist(conversationId);
  listeners.forEach((l) => l());
}

function patch(o: Outgoing, p: Partial<Outgoing>): void {
  const items = byConversation[o.conversation_id] ?? EMPTY;
  changed(
    o.conversation_id,
    items.map((x) => (x.client_msg_id === o.client_msg_id ? { ...x, ...p } : x)),
  );
}

function drop(o: Outgoing): void {
  const items = byConversation[o.conversation_id] ?? EMPTY;
  changed(
    o.conversation_id,
    items.filter((x) => x.client_msg_id !== o.client_msg_id),
  );
}

/** Load the signed-in agent's outbox from this browser (at sign-in); sending starts with
 *  flush(), once the socket is live. */
export function loadOutbox(agentId: string): void {
  owner = agentId;
  byConversation = {};
  try {
    const mine = `${PREFIX}${agentId}.`;
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (!k?.startsWith(mine)) continue;
      const items = JSON.parse(localStorage.getItem(k) ?? "[]") as Outgoing[];
      // what was under way when the page went is waiting now
      if (items.length) byConversation[k.slice(mine.length)] = items.map((o) => (o.state === "sending" ? { ...o, state: "waiting" } : o));
    }
  } catch {
    /* unreadable: nothing kept */
  }
  listeners.forEach((l) => l());
}

/** Put a message in the outbox (shown at once as pending) and send it. */
export function enqueue(conversationId: string, body: OutBody, clientMsgId: string): void {
  const o: Outgoing = {
    client_msg_id: clientMsgId,
    conversation_id: conversationId,
    body,
    state: "waiting",
    error: null,
    created_at: new Date().toISOString(),
  };
  changed(conversationId, [...(byConversation[conversationId] ?? EMPTY).filter((x) => x.client_msg_id !== clientMsgId), o]);
  void flush();
}

/** Send a failed message again (same `client_msg_id`). */
export function retry(o: Outgoing): void {
  patch(o, { state: "waiting", error: null });
  void flush();
}

export function discard(o: Outgoing): void {
  drop(o);
}

/** Not the server's answer to this message: the network, a restart, an overload. */
function transient(e: unknown): boolean {
  if (!(e instanceof ApiError)) return true; // fetch's TypeError ("Failed to fetch")
  return e.status === 0 || e.status === 401 || e.status === 408 || e.status === 429 || e.status >= 500;
}

function shown(m: Message): void {
  store.update((d) => {
    const thread = d.messages[m.conversation_id];
    if (!thread || thread[m.id]) return d;
    return { ...d, messages: { ...d.messages, [m.conversation_id]: { ...thread, [m.id]: m } } };
  });
}

let flushing: Promise<void> | null = null;
let again = false;

/** Send what waits, oldest first in each conversation; a conversation stops at its first
 *  message that cannot go now, so the thread keeps the order the agent wrote in. */
export function flush(): Promise<void> {
  if (flushing) {
    again = true;
    return flushing;
  }
  flushing = (async () => {
    try {
      do {
        again = false;
        await Promise.all(Object.keys(byConversation).map(sendConversation));
      } while (again);
    } finally {
      flushing = null;
    }
    scheduleRetry();
  })();
  return flushing;
}

async function sendConversation(conversationId: string): Promise<void> {
  for (const o of [...(byConversation[conversationId] ?? EMPTY)]) {
    const now = (byConversation[conversationId] ?? EMPTY).find((x) => x.client_msg_id === o.client_msg_id);
    if (!now || now.state === "failed") continue;
    patch(now, { state: "sending", error: null });
    try {
      const r = await api.send(conversationId, { ...now.body, client_msg_id: now.client_msg_id });
      shown(r.message);
      drop(now);
      retryDelay = 1000;
    } catch (e) {
      if (transient(e)) {
        patch(now, { state: "waiting", error: e instanceof ApiError ? e.code : "network" });
        return;
      }
      patch(now, { state: "failed", error: e instanceof ApiError ? e.code : "error" });
    }
  }
}

function scheduleRetry(): void {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  const waiting = Object.values(byConversation).some((items) => items.some((o) => o.state === "waiting"));
  if (!waiting) return;
  retryTimer = setTimeout(() => void flush(), retryDelay);
  retryDelay = Math.min(30_000, retryDelay * 2);
}

/** After the socket came back: send at once, and start the back-off from the beginning. */
export function reconnected(): void {
  retryDelay = 1000;
  void flush();
}

// The browser says the network is back: no need to wait for the socket's back-off.
globalThis.addEventListener?.("online", () => owner !== null && reconnected());

/** Forget the outbox in memory (sign-out); what is stored stays for the agent's next sign-in. */
export function closeOutbox(): void {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  owner = null;
  byConversation = {};
  listeners.forEach((l) => l());
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** The messages of a conversation still on their way, oldest first. */
export function useOutbox(conversationId: string): Outgoing[] {
  return useSyncExternalStore(subscribe, () => byConversation[conversationId] ?? EMPTY);
}

export function outboxOf(conversationId: string): Outgoing[] {
  return byConversation[conversationId] ?? EMPTY;
}
