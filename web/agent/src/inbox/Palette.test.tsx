import { act, fireEvent, render, screen } from "@testing-library/react";
import type { Conversation } from "../api/types";
import { openOverlay } from "../ui/overlays";
import { HelpDialog } from "./HelpDialog";
import { matchConversations } from "./Palette";
import { initials } from "./TopBar";

const base = {
  inbox_id: "i1",
  team_id: null,
  priority: "normal",
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
  status: "open",
  assignee_id: null,
} as const;

function c(id: string, contact: string, at: string): Conversation {
  return { ...base, tags: [], id, contact_id: contact, updated_at: at };
}

test("the palette finds conversations by contact name or id, newest first, at most the limit", () => {
  const names: Record<string, string> = { k1: "Mei Chen", k2: "Kenji Sato", k3: "Ana Souza" };
  const all = [c("aaa-1", "k1", "2026-01-01T00:00:01Z"), c("bbb-2", "k2", "2026-01-01T00:00:03Z"), c("ccc-3", "k3", "2026-01-01T00:00:02Z")];
  const nameOf = (x: Conversation) => names[x.contact_id] ?? "";
  expect(matchConversations(all, nameOf, "").map((x) => x.id)).toEqual(["bbb-2", "ccc-3", "aaa-1"]);
  expect(matchConversations(all, nameOf, "SOU").map((x) => x.id)).toEqual(["ccc-3"]);
  expect(matchConversations(all, nameOf, "bbb").map((x) => x.id)).toEqual(["bbb-2"]);
  expect(matchConversations(all, nameOf, "a", 2)).toHaveLength(2);
  expect(matchConversations(all, nameOf, "nobody")).toEqual([]);
});

test("an avatar shows two initials", () => {
  expect(initials("Mei Chen")).toBe("MC");
  expect(initials("admin")).toBe("AD");
  expect(initials("山田")).toBe("山田");
  expect(initials("  ")).toBe("?");
});

test("the shortcuts are a dialog with a name that Escape closes", () => {
  render(<HelpDialog />);
  expect(screen.queryByRole("dialog")).toBeNull();
  act(() => openOverlay("help"));
  const dialog = screen.getByRole("dialog", { name: "Keyboard shortcuts" });
  expect(dialog.textContent).toContain("Command palette");
  fireEvent.keyDown(dialog, { key: "Escape" });
  expect(screen.queryByRole("dialog")).toBeNull();
});
