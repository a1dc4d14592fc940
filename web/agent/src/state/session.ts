// Signing in and keeping the app's state live: the first fetch, the socket, and desktop
// notifications for the signed-in agent.

import { api } from "../api/client";
import type { Agent, Conversation, KefuEvent } from "../api/types";
import { t } from "../i18n";
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

/** Everything the app shows before any event: directory, canned replies, my notifications,
 *  and my open conversations (so my load is right from the start). */
export async function fetchState(me: Agent): Promise<State> {
  const [agents, teams, inboxes, canned, notes, mine] = await Promise.all([
    api.agents(),
    api.teams(),
    api.inboxes(),
    api.canned(),
    api.notifications(),
    api.conversations({ assignee: me.id, status: ["open", "pending", "snoozed"], limit: 100 }),
  ]);
  const s = emptyState();
  s.agents = byId(agents);
  s.teams = byId(teams);
  s.inboxes = byId(inboxes);
  s.canned_replies = byId(canned.items);
  s.notifications = byId(notes.items);
  s.conversations = byId(mine.items);
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

export async function start(me: Agent): Promise<void> {
  store.set({ me, connection: "connecting" });
  realtime?.stop();
  pending = [];
  let live: () => void = () => undefined;
  const firstLive = new Promise<void>((resolve) => (live = resolve));
  realtime = new Realtime({
    ticket: async () => (await api.ticket()).subprotocol,
    onConnection: (connection) => {
      store.set({ connection });
      if (connection === "live") live();
    },
    onEvent: (env) => {
      if (pending) pending.push(env.event);
      else handle(env.event);
    },
    onResync: async () => {
      const fresh = await fetchState(me);
      store.update((d) => withFresh(d, fresh));
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
}

export function stop(): void {
  realtime?.stop();
  realtime = null;
}

function handle(event: KefuEvent): void {
  const before = store.get().data;
  store.dispatch(event);
  notify(event, before);
  if (event.type === "session.revoked") store.set({ connection: "signed_out" });
}

export async function ensureConversation(id: string): Promise<Conversation | null> {
  const known = store.get().data.conversations[id];
  if (known) return known;
  try {
    const c = await api.conversation(id);
    store.update((d) => ({ ...d, conversations: { ...d.conversations, [c.id]: c } }));
    return c;
  } catch {
    return null;
  }
}

// --- desktop notifications and sound -------------------------------------------------------

let openConversation: string | null = null;
export function setOpenConversation(id: string | null): void {
  openConversation = id;
}

function notify(event: KefuEvent, before: State): void {
  const me = store.get().me;
  if (!me) return;
  if (event.type === "conversation.assigned" && event.assignee?.id === me.id) {
    const prev = before.conversations[event.conversation_id];
    if (prev?.assignee_id !== me.id) alert(t("assigned_to_you"), event.conversation_id);
  } else if (event.type === "message.created" && event.message.sender_kind === "customer") {
    const conv = store.get().data.conversations[event.message.conversation_id];
    const mineNow = conv?.assignee_id === me.id;
    const looking = openConversation === event.message.conversation_id && !document.hidden;
    if (mineNow && !looking) alert(`${t("new_message")}: ${event.message.content.slice(0, 80)}`, conv.id);
  } else if (event.type === "notification.created" && event.notification.agent_id === me.id) {
    alert(`${event.notification.by_name ?? ""} ${t("mentioned_you")}`, event.notification.conversation_id);
  }
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
