// Signing in and keeping the app's state live: the first fetch, the socket, and desktop
// notifications for the signed-in agent.

import { api } from "../api/client";
import type { Agent, Conversation, KefuEvent } from "../api/types";
import { t } from "../i18n";
import { listOrder } from "../inbox/window";
import { type Alert, Alerts } from "./alerts";
import { forgetContacts } from "./contacts";
import { evict } from "./evict";
import { closeOutbox, loadOutbox, reconnected } from "./outbox";
import { emptyState, type State } from "./reducer";
import { Realtime } from "./realtime";
import { store } from "./store";

let realtime: Realtime | null = null;
let pending: KefuEvent[] | null = null;

export function currentRealtime(): Realtime | null {
  return realtime;
}

function byId<T extends { id: string }>(items: T[]): Record<string, T> {
  return Object.fromEntries(items.map((x) => [x.id, x]));
}

const MINE_PAGES = 10; // up to 1,000 unresolved conversations of mine

/** Every unresolved conversation assigned to me (pages of 100, up to MINE_PAGES): my load is
 *  right from the start, and a customer message in a conversation not loaded is not mine. */
async function fetchMine(me: Agent): Promise<Conversation[]> {
  const out: Conversation[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MINE_PAGES; page++) {
    const p = await api.conversations({ assignee: me.id, status: ["open", "pending", "snoozed"], limit: 100, cursor });
    out.push(...p.items);
    if (!p.next_cursor) break;
    cursor = p.next_cursor;
  }
  return out;
}

/** Everything the app shows before any event: directory, canned replies, my notifications,
 *  and my unresolved conversations. */
export async function fetchState(me: Agent): Promise<State> {
  const [agents, teams, inboxes, canned, notes, mine] = await Promise.all([
    api.agents(),
    api.teams(),
    api.inboxes(),
    api.canned(),
    api.notifications(),
    fetchMine(me),
  ]);
  const s = emptyState();
  s.agents = byId(agents);
  s.teams = byId(teams);
  s.inboxes = byId(inboxes);
  s.canned_replies = byId(canned.items);
  s.notifications = byId(notes.items);
  s.conversations = byId(mine);
  return s;
}

/** The fetched state over what the store holds: conversations loaded for other views, open
 *  threads, contacts and articles are kept; fresh rows win. Applied synchronously in
 *  store.update, so a page the list loads while the fetch is under way is never lost. */
export function withFresh(old: State, fresh: State): State {
  return {
    ...fresh,
    conversations: { ...old.conversations, ...fresh.conversations },
    messages: old.messages,
    contacts: old.contacts,
    articles: old.articles,
  };
}

/** Load a conversation's messages into the store. Merged: a message an event added or
 *  updated meanwhile keeps its newer version. */
export async function loadThread(id: string): Promise<void> {
  const { items } = await api.messages(id);
  store.update((d) => ({
    ...d,
    messages: { ...d.messages, [id]: { ...Object.fromEntries(items.map((m) => [m.id, m])), ...(d.messages[id] ?? {}) } },
  }));
}

/** Fetch the loaded threads again: one fetched before the socket went live (or before a
 *  resync) may lack a message written between that fetch and the socket's position. */
async function refreshThreads(): Promise<void> {
  await Promise.all(Object.keys(store.get().data.messages).map((id) => loadThread(id).catch(() => undefined)));
}

export async function start(me: Agent): Promise<void> {
  store.set({ me, connection: "connecting" });
  realtime?.stop();
  loadOutbox(me.id);
  if (compactor) clearInterval(compactor);
  compactor = setInterval(compact, COMPACT_MS);
  pending = [];
  let live: () => void = () => undefined;
  const firstLive = new Promise<void>((resolve) => (live = resolve));
  realtime = new Realtime({
    ticket: async () => (await api.ticket()).subprotocol,
    onConnection: (connection) => {
      store.set({ connection });
      if (connection === "live") {
        live();
        reconnected(); // messages written while the connection was away go now
      }
    },
    onEvent: (env) => {
      if (pending) pending.push(env.event);
      else handle(env.event);
    },
    onResync: async () => {
      const fresh = await fetchState(me);
      store.update((d) => withFresh(d, fresh));
      await refreshThreads();
    },
    onTyping: (f) => {
      if (f.sender_kind === "agent" && f.sender_name === store.get().me?.name) return;
      const typing = { ...store.get().typing };
      if (f.typing) typing[f.conversation_id] = { name: f.sender_name ?? "", until: Date.now() + 6000 };
      else delete typing[f.conversation_id];
      store.set({ typing });
    },
  });
  // Go live first, then fetch: events that arrive meanwhile are applied after the fetch
  // (re-applying one the fetch already reflects changes nothing).
  realtime.start(null);
  await firstLive;
  const fresh = await fetchState(me);
  store.update((d) => withFresh(d, fresh));
  const queued = pending;
  pending = null;
  queued.forEach(handle);
  await refreshThreads();
}

export function stop(): void {
  realtime?.stop();
  realtime = null;
  closeOutbox();
  if (compactor) clearInterval(compactor);
  compactor = null;
}

const COMPACT_EVERY = 500; // events
const COMPACT_MS = 30_000;
let compactor: ReturnType<typeof setInterval> | null = null;
let sinceCompact = 0;

function handle(event: KefuEvent): void {
  const before = store.get().data;
  store.dispatch(event);
  alerts.observe(event, before);
  if (event.type === "session.revoked") store.set({ connection: "signed_out" });
  if (++sinceCompact >= COMPACT_EVERY) compact();
}

/** Drop what is neither on screen nor mine beyond the bounds of state/evict.ts. */
export function compact(): void {
  sinceCompact = 0;
  const { data, me } = store.get();
  const { state, contacts } = evict(data, {
    me: me?.id ?? null,
    open: openConversation,
    listed: listOrder(),
    threads: recentlyOpened,
  });
  if (state === data) return;
  forgetContacts(contacts);
  store.update(() => state);
}

export async function ensureConversation(id: string): Promise<Conversation | null> {
  const known = store.get().data.conversations[id];
  if (known) return known;
  try {
    const c = await api.conversation(id);
    // Events applied while the request was out are newer than the answer.
    store.update((d) => (d.conversations[c.id] ? d : { ...d, conversations: { ...d.conversations, [c.id]: c } }));
    return store.get().data.conversations[c.id] ?? c;
  } catch {
    return null;
  }
}

// --- desktop notifications and sound -------------------------------------------------------

let openConversation: string | null = null;
let recentlyOpened: string[] = [];
export function setOpenConversation(id: string | null): void {
  openConversation = id;
  if (id) recentlyOpened = [id, ...recentlyOpened.filter((x) => x !== id)].slice(0, 10);
}

const alerts = new Alerts({
  me: () => store.get().me?.id ?? null,
  state: () => store.get().data,
  load: ensureConversation,
  looking: (id) => openConversation === id && !document.hidden,
  alert: (a) => alert(textOf(a), a.conversationId),
});

function textOf(a: Alert): string {
  if (a.kind === "assigned") return t("assigned_to_you");
  if (a.kind === "message") return `${t("new_message")}: ${a.excerpt}`;
  return `${a.by} ${t("mentioned_you")}`;
}

function alert(text: string, conversationId: string | null): void {
  beep();
  const N = globalThis.Notification;
  if (!N || N.permission !== "granted") return;
  const n = new N("kefu", { body: text, tag: conversationId ?? undefined });
  n.onclick = () => {
    globalThis.focus();
    if (conversationId) location.hash = `#/c/${conversationId}`;
  };
}

let audio: AudioContext | null = null;
function beep(): void {
  try {
    audio ??= new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.08, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.25);
  } catch {
    /* no audio device */
  }
}

export function askNotificationPermission(): void {
  const N = globalThis.Notification;
  if (N && N.permission === "default") void N.requestPermission();
}
