// The thread one customer sees: stored messages by seq plus their own pending sends.
// Merging is idempotent, so a replayed event, an ack and a page fetch can arrive in any order.
import type { ChatItem, Conversation, JsonObject, Message } from "./types";

export interface Pending {
  client_msg_id: string;
  content: string;
  type: string;
  payload: JsonObject | null;
  created_at: string;
}

function itemOf(m: Message): ChatItem {
  const own = m.sender_kind === "customer" && m.client_msg_id;
  return {
    key: own ? `c:${m.client_msg_id}` : `m:${m.id}`,
    id: m.id,
    seq: m.seq,
    sender_kind: m.sender_kind,
    sender_name: m.sender_name,
    type: m.type,
    content: m.content,
    payload: m.payload,
    created_at: m.created_at,
    status: "sent",
    error: null,
  };
}

export class Thread {
  conversation: Conversation | null = null;
  private bySeq = new Map<number, ChatItem>();
  private pending = new Map<string, ChatItem>();

  /** Adds a stored message; true if it was new to this thread. */
  add(m: Message): boolean {
    if (m.seq === null || (this.conversation && m.conversation_id !== this.conversation.id)) {
      return false;
    }
    const known = this.bySeq.has(m.seq);
    const item = itemOf(m);
    if (m.client_msg_id) this.pending.delete(m.client_msg_id);
    this.bySeq.set(m.seq, item);
    if (this.conversation && m.seq > this.conversation.last_seq) {
      this.conversation.last_seq = m.seq;
    }
    return !known;
  }

  addPending(p: Pending): ChatItem {
    const item: ChatItem = {
      key: `c:${p.client_msg_id}`,
      id: null,
      seq: null,
      sender_kind: "customer",
      sender_name: null,
      type: p.type,
      content: p.content,
      payload: p.payload,
      created_at: p.created_at,
      status: "sending",
      error: null,
    };
    this.pending.set(p.client_msg_id, item);
    return item;
  }

  markPending(clientMsgId: string, status: "sending" | "failed", error: string | null): void {
    const item = this.pending.get(clientMsgId);
    if (item) {
      item.status = status;
      item.error = error;
    }
  }

  /** An ack for a send whose `message.created` has not arrived yet: show it as stored. */
  acked(clientMsgId: string, id: string, seq: number | null): void {
    const item = this.pending.get(clientMsgId);
    if (!item || seq === null) return;
    this.pending.delete(clientMsgId);
    if (!this.bySeq.has(seq)) {
      this.bySeq.set(seq, { ...item, id, seq, status: "sent", error: null });
    }
    if (this.conversation && seq > this.conversation.last_seq) this.conversation.last_seq = seq;
  }

  items(): ChatItem[] {
    const stored = [...this.bySeq.values()].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    return [...stored, ...this.pending.values()];
  }

  /** The greatest seq with every message from 1 up to it present. */
  contiguousSeq(): number {
    let s = this.firstSeq() - 1;
    while (this.bySeq.has(s + 1)) s += 1;
    return s;
  }

  firstSeq(): number {
    let min = Infinity;
    for (const s of this.bySeq.keys()) min = Math.min(min, s);
    return Number.isFinite(min) ? min : 1;
  }

  lastSeq(): number {
    let max = 0;
    for (const s of this.bySeq.keys()) max = Math.max(max, s);
    return max;
  }

  hasOlder(): boolean {
    return this.bySeq.size > 0 && this.firstSeq() > 1;
  }

  unread(): number {
    const read = this.conversation?.customer_read_seq ?? 0;
    let n = 0;
    for (const [seq, item] of this.bySeq) if (seq > read && item.sender_kind !== "customer") n++;
    return n;
  }

  reset(conversation: Conversation | null): void {
    this.conversation = conversation;
    this.bySeq.clear();
  }
}
