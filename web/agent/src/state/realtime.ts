// The WebSocket client (docs/realtime.md): ticket, hello{since}, ready, event frames; on a
// dropped socket it reconnects with back-off and resumes from the last position it applied,
// so nothing is missed and nothing is applied twice. It reconnects with the resume ticket the
// server handed out in `ready` (renewed in `pong`) while that is fresh, without asking over
// HTTP; a refused one is dropped and a ticket asked for at once.

import type { KefuEvent } from "../api/types";

export type Connection = "connecting" | "live" | "reconnecting" | "signed_out";

export interface TypingFrame {
  type: "typing";
  conversation_id: string;
  sender_kind: string;
  sender_name: string | null;
  typing: boolean;
}

export interface Envelope {
  position: number;
  at: string;
  event: KefuEvent;
}

export interface RealtimeHooks {
  ticket(): Promise<string>; // the "kefu.ticket.…" subprotocol
  onEvent(env: Envelope): void;
  onConnection(c: Connection): void;
  // The server cannot replay from our position: fetch state again, then we go live.
  onResync(): Promise<void>;
  onTyping?(frame: TypingFrame): void;
  url?: string;
  socketFactory?: (url: string, protocols: string[]) => WebSocket;
}

interface Resume {
  resume?: string;
  resume_expires_in?: number;
}

type ServerFrame =
  | ({ type: "ready"; position: number } & Resume)
  | { type: "resync_required"; position: number }
  | ({ type: "event" } & Envelope)
  | TypingFrame
  | { type: "ack"; client_msg_id: string }
  | { type: "error"; code: string; message: string; client_msg_id?: string }
  | ({ type: "pong"; position: number | null } & Resume)
  | { type: "batch"; frames: ServerFrame[] };

export class Realtime {
  position: number | null = null;
  private ws: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pinger: ReturnType<typeof setInterval> | null = null;
  private resume: { ticket: string; until: number } | null = null;
  private readyOn: WebSocket | null = null; // the socket that last answered `ready`

  constructor(private readonly hooks: RealtimeHooks) {}

  start(position: number | null = null): void {
    this.position = position;
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.pinger) clearInterval(this.pinger);
    this.ws?.close(1000);
    this.ws = null;
  }

  /** Close the socket as a network failure would (used by the "drop" shortcut and tests). */
  drop(): void {
    this.ws?.close(4000, "dropped");
  }

  send(frame: Record<string, unknown>): boolean {
    if (this.ws?.readyState !== 1) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private async connect(): Promise<void> {
    this.hooks.onConnection(this.attempt === 0 && this.position === null ? "connecting" : "reconnecting");
    let sub: string;
    const resume = this.resume;
    this.resume = null; // a resume ticket is tried once
    const resuming = resume !== null && resume.until > Date.now();
    try {
      sub = resuming ? resume.ticket : await this.hooks.ticket();
    } catch (e) {
      if ((e as { status?: number }).status === 401) {
        this.hooks.onConnection("signed_out");
        return;
      }
      this.retry();
      return;
    }
    if (this.stopped) return;
    const loc = globalThis.location;
    const url = this.hooks.url ?? `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/ws`;
    const make = this.hooks.socketFactory ?? ((u, p) => new WebSocket(u, p));
    const ws = make(url, ["kefu.v1", sub]);
    this.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify(this.hello(this.position)));
    };
    ws.onmessage = (m: MessageEvent) => void this.frame(JSON.parse(String(m.data)) as ServerFrame);
    ws.onclose = (c: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.pinger) clearInterval(this.pinger);
      if (this.stopped) return;
      if (c.code === 4001) {
        this.hooks.onConnection("signed_out");
        return;
      }
      if (resuming && this.readyOn !== ws) {
        void this.connect(); // the resume ticket was refused (or the network is down): ask
        return;
      }
      this.retry();
    };

  }

  private keepResume(f: Resume): void {
    if (typeof f.resume === "string") {
      // trusted for most of its life: the clocks of browser and server may differ
      this.resume = { ticket: f.resume, until: Date.now() + 800 * (f.resume_expires_in ?? 60) };
    }
  }

  private retry(): void {
    if (this.stopped) return;
    this.hooks.onConnection("reconnecting");
    const delay = Math.min(10_000, 250 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt += 1;
    this.timer = setTimeout(() => void this.connect(), delay);
  }

  /** `batch`: the server may send frames queued together as one (fewer frames per event). */
  private hello(since: number | null): { type: "hello"; batch: true; since?: number } {
    return since === null ? { type: "hello", batch: true } : { type: "hello", batch: true, since };
  }

  private async frame(f: ServerFrame): Promise<void> {
    switch (f.type) {
      case "batch":
        // frames the server queued together, in order, handled as if they came one by one
        for (const inner of f.frames) void this.frame(inner);
        break;
      case "ready":
        this.readyOn = this.ws;
        this.keepResume(f);
        this.position = Math.max(this.position ?? 0, f.position);
        this.attempt = 0;
        this.hooks.onConnection("live");
        if (this.pinger) clearInterval(this.pinger);
        this.pinger = setInterval(() => this.send({ type: "ping" }), 20_000);
        break;
      case "resync_required":
        await this.hooks.onResync();
        this.position = f.position;
        this.send(this.hello(f.position));
        break;
      case "event":
        // At most once per position, in order: the server guarantees it, we check it.
        if (this.position !== null && f.position <= this.position) return;
        this.position = f.position;
        this.hooks.onEvent({ position: f.position, at: f.at, event: f.event });
        break;
      case "typing":
        this.hooks.onTyping?.(f);
        break;
      case "pong":
        this.keepResume(f);
        break;
      default:
        break;
    }
  }
}
