import type { KefuEvent } from "../api/types";
import { type Connection, type Envelope, Realtime, type RealtimeHooks } from "./realtime";

// A WebSocket stand-in that records what the client sends; the test plays the server.
class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: ((c: { code: number }) => void) | null = null;
  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.all.push(this);
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  send(s: string) {
    this.sent.push(JSON.parse(s) as Record<string, unknown>);
  }
  push(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  close(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

/** A client against FakeSocket, with hooks that record nothing unless given. */
function realtime(hooks: Partial<RealtimeHooks> = {}): Realtime {
  return new Realtime({
    ticket: async () => "kefu.ticket.x",
    onEvent: () => undefined,
    onConnection: () => undefined,
    onResync: async () => undefined,
    url: "ws://test/ws",
    socketFactory: (u, p) => new FakeSocket(u, p) as unknown as WebSocket,
    ...hooks,
  });
}

const ev = (n: number): Envelope => ({
  position: n,
  at: "t",
  event: { type: "agent.status_changed", agent_id: `a${n}`, status: "online" } as KefuEvent,
});

test("a dropped socket reconnects and resumes from the last applied position, exactly once", async () => {
  vi.useFakeTimers();
  FakeSocket.all = [];
  const applied: number[] = [];
  const states: Connection[] = [];
  const rt = realtime({
    onEvent: (e) => applied.push(e.position),
    onConnection: (c) => states.push(c),
  });
  rt.start(null);
  await vi.runOnlyPendingTimersAsync();
  const first = FakeSocket.all[0]!;
  expect(first.protocols).toEqual(["kefu.v1", "kefu.ticket.x"]);
  first.open();
  expect(first.sent[0]).toEqual({ type: "hello", batch: true });
  first.push({ type: "ready", position: 10 });
  first.push({ type: "event", ...ev(11) });
  first.push({ type: "event", ...ev(12) });
  first.close(1006);
  expect(states.at(-1)).toBe("reconnecting");
  await vi.advanceTimersByTimeAsync(1000);
  const second = FakeSocket.all[1]!;
  second.open();
  expect(second.sent[0]).toEqual({ type: "hello", batch: true, since: 12 });
  // a replay that overlaps what was applied is not applied twice
  second.push({ type: "event", ...ev(12) });
  second.push({ type: "event", ...ev(13) });
  second.push({ type: "ready", position: 13 });
  expect(applied).toEqual([11, 12, 13]);
  expect(states.at(-1)).toBe("live");
  rt.stop();
  vi.useRealTimers();
});

test("a closed session (4001) stops reconnecting", async () => {
  FakeSocket.all = [];
  const states: Connection[] = [];
  const rt = realtime({ onConnection: (c) => states.push(c) });
  rt.start(null);
  await new Promise((r) => setTimeout(r, 0));
  FakeSocket.all[0]!.open();
  FakeSocket.all[0]!.close(4001);
  expect(states.at(-1)).toBe("signed_out");
  expect(FakeSocket.all).toHaveLength(1);
});

test("a dropped socket comes back with its resume ticket, and asks for a ticket once that is refused", async () => {
  vi.useFakeTimers();
  FakeSocket.all = [];
  let asked = 0;
  const rt = realtime({ ticket: async () => `kefu.ticket.http${++asked}` });
  rt.start(null);
  await vi.runOnlyPendingTimersAsync();
  const first = FakeSocket.all[0]!;
  first.open();
  first.push({ type: "ready", position: 5, resume: "kefu.ticket.r1", resume_expires_in: 300 });
  first.push({ type: "pong", position: 6, resume: "kefu.ticket.r2", resume_expires_in: 300 });
  first.close(1006);
  await vi.advanceTimersByTimeAsync(1000);
  const second = FakeSocket.all[1]!;
  expect(second.protocols).toEqual(["kefu.v1", "kefu.ticket.r2"]);
  expect(asked).toBe(1);
  second.close(1006); // refused before `ready`: the next attempt asks over HTTP, at once
  await vi.advanceTimersByTimeAsync(0);
  expect(FakeSocket.all[2]!.protocols).toEqual(["kefu.v1", "kefu.ticket.http2"]);
  rt.stop();
  vi.useRealTimers();
});

test("a batch frame is handled as its frames one by one, in order", async () => {
  FakeSocket.all = [];
  const applied: number[] = [];
  const states: Connection[] = [];
  const rt = realtime({
    onEvent: (e) => applied.push(e.position),
    onConnection: (c) => states.push(c),
  });
  rt.start(null);
  await new Promise((r) => setTimeout(r, 0));
  const ws = FakeSocket.all[0]!;
  ws.open();
  const [e4, e5, e6] = [ev(4), ev(5), ev(6)].map((e) => ({ type: "event", ...e }));
  ws.push({ type: "batch", frames: [e4, e5, { type: "ready", position: 5 }] });
  ws.push({ type: "batch", frames: [e5, e6] });
  expect(applied).toEqual([4, 5, 6]); // the repeated 5 is not applied twice
  expect(states.at(-1)).toBe("live");
  expect(rt.position).toBe(6);
  rt.stop();
});
