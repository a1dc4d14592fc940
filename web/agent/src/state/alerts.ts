// When to alert the signed-in agent (desktop notification and sound): a conversation newly
// assigned to them, a customer message in one of theirs they are not looking at, a mention.
// It works from the events alone, so it covers conversations the app has not loaded: an
// assignment to me loads the conversation (so its later messages are known to be mine), and a
// resolved conversation the customer reopens, unknown here, is looked up once (its
// `conversation.status_changed` comes just before the message that reopened it).

import type { Conversation, KefuEvent } from "../api/types";
import type { State } from "./reducer";

export type Alert =
  | { kind: "assigned"; conversationId: string }
  | { kind: "message"; conversationId: string; excerpt: string }
  | { kind: "mention"; conversationId: string | null; by: string };

export interface AlertDeps {
  me: () => string | null;
  state: () => State; // the state after the event
  /** Load a conversation into the store (one GET); null if it cannot be read. */
  load: (id: string) => Promise<Conversation | null>;
  looking: (conversationId: string) => boolean;
  alert: (a: Alert) => void;
}

const LOOKUP_MS = 10_000; // how long a reopened conversation's lookup answers its message

export class Alerts {
  private lookups = new Map<string, Promise<Conversation | null>>();

  constructor(private readonly deps: AlertDeps) {}

  /** Call after the store applied ``event``; ``before`` is the state it was applied to. */
  observe(event: KefuEvent, before: State): void {
    const me = this.deps.me();
    if (!me) return;
    switch (event.type) {
      case "conversation.assigned": {
        if (event.assignee?.id !== me) return;
        const prev = before.conversations[event.conversation_id];
        if (prev?.assignee_id !== me) this.deps.alert({ kind: "assigned", conversationId: event.conversation_id });
        if (!this.deps.state().conversations[event.conversation_id]) this.lookup(event.conversation_id);
        return;
      }
      case "conversation.status_changed":
        if (event.status === "open" && event.previous === "resolved" && !this.deps.state().conversations[event.conversation_id]) {
          this.lookup(event.conversation_id);
        }
        return;
      case "message.created": {
        const m = event.message;
        if (m.sender_kind !== "customer") return;
        const a: Alert = { kind: "message", conversationId: m.conversation_id, excerpt: m.content.slice(0, 80) };
        const conv = this.deps.state().conversations[m.conversation_id];
        if (conv) {
          if (conv.assignee_id === me && !this.deps.looking(conv.id)) this.deps.alert(a);
          return;
        }
        const pending = this.lookups.get(m.conversation_id);
        if (!pending) return; // not loaded, so not mine (every conversation of mine is)
        void pending.then((c) => {
          const now = this.deps.state().conversations[m.conversation_id] ?? c;
          if (now?.assignee_id === me && !this.deps.looking(m.conversation_id)) this.deps.alert(a);
        });
        return;
      }
      case "notification.created":
        if (event.notification.agent_id === me) {
          this.deps.alert({ kind: "mention", conversationId: event.notification.conversation_id, by: event.notification.by_name ?? "" });
        }
        return;
      default:
        return;
    }
  }

  private lookup(id: string): void {
    if (this.lookups.has(id)) return;
    const p = this.deps.load(id).catch(() => null);
    this.lookups.set(id, p);
    void p.then(() => setTimeout(() => this.lookups.delete(id), LOOKUP_MS));
  }
}
