// The protocol client against a scripted server: resuming by position and seq, no duplicate
// messages, sends retried with the same client_msg_id, and a silent socket replaced.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { KefuClient } from "../src/client/client";
import type { WebSocketCtor } from "../src/client/transport";
import type { Message } from "../src/client/types";
import { CONV, FakeServer, FakeSocket, message, settle } from "./fakes";

let server: FakeServer;

function client(extra: { pingMs?: number; retryMs?: number } = {}): KefuClient {
  return new KefuClient({
    baseUrl: "http://kefu.test",
    inboxKey: "ik_test_key",
    fetch: server.fetch,
    WebSocket: FakeSocket as unknown as WebSocketCtor,
    ...extra,
  });
}

/** Starts the client and brings its first socket live at stream `position`. */
async function live(c: KefuClient, position = 10): Promise<FakeSocket> {
  await c.start();
  await settle();
  const ws = FakeSocket.last();
  ws.open();
  ws.receive({ type: "ready", position });
  await settle();
  return ws;
}

function created(m: Message, position: number): Record<string, unknown> {
  return {
    type: "event",
    position,
    event: { type: "message.created", message: m, conversation_status: "open" },
  };
}

/** Waits out the reconnect backoff and brings the new socket live. */
async function reconnect(position: number): Promise<FakeSocket> {
  const before = FakeSocket.all.length;
  await vi.advanceTimersByTimeAsync(1000);
  await settle();
  expect(FakeSocket.all.length).toBe(before + 1);
  const ws = FakeSocket.last();
  ws.open();
  return ws;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  FakeSocket.all = [];
  server = new FakeServer();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("resuming", () => {
  it("says hello from the last position it saw, and takes what it missed from the replay alone", async () => {
    server.messages = [message(1), message(2)];
    const c = client();
    const first = await live(c, 10);
    expect(first.frames("hello")).toEqual([{ type: "hello", batch: true }]);
    expect(c.items().map((i) => i.seq)).toEqual([1, 2]);

    first.receive(created(message(3), 12));
    first.receive({ type: "pong", position: 14 });
    expect(c.items().map((i) => i.seq)).toEqual([1, 2, 3]);

    first.drop();
    expect(c.connection).toBe("reconnecting");
    server.messages.push(message(3), message(4), message(5)); // 4 and 5 came while away
    server.requests = [];
    const second = await reconnect(14);
    expect(second.frames("hello")).toEqual([{ type: "hello", batch: true, since: 14 }]);
    second.receive(created(message(4), 15)); // the server replays what came after 14...
    second.receive(created(message(5), 16));
    second.receive({ type: "ready", position: 16 }); // ...then says ready
    await settle();
    expect(c.items().map((i) => i.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(server.requests.filter((r) => r.startsWith("GET"))).toEqual([]); // no HTTP read
    expect(c.connection).toBe("online");
  });

  it("handles a batch frame as its frames one by one, in order", async () => {
    server.messages = [message(1), message(2)];
    const c = client();
    const ws = await live(c, 10);
    ws.receive({
      type: "batch",
      frames: [created(message(3), 11), created(message(4), 12), { type: "pong", position: 12 }],
    });
    ws.receive({ type: "batch", frames: [created(message(4), 12), created(message(5), 13)] });
    expect(c.items().map((i) => i.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it("reads the thread over HTTP after resync_required, when the stream skipped events", async () => {
    server.messages = [message(1)];
    const c = client();
    const first = await live(c, 10);
    first.drop();
    server.messages.push(message(2), message(3)); // too long ago for the stream to replay
    server.requests = [];
    const second = await reconnect(10);
    expect(second.frames("hello")).toEqual([{ type: "hello", batch: true, since: 10 }]);
    second.receive({ type: "resync_required", position: 90 });
    expect(second.frames("hello").at(-1)).toEqual({ type: "hello", batch: true, since: 90 });
    second.receive({ type: "ready", position: 90 });
    await settle();
    expect(server.requests).toContain(`GET /conversations/${CONV}/messages?after_seq=1&limit=200`);
    expect(c.items().map((i) => i.seq)).toEqual([1, 2, 3]);
  });

  it("reads the thread over HTTP after its session had to be opened again", async () => {
    server.messages = [message(1)];
    const c = client();
    const first = await live(c, 10);
    first.drop();
    server.messages.push(message(2));
    server.failNext = "POST /realtime/ticket:401"; // the session expired while away
    server.requests = [];
    const second = await reconnect(10);
    expect(server.requests).toContain("POST /sessions");
    second.receive({ type: "ready", position: 12 });
    await settle();
    expect(server.requests).toContain(`GET /conversations/${CONV}/messages?after_seq=1&limit=200`);
    expect(c.items().map((i) => i.seq)).toEqual([1, 2]);
  });

  it("reads the thread over HTTP again after a resume if the last read failed", async () => {
    server.messages = [message(1)];
    server.failNext = "GET /conversations";
    const c = client();
    const first = await live(c, 10);
    expect(c.items()).toEqual([]);
    first.drop();
    const second = await reconnect(10);
    second.receive({ type: "ready", position: 10 });
    await settle();
    expect(c.items().map((i) => i.seq)).toEqual([1]);
  });

  it("comes back with the resume ticket of ready or pong, and asks over HTTP once it is refused", async () => {
    const c = client();
    const first = await live(c, 10);
    first.receive({ type: "pong", position: 11, resume: "kefu.ticket.r1", resume_expires_in: 300 });
    first.drop();
    server.requests = [];
    const second = await reconnect(11);
    expect(second.protocols).toEqual(["kefu.v1", "kefu.ticket.r1"]);
    expect(server.requests).not.toContain("POST /realtime/ticket");
    second.drop(); // refused before ready: a ticket is asked for at once, no back-off
    await settle();
    expect(server.requests).toContain("POST /realtime/ticket");
    expect(FakeSocket.last().protocols).toEqual(["kefu.v1", "kefu.ticket.t"]);
  });

  it("fills a gap in seq at once, without waiting for a reconnect", async () => {
    server.messages = [message(1)];
    const c = client();
    const ws = await live(c);
    server.messages.push(message(2), message(3));
    ws.receive(created(message(3), 11)); // 2 never came as an event
    await settle();
    expect(c.items().map((i) => i.seq)).toEqual([1, 2, 3]);
  });

  it("re-sends hello from the position resync_required gives", async () => {
    const c = client();
    const ws = await live(c, 10);
    ws.receive({ type: "resync_required", position: 42 });
    expect(ws.frames("hello").at(-1)).toEqual({ type: "hello", batch: true, since: 42 });
  });
});

describe("no duplicates", () => {
  it("keeps one copy of a message that arrives as an event, a replay and a page", async () => {
    server.messages = [message(1)];
    const c = client();
    const seen: (number | null)[] = [];
    c.on("message", (m) => seen.push(m.seq));
    const first = await live(c);
    first.receive(created(message(2), 11));
    first.receive(created(message(2), 11)); // the same frame twice
    first.drop();
    server.messages.push(message(2));
    const second = await reconnect(11);
    second.receive(created(message(2), 11)); // replayed after hello {since}
    second.receive({ type: "ready", position: 12 });
    await settle();
    expect(c.items().map((i) => i.seq)).toEqual([1, 2]);
    expect(seen).toEqual([2]);
  });

  it("shows a sent message once: the ack, its event and a later page are the same item", async () => {
    const c = client();
    const ws = await live(c);
    const id = c.send("hello");
    await settle();
    ws.receive({ type: "ack", client_msg_id: id, message_id: "m-1", seq: 1 });
    const own = message(1, { sender_kind: "customer", client_msg_id: id, content: "hello" });
    ws.receive(created(own, 11));
    server.messages = [own];
    ws.drop();
    const again = await reconnect(11);
    again.receive({ type: "ready", position: 12 });
    await settle();
    const items = c.items();
    expect(items.map((i) => [i.key, i.seq, i.status])).toEqual([[`c:${id}`, 1, "sent"]]);
  });
});

describe("sending", () => {
  it("retries with the same client_msg_id until acknowledged, and after a reconnect", async () => {
    const c = client({ retryMs: 8000 });
    const ws = await live(c);
    const id = c.send("where is my parcel?");
    await settle();
    expect(ws.frames("send")).toHaveLength(1);
    expect(ws.frames("send")[0]).toMatchObject({
      client_msg_id: id,
      conversation_id: CONV,
      content: "where is my parcel?",
      msg_type: "text",
    });

    await vi.advanceTimersByTimeAsync(8100); // no ack: the same frame again
    expect(ws.frames("send").map((f) => f.client_msg_id)).toEqual([id, id]);

    ws.drop();
    const again = await reconnect(10);
    again.receive({ type: "ready", position: 10 });
    await settle();
    await vi.advanceTimersByTimeAsync(8100);
    const resent = again.frames("send");
    expect(resent.length).toBeGreaterThanOrEqual(1);
    expect(resent.every((f) => f.client_msg_id === id)).toBe(true);

    again.receive({ type: "ack", client_msg_id: id, message_id: "m-1", seq: 1 });
    const count = again.frames("send").length;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(again.frames("send")).toHaveLength(count); // acknowledged: never sent again
    expect(c.items().map((i) => [i.key, i.status])).toEqual([[`c:${id}`, "sent"]]);
  });

  it("keeps a send refused as unavailable pending and sends it again with the same id", async () => {
    const c = client();
    const ws = await live(c);
    const id = c.send("during the outage");
    await settle();
    ws.receive({ type: "error", client_msg_id: id, code: "unavailable" });
    expect(c.items()[0].status).toBe("sending");
    await vi.advanceTimersByTimeAsync(8100);
    expect(ws.frames("send").map((f) => f.client_msg_id)).toEqual([id, id]);
    ws.receive({ type: "ack", client_msg_id: id, message_id: "m-1", seq: 1 });
    expect(c.items()[0].status).toBe("sent");
  });

  it("marks a refused send failed and sends it again, with the same id, on retry()", async () => {
    const c = client();
    const ws = await live(c);
    const id = c.send("x");
    await settle();
    ws.receive({ type: "error", client_msg_id: id, code: "invalid_input" });
    expect(c.items()[0]).toMatchObject({ status: "failed", error: "invalid_input" });
    c.retry(id);
    expect(ws.frames("send").map((f) => f.client_msg_id)).toEqual([id, id]);
    expect(c.items()[0].status).toBe("sending");
  });
});

describe("keeping the socket alive", () => {
  it("replaces a socket that has not answered the previous ping", async () => {
    const c = client({ pingMs: 1000 });
    const ws = await live(c);
    await vi.advanceTimersByTimeAsync(1000);
    expect(ws.frames("ping")).toHaveLength(1);
    ws.receive({ type: "pong", position: 11 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(ws.frames("ping")).toHaveLength(2); // answered: the same socket pings again
    expect(ws.closed).toBeNull();

    await vi.advanceTimersByTimeAsync(1000); // the second ping went unanswered
    expect(ws.closed).toEqual({ code: 4000, reason: "no pong" });
    expect(c.connection).toBe("reconnecting");
    const next = await reconnect(11);
    expect(next).not.toBe(ws);
    expect(next.frames("hello")).toEqual([{ type: "hello", batch: true, since: 11 }]);
  });

  it("ignores frames from a socket it already replaced", async () => {
    const c = client({ pingMs: 1000 });
    const ws = await live(c);
    await vi.advanceTimersByTimeAsync(2000);
    expect(ws.closed).not.toBeNull();
    ws.receive(created(message(1), 11));
    expect(c.items()).toEqual([]);
  });
});
