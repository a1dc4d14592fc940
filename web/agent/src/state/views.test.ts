import type { Conversation } from "../api/types";
import { byActivity, inView, matches, savedQuery, toSaved, viewQuery } from "./views";

const base = {
  inbox_id: "i1",
  contact_id: "k",
  team_id: null,
  priority: "normal",
  tags: [],
  source: null,
  last_seq: 0,
  customer_read_seq: 0,
  agent_read_seq: 0,
  created_at: "2026-01-01T00:00:00Z",
  last_message_at: null,
  first_response_at: null,
  resolved_at: null,
  snoozed_until: null,
  window: null,
} as const;

function c(id: string, status: Conversation["status"], assignee: string | null, at: string): Conversation {
  return { ...base, tags: [], id, status, assignee_id: assignee, updated_at: at };
}

test("views ask the server and admit live conversations by the same rule", () => {
  expect(viewQuery("mine", "me", {})).toMatchObject({ assignee: "me", status: ["open", "pending", "snoozed"] });
  expect(viewQuery("unassigned", "me", {}).assignee).toBe("none");
  const mine = c("1", "open", "me", "2026-01-01T00:00:01Z");
  const theirs = c("2", "open", "you", "2026-01-01T00:00:02Z");
  const queued = c("3", "queued", null, "2026-01-01T00:00:03Z");
  const bot = c("4", "bot", null, "2026-01-01T00:00:04Z");
  const done = c("5", "resolved", "me", "2026-01-01T00:00:05Z");
  const all = [mine, theirs, queued, bot, done];
  const ids = (v: Parameters<typeof inView>[1]) => all.filter((x) => inView(x, v, "me", {})).map((x) => x.id);
  expect(ids("mine")).toEqual(["1"]);
  expect(ids("unassigned")).toEqual(["3"]);
  expect(ids("queued")).toEqual(["3"]);
  expect(ids("bot")).toEqual(["4"]);
  expect(ids("resolved")).toEqual(["5"]);
  expect(ids("all")).toEqual(["1", "2", "3", "4"]);
  expect(all.filter((x) => inView(x, "all", "me", { status: "bot" })).map((x) => x.id)).toEqual(["4"]);
  expect([...all].sort(byActivity).map((x) => x.id)).toEqual(["5", "4", "3", "2", "1"]);
});

test("the waiting order lists only the waiting; saved views round-trip the filters", () => {
  const waiting = { ...c("w", "open", "me", "2026-01-01T00:00:01Z"), waiting_since: "2026-01-01T00:00:00Z" };
  const answered = { ...c("x", "open", "me", "2026-01-01T00:00:02Z"), waiting_since: null };
  const q = viewQuery("mine", "me", { sort: "waiting" });
  expect(q.sort).toBe("waiting");
  expect(matches(waiting, q)).toBe(true);
  expect(matches(answered, q)).toBe(false);
  expect(viewQuery("mine", "me", { sort: "waiting", q: "parcel" }).sort).toBeUndefined(); // search: activity
  const filters = toSaved("mine", "me", { priority: "urgent", tag: "vip" });
  expect(filters).toEqual({ status: ["open", "pending", "snoozed"], assignee: "me", priority: "urgent", tag: "vip" });
  const view = { id: "v", name: "Urgent", filters, sort: "priority" as const, created_at: "", updated_at: "" };
  expect(savedQuery(view, "agent-7")).toMatchObject({ assignee: "agent-7", priority: "urgent", tag: "vip", sort: "priority" });
});
