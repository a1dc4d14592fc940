import type { Conversation } from "../api/types";
import { comparator, initials, previewOf, relative, slaState, visitorName, waitedMs } from "./triage";

// The same vectors as tests/domain/test_triage.py: the server and the app name a visitor alike.
test("visitor names match the server's and are translated", () => {
  expect(visitorName("01a252c0-72b0-707a-8b6b-43d22d7fd301", "en")).toBe("Blue Heron 75");
  expect(visitorName("00000000-0000-7000-8000-000000000000", "en")).toBe("Amber Badger 10");
  expect(visitorName("01a252c0-6ef1-7013-a9c2-ffffffffffff", "en")).toBe("Violet Penguin 70");
  expect(visitorName("01a252c0-72b0-707a-8b6b-43d22d7fd301", "zh-CN")).toBe("蓝色苍鹭 75");
  expect(visitorName("01a252c0-72b0-707a-8b6b-43d22d7fd301", "ja")).toBe("青いサギ 75");
  expect(initials("Blue Heron 75")).toBe("BH");
  expect(initials("蓝色苍鹭 75")).toBe("蓝7");
  expect(initials("Mei")).toBe("ME");
});

test("previews fold whitespace and stop at 140 code points, as the server's", () => {
  expect(previewOf("  a\n\tb  ")).toBe("a b");
  const long = previewOf(" a\n\tb  😀".repeat(50));
  expect(Array.from(long)).toHaveLength(140);
  expect(long.startsWith("a b 😀 a b")).toBe(true);
});

const base: Conversation = {
  id: "c",
  inbox_id: "i",
  contact_id: "k",
  status: "open",
  assignee_id: null,
  team_id: null,
  priority: "normal",
  tags: [],
  source: null,
  last_seq: 1,
  customer_read_seq: 0,
  agent_read_seq: 0,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  last_message_at: null,
  first_response_at: null,
  resolved_at: null,
  snoozed_until: null,
  window: null,
};
const now = Date.parse("2026-01-01T01:00:00Z");

test("waiting time and SLA states as of now", () => {
  const waiting = { ...base, waiting_since: "2026-01-01T00:55:00Z" };
  expect(waitedMs(waiting, now)).toBe(5 * 60_000);
  expect(waitedMs(base, now)).toBeNull();
  expect(relative("2026-01-01T00:55:00Z", now, "en")).toBe("5 min. ago");
  expect(relative("2026-01-01T00:55:00Z", now, "ja")).toContain("5");
  expect(relative("2026-01-01T00:59:40Z", now, "en")).toBe("now");
  const due = (at: string, extra: Partial<Conversation> = {}) => slaState({ ...base, first_response_due_at: at, ...extra }, now);
  expect(due("2026-01-01T00:59:00Z")).toBe("breached");
  expect(due("2026-01-01T01:03:00Z")).toBe("soon");
  expect(due("2026-01-01T02:00:00Z")).toBe("due");
  expect(due("2026-01-01T00:59:00Z", { first_response_at: "2026-01-01T00:58:00Z" })).toBeNull();
  expect(slaState(base, now)).toBeNull();
});

test("the client orders rows as the server's sorts do", () => {
  const a = { ...base, id: "a", waiting_since: "2026-01-01T00:10:00Z", priority: "urgent" as const, updated_at: "2026-01-01T00:01:00Z" };
  const b = { ...base, id: "b", waiting_since: "2026-01-01T00:05:00Z", updated_at: "2026-01-01T00:03:00Z" };
  const c = { ...base, id: "c", waiting_since: null, priority: "high" as const, updated_at: "2026-01-01T00:02:00Z" };
  const ids = (s: Parameters<typeof comparator>[0]) => [a, b, c].sort(comparator(s)).map((x) => x.id);
  expect(ids("waiting").slice(0, 2)).toEqual(["b", "a"]);
  expect(ids("priority")).toEqual(["a", "c", "b"]);
  expect(ids("activity")).toEqual(["b", "c", "a"]);
});
