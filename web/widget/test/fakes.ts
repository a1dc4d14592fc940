// A scripted kefu for the client's unit tests: the REST answers it needs and WebSockets whose
// frames a test reads and answers by hand. Only the platform is faked, never the client.
import type { FetchInit, FetchResponse, WebSocketLike } from "../src/client/transport";
import type { Conversation, Message } from "../src/client/types";

export const CONV = "c0000000-0000-0000-0000-000000000001";

export function message(seq: number, extra: Partial<Message> = {}): Message {
  return {
    id: `m-${seq}`,
    conversation_id: CONV,
    seq,
    after_seq: null,
    sender_kind: "agent",
    sender_id: null,
    sender_name: "Li",
    type: "text",
    content: `message ${seq}`,
    payload: null,
    client_msg_id: null,
    delivery: "sent",
    created_at: new Date(1_700_000_000_000 + seq).toISOString(),
    ...extra,
  };
}

export class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  closed: { code?: number; reason?: string } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.all.push(this);
  }

  static last(): FakeSocket {
    return FakeSocket.all[FakeSocket.all.length - 1];
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
    this.readyState = 3;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The server (or the network) drops the connection. */
  drop(): void {
    this.readyState = 3;
    this.onclose?.({ code: 1006 });
  }

  frames(type: string): Record<string, unknown>[] {
    return this.sent.filter((f) => f.type === type);
  }
}

/** The REST half: one conversation whose stored messages a test sets. */
export class FakeServer {
  messages: Message[] = [];
  conversation: Conversation = {
    id: CONV,
    inbox_id: "i-1",
    status: "open",
    assignee: null,
    last_seq: 0,
    customer_read_seq: 0,
    agent_read_seq: 0,
    created_at: new Date(1_700_000_000_000).toISOString(),
  };
  requests: string[] = [];
  // "METHOD /path": the next such request fails as a network error; "METHOD /path:401": it is
  // refused as unauthenticated
  failNext: string | null = null;

  fetch = async (url: string, init?: FetchInit): Promise<FetchResponse> => {
    const u = new URL(url);
    const path = u.pathname.replace("/api/client/v1", "");
    const method = init?.method ?? "GET";
    this.requests.push(`${method} ${path}${u.search}`);
    if (this.failNext === `${method} ${path}`) {
      this.failNext = null;
      throw new TypeError("network down");
    }
    const ok = (status: number, body: unknown): FetchResponse => ({
      status,
      ok: status < 400,
      json: async () => body,
    });
    if (this.failNext === `${method} ${path}:401`) {
      this.failNext = null;
      return ok(401, { error: { code: "unauthenticated", message: "sign in first" } });
    }
    if (method === "POST" && path === "/sessions") {
      return ok(201, {
        token: "tok",
        visitor_token: "visitor-token-0123456789",
        contact_id: "k-1",
        verified: false,
        inbox: { id: "i-1", name: "Support", greeting: null },
      });
    }
    if (method === "POST" && path === "/realtime/ticket") {
      return ok(200, { subprotocol: "kefu.ticket.t" });
    }
    if (method === "GET" && path === "/conversations") {
      return ok(200, { items: [this.conversation] });
    }
    if (method === "GET" && path === `/conversations/${CONV}/messages`) {
      const after = Number(u.searchParams.get("after_seq") ?? "0");
      const limit = Number(u.searchParams.get("limit") ?? "50");
      const before = u.searchParams.get("before_seq");
      let items = this.messages.filter((m) => (m.seq ?? 0) > after);
      if (before !== null) items = items.filter((m) => (m.seq ?? 0) < Number(before));
      return ok(200, { items: items.slice(-limit) });
    }
    return ok(404, { error: { code: "not_found", message: path } });
  };
}

/** Lets every pending promise (fetch answers, frame handlers) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
