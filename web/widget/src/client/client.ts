// The customer client: a visitor session, the latest conversation, and a WebSocket that
// resumes from its last position. Sends are idempotent on `client_msg_id` and retried until
// acknowledged. Works in browsers and React Native (no DOM).
import { type Outgoing, RestApi, type SessionRequest } from "./api";
import { Emitter } from "./emitter";
import { Thread } from "./thread";
import {
  ApiError,
  type FetchLike,
  type KeyValueStorage,
  MemoryStorage,
  newClientMsgId,
  timers,
  type WebSocketCtor,
  type WebSocketLike,
} from "./transport";
import type {
  ChatItem,
  Connection,
  Conversation,
  JsonObject,
  Message,
  QueueInfo,
  SessionInfo,
  UserClaim,
} from "./types";

export interface ClientOptions {
  baseUrl: string;
  inboxKey: string;
  fetch: FetchLike;
  WebSocket: WebSocketCtor;
  storage?: KeyValueStorage;
  user?: UserClaim | null;
  source?: string | null;
  /** The widget's language: the session's greeting and out-of-hours text are in it. */
  locale?: string | null;
  /** How long to wait for an `ack` before sending the same frame again (ms). */
  retryMs?: number;
  /** How often to ping the server; an unanswered ping by the next one drops the socket (ms). */
  pingMs?: number;
}

export interface ClientEvents {
  connection: Connection;
  change: null;
  message: Message;
  typing: { sender_name: string | null; typing: boolean };
  queue: QueueInfo | null;
  error: ApiError;
}

const OPEN = 1;
type Frame = { type: string; [key: string]: unknown };

/** `batch`: the server may send frames queued together as one (fewer frames per event). */
function hello(since: number | null): Frame {
  return since === null ? { type: "hello", batch: true } : { type: "hello", batch: true, since };
}

export class KefuClient extends Emitter<ClientEvents> {
  readonly thread = new Thread();
  readonly api: RestApi;
  session: SessionInfo | null = null;
  connection: Connection = "idle";
  queue: QueueInfo | null = null;
  lastError: ApiError | null = null;
  private socket: WebSocketLike | null = null;
  private live = false;
  private position: number | null = null;
  private outbox = new Map<string, Outgoing>();
  private sentAt = new Map<string, number>();
  private starting: Promise<void> | null = null;
  private attempt = 0;
  private reconnectTimer: unknown = null;
  private pingTimer: unknown = null;
  private flushTimer: unknown = null;
  private stopped = true;
  private lastTyping = 0;
  private awaitingPong = false;
  // The resume ticket the last `ready`/`pong` handed out: a dropped socket reconnects with it
  // while it is fresh, without asking over HTTP (one request fewer per reconnect).
  private resumeTicket: { ticket: string; until: number } | null = null;
  private readyOn: WebSocketLike | null = null; // the socket that last answered `ready`
  // The thread was read over HTTP after the last point where the stream could have skipped
  // something (the first connect, `resync_required`). A `ready` that answers `hello {since}`
  // then needs no HTTP read: the server replayed everything missed before it.
  private loaded = false;
  private helloSince = false; // the current socket's hello carried `since`
  private readonly storage: KeyValueStorage;

  constructor(private readonly opts: ClientOptions) {
    super();
    this.api = new RestApi(opts.baseUrl.replace(/\/$/, ""), opts.fetch);
    this.storage = opts.storage ?? new MemoryStorage();
  }

  private get visitorKey(): string {
    return `kefu:${this.opts.inboxKey}:visitor`;
  }

  /** Opens the session, goes live, then loads the thread (live first, so nothing slips
   * between the fetch and the stream). */
  async start(): Promise<void> {
    this.stopped = false;
    this.setConnection("connecting");
    try {
      await this.openSession();
    } catch (e) {
      this.fail(e);
      return;
    }
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.socket?.close(1000, "bye");
    this.socket = null;
    this.live = false;
    this.setConnection("idle");
  }

  /** Drops the socket at once (the device went offline); `resume()` brings it back. */
  pause(): void {
    this.clearTimers();
    this.socket?.close(1000, "offline");
    this.socket = null;
    this.live = false;
    this.setConnection("offline");
  }

  resume(): void {
    if (this.stopped || this.live) return;
    this.attempt = 0;
    this.clearTimers();
    if (!this.session) {
      void this.start();
      return;
    }
    this.connect();
  }

  items(): ChatItem[] {
    return this.thread.items();
  }

  private async openSession(): Promise<void> {
    const req: SessionRequest = { inbox_key: this.opts.inboxKey };
    if (this.opts.locale) req.locale = this.opts.locale;
    const user = this.opts.user;
    if (user && "jwt" in user) req.user_jwt = user.jwt;
    else if (user) req.user = user;
    else {
      const token = await this.storage.get(this.visitorKey);
      if (token) req.visitor_token = token;
    }
    this.api.token = null;
    const s = await this.api.openSession(req);
    this.api.token = s.token;
    this.session = s;
    this.loaded = false; // a new session may be another contact: read its thread over HTTP
    if (!user) await this.storage.set(this.visitorKey, s.visitor_token);
  }

  private fail(e: unknown): void {
    const err = e instanceof ApiError ? e : new ApiError(0, "error", String(e));
    if (err.code === "network" || err.status >= 500 || err.status === 429) {
      this.scheduleReconnect();
      return;
    }
    this.lastError = err;
    this.setConnection("error");
    this.emit("error", err);
  }

  private setConnection(c: Connection): void {
    if (this.connection === c) return;
    this.connection = c;
    this.emit("connection", c);
  }

  private changed(): void {
    this.emit("change", null);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let ticket;
    const resume = this.resumeTicket;
    this.resumeTicket = null; // a resume ticket is tried once
    const resuming = resume !== null && resume.until > Date.now();
    try {
      ticket = resuming ? { subprotocol: resume.ticket } : await this.api.ticket();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        this.session = null;
        try {
          await this.openSession();
          ticket = await this.api.ticket();
        } catch (e2) {
          this.fail(e2);
          return;
        }
      } else {
        this.fail(e);
        return;
      }
    }
    if (this.stopped || this.live) return;
    const url = this.opts.baseUrl.replace(/^http/, "ws").replace(/\/$/, "") + "/ws";
    const ws = new this.opts.WebSocket(url, ["kefu.v1", ticket.subprotocol]);
    this.socket = ws;
    ws.onopen = () => {
      const since = this.position;
      this.helloSince = since !== null;
      this.sendFrame(hello(since));
    };
    ws.onmessage = (ev) => {
      if (this.socket !== ws || typeof ev.data !== "string") return;
      let frame: Frame;
      try {
        frame = JSON.parse(ev.data) as Frame;
      } catch {
        return;
      }
      void this.onFrame(frame);
    };
    ws.onclose = () => {
      if (this.socket !== ws) return;
      this.socket = null;
      this.live = false;
      if (resuming && this.readyOn !== ws && !this.stopped) {
        void this.connect(); // the resume ticket was refused (or the network is down): ask
        return;
      }
      this.scheduleReconnect();
    };
    ws.onerror = () => undefined;
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.connection === "offline") return;
    this.clearTimers();
    this.setConnection("reconnecting");
    const delay = Math.min(15000, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt += 1;
    this.reconnectTimer = timers.setTimeout(() => {
      this.reconnectTimer = null;
      if (this.session) void this.connect();
      else void this.start();
    }, delay);
  }

  private clearTimers(): void {
    if (this.reconnectTimer !== null) timers.clearTimeout(this.reconnectTimer);
    if (this.pingTimer !== null) timers.clearTimeout(this.pingTimer);
    this.reconnectTimer = this.pingTimer = null;
  }

  private sendFrame(frame: Frame): boolean {
    if (!this.socket || this.socket.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** A `ping` every 20 s keeps the resume position fresh; a socket that has not answered the
   * previous one by then is taken for dead and replaced. */
  private keepAlive(): void {
    if (this.pingTimer !== null) timers.clearTimeout(this.pingTimer);
    this.pingTimer = timers.setTimeout(() => {
      this.pingTimer = null;
      const ws = this.socket;
      if (this.awaitingPong && ws) {
        this.socket = null;
        this.live = false;
        ws.close(4000, "no pong");
        this.scheduleReconnect();
        return;
      }
      this.awaitingPong = true;
      if (this.sendFrame({ type: "ping" })) this.keepAlive();
    }, this.opts.pingMs ?? 20000);
  }

  private keepResume(f: Frame): void {
    if (typeof f.resume === "string") {
      // trusted for most of its life: the clocks of browser and server may differ
      const life = typeof f.resume_expires_in === "number" ? f.resume_expires_in : 60;
      this.resumeTicket = { ticket: f.resume, until: Date.now() + 800 * life };
    }
  }

  private advance(position: unknown): void {
    if (typeof position === "number" && (this.position === null || position > this.position)) {
      this.position = position;
    }
  }

  private async onFrame(f: Frame): Promise<void> {
    switch (f.type) {
      case "batch":
        // frames the server queued together, in order, handled as if they came one by one
        for (const inner of (f.frames as Frame[] | undefined) ?? []) void this.onFrame(inner);
        return;
      case "ready":
        this.readyOn = this.socket;
        this.keepResume(f);
        this.advance(f.position);
        this.live = true;
        this.awaitingPong = false;
        this.attempt = 0;
        this.setConnection("online");
        this.keepAlive();
        if (!(this.loaded && this.helloSince)) await this.catchUp();
        this.flush();
        return;
      case "resync_required":
        this.loaded = false; // the stream skips what came before `position`: read it over HTTP
        this.position = typeof f.position === "number" ? f.position : null;
        this.helloSince = this.position !== null;
        this.sendFrame(hello(this.position));
        return;
      case "pong":
        this.keepResume(f);
        this.awaitingPong = false;
        this.advance(f.position);
        return;
      case "event":
        this.advance(f.position);
        this.onEvent(f.event as Frame);
        return;
      case "ack":
        this.onAck(f);
        return;
      case "error":
        this.onSendError(f);
        return;
      case "typing":
        this.emit("typing", {
          sender_name: (f.sender_name as string | null) ?? null,
          typing: f.typing === true,
        });
        return;
    }
  }

  /** Loads the latest conversation, then every message after what the thread holds: on the
   * first connect, after `resync_required`, and when the stream names a conversation the
   * thread does not hold. */
  private async catchUp(): Promise<void> {
    try {
      const convs = await this.api.conversations();
      const latest = convs.reduce<Conversation | null>(
        (a, c) => (a === null || c.created_at > a.created_at ? c : a),
        null,
      );
      if (latest && latest.id !== this.thread.conversation?.id) {
        this.thread.reset(latest);
        for (const m of await this.api.messages(latest.id, { limit: 50 })) this.thread.add(m);
      } else if (latest && this.thread.conversation) {
        Object.assign(this.thread.conversation, latest);
      }
      await this.fillFrom(this.thread.contiguousSeq());
      this.loaded = true;
    } catch (e) {
      if (e instanceof ApiError && e.code !== "network") this.emit("error", e);
    }
    this.changed();
  }

  private async fillFrom(after: number): Promise<void> {
    const conv = this.thread.conversation;
    if (!conv) return;
    for (let seq = after; ; ) {
      const page = await this.api.messages(conv.id, { after_seq: seq, limit: 200 });
      for (const m of page) this.thread.add(m);
      if (page.length < 200) return;
      seq = page[page.length - 1].seq ?? seq + 200;
    }
  }

  async loadOlder(): Promise<void> {
    const conv = this.thread.conversation;
    if (!conv || !this.thread.hasOlder()) return;
    const page = await this.api.messages(conv.id, { before_seq: this.thread.firstSeq(), limit: 50 });
    for (const m of page) this.thread.add(m);
    this.changed();
  }

  private onEvent(e: Frame): void {
    const conv = this.thread.conversation;
    switch (e.type) {
      case "message.created": {
        const m = e.message as Message;
        if (!conv || m.conversation_id !== conv.id) {
          void this.catchUp();
          return;
        }
        conv.status = e.conversation_status as Conversation["status"];
        const gap = m.seq !== null && m.seq > this.thread.lastSeq() + 1;
        if (this.thread.add(m) && m.sender_kind !== "customer") this.emit("message", m);
        if (gap) void this.fillFrom(this.thread.contiguousSeq()).then(() => this.changed());
        break;
      }
      case "message.read":
        if (conv && e.conversation_id === conv.id) {
          const key = e.reader === "customer" ? "customer_read_seq" : "agent_read_seq";
          conv[key] = Math.max(conv[key], e.seq as number);
        }
        break;
      case "conversation.assigned":
        if (conv && e.conversation_id === conv.id) {
          conv.assignee = (e.assignee as Conversation["assignee"]) ?? null;
          conv.status = e.status as Conversation["status"];
        }
        break;
      case "conversation.status_changed":
        if (conv && e.conversation_id === conv.id) conv.status = e.status as Conversation["status"];
        if (e.status !== "queued" && this.queue?.conversation_id === e.conversation_id) {
          this.queue = null;
          this.emit("queue", null);
        }
        break;
      case "conversation.started":
        if (!conv || e.conversation_id !== conv.id) void this.catchUp();
        return;
      case "conversation.queue_updated":
        this.queue = e as unknown as QueueInfo;
        this.emit("queue", this.queue);
        break;
      default:
        return;
    }
    this.changed();
  }

  /** Queues a message and sends it as soon as the socket is live; retried with the same
   * `client_msg_id` until the server acknowledges it. */
  send(content: string, type = "text", payload: JsonObject | null = null): string {
    const id = newClientMsgId();
    const out: Outgoing = { content, type, payload, client_msg_id: id };
    this.outbox.set(id, out);
    this.thread.addPending({ ...out, created_at: new Date().toISOString() });
    this.changed();
    this.flush();
    return id;
  }

  retry(clientMsgId: string): void {
    if (!this.outbox.has(clientMsgId)) return;
    this.thread.markPending(clientMsgId, "sending", null);
    this.sentAt.delete(clientMsgId);
    this.changed();
    this.flush();
  }

  /** The conversation to send into, started over HTTP with the first message if needed. */
  async ensureConversation(first: Outgoing | null = null): Promise<Conversation> {
    if (this.thread.conversation) return this.thread.conversation;
    if (!this.starting) {
      this.starting = (async () => {
        const r = await this.api.start(first, this.opts.source ?? null);
        if (!this.thread.conversation) this.thread.reset(r.conversation);
        if (r.message) {
          this.thread.add(r.message.message);
          this.outbox.delete(r.message.message.client_msg_id ?? "");
        }
        this.changed();
      })().finally(() => {
        this.starting = null;
      });
    }
    await this.starting;
    return this.thread.conversation as unknown as Conversation;
  }

  private flush(): void {
    if (!this.live) return;
    const now = Date.now();
    const retryMs = this.opts.retryMs ?? 8000;
    for (const out of this.outbox.values()) {
      const failed = this.items().find((i) => i.key === `c:${out.client_msg_id}`)?.status === "failed";
      const last = this.sentAt.get(out.client_msg_id);
      if (failed || (last !== undefined && now - last < retryMs)) continue;
      const conv = this.thread.conversation;
      if (!conv) {
        this.ensureConversation(out).then(
          () => this.flush(),
          (e: unknown) => this.sendFailed(out, e),
        );
        return;
      }
      this.sentAt.set(out.client_msg_id, now);
      this.sendFrame({
        type: "send",
        client_msg_id: out.client_msg_id,
        conversation_id: conv.id,
        content: out.content,
        msg_type: out.type,
        ...(out.payload ? { payload: out.payload } : {}),
      });
    }
    if (this.outbox.size > 0 && this.flushTimer === null) {
      this.flushTimer = timers.setTimeout(() => {
        this.flushTimer = null;
        this.flush();
      }, retryMs + 50);
    }
  }

  private sendFailed(out: Outgoing, e: unknown): void {
    if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 429) {
      this.thread.markPending(out.client_msg_id, "failed", e.code);
      this.changed();
    }
  }

  private onAck(f: Frame): void {
    const id = f.client_msg_id as string;
    this.outbox.delete(id);
    this.sentAt.delete(id);
    this.thread.acked(id, f.message_id as string, f.seq as number | null);
    this.changed();
  }

  private onSendError(f: Frame): void {
    const id = f.client_msg_id as string | undefined;
    if (!id || !this.outbox.has(id)) return;
    const code = f.code as string;
    if (code === "internal_error" || code === "unavailable" || code === "rate_limited") {
      this.sentAt.delete(id);
      return;
    }
    this.thread.markPending(id, "failed", code);
    this.changed();
  }

  /** Moves the customer's read position to the last message. */
  markRead(): void {
    const conv = this.thread.conversation;
    const seq = this.thread.lastSeq();
    if (!conv || seq <= conv.customer_read_seq) return;
    conv.customer_read_seq = seq;
    if (!this.sendFrame({ type: "read", conversation_id: conv.id, seq })) {
      this.api.read(conv.id, seq).catch(() => undefined);
    }
    this.changed();
  }

  /** Tells the agent the customer is typing (at most every 3 seconds). */
  typing(): void {
    const conv = this.thread.conversation;
    const now = Date.now();
    if (!conv || !this.live || now - this.lastTyping < 3000) return;
    this.lastTyping = now;
    this.sendFrame({ type: "typing", conversation_id: conv.id, typing: true });
  }

  updateContact(fields: { name?: string; email?: string; attributes?: JsonObject }): Promise<null> {
    return this.api.updateContact(fields);
  }
}
