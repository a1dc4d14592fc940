// The app's one store: the reducer's State plus what only this browser knows (who is signed
// in, the connection, typing signals, drafts). Components read it with useStore().

import { useSyncExternalStore } from "react";
import type { Agent, KefuEvent } from "../api/types";
import { type State, apply, emptyState } from "./reducer";
import type { Connection } from "./realtime";

export interface AppState {
  data: State;
  me: Agent | null;
  connection: Connection;
  typing: Record<string, { name: string; until: number }>; // by conversation id
  lastEvent: KefuEvent | null;
}

type Listener = () => void;

export class Store {
  private state: AppState = {
    data: emptyState(),
    me: null,
    connection: "connecting",
    typing: {},
    lastEvent: null,
  };
  private listeners = new Set<Listener>();
  private eventListeners = new Set<(e: KefuEvent) => void>();

  get = (): AppState => this.state;

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  onEvent(l: (e: KefuEvent) => void): () => void {
    this.eventListeners.add(l);
    return () => this.eventListeners.delete(l);
  }

  set(patch: Partial<AppState>): void {
    this.state = { ...this.state, ...patch };
    this.listeners.forEach((l) => l());
  }

  update(fn: (data: State) => State): void {
    this.set({ data: fn(this.state.data) });
  }

  dispatch(event: KefuEvent): void {
    const data = apply(this.state.data, event);
    let me = this.state.me;
    if (me && (event.type === "agent.updated" || event.type === "agent.status_changed")) {
      me = data.agents[me.id] ?? me;
    }
    this.set({ data, me, lastEvent: event });
    this.eventListeners.forEach((l) => l(event));
  }
}

export const store = new Store();

export function useStore<T>(select: (s: AppState) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.get()));
}

const DRAFT_KEY = "kefu.draft.";

export function loadDraft(conversationId: string): string {
  try {
    return localStorage.getItem(DRAFT_KEY + conversationId) ?? "";
  } catch {
    return "";
  }
}

export function saveDraft(conversationId: string, text: string): void {
  try {
    if (text) localStorage.setItem(DRAFT_KEY + conversationId, text);
    else localStorage.removeItem(DRAFT_KEY + conversationId);
  } catch {
    /* private mode: drafts live only in memory */
  }
}
