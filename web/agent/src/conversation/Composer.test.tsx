import { act, fireEvent, render, screen } from "@testing-library/react";
import type { Agent, CannedReply, Conversation } from "../api/types";
import { emptyState } from "../state/reducer";
import { store } from "../state/store";
import { Composer, cannedMatches, mentionsIn } from "./Composer";

const reply = (shortcut: string, content: string): CannedReply => ({
  id: shortcut,
  shortcut,
  title: shortcut,
  content,
  created_by: null,
  updated_at: "t",
});

test("/shortcut finds canned replies by prefix", () => {
  const all = [reply("refund", "R"), reply("ref", "X"), reply("hello", "H")];
  expect(cannedMatches("/re", all).map((r) => r.shortcut)).toEqual(["ref", "refund"]);
  expect(cannedMatches("/", all)).toHaveLength(3);
  expect(cannedMatches("re", all)).toEqual([]);
  expect(cannedMatches("/re fund", all)).toEqual([]);
});

test("@Name in a note names the agent", () => {
  const a = { id: "a1", name: "Li Wei" } as Agent;
  const b = { id: "a2", name: "Sato" } as Agent;
  expect(mentionsIn("@Li Wei can you look? cc @Sato", [a, b])).toEqual(["a1", "a2"]);
  expect(mentionsIn("Li Wei without at", [a, b])).toEqual([]);
});

test("the composer inserts a canned reply and keeps a draft per conversation", () => {
  const conv = { id: "c-draft", status: "open" } as Conversation;
  act(() => store.set({ data: { ...emptyState(), canned_replies: { r: reply("thanks", "Thank you!") } } }));
  const { unmount } = render(<Composer conv={conv} />);
  const box = screen.getByTestId("composer") as HTMLTextAreaElement;
  fireEvent.change(box, { target: { value: "/tha" } });
  expect(screen.getByTestId("canned-suggestions").textContent).toContain("/thanks");
  fireEvent.keyDown(box, { key: "Enter" });
  expect(box.value).toBe("Thank you!");
  unmount();
  render(<Composer conv={conv} />);
  expect((screen.getByTestId("composer") as HTMLTextAreaElement).value).toBe("Thank you!");
});

test("with the messaging window closed, replies are off and say why; notes still work", () => {
  const conv = { id: "c-closed", status: "open" } as Conversation;
  act(() => store.set({ data: emptyState() }));
  render(<Composer conv={conv} closed />);
  const box = screen.getByTestId("composer") as HTMLTextAreaElement;
  expect(box.disabled).toBe(true);
  expect(screen.getByTestId("composer-closed").textContent).toContain("window is closed");
  expect((screen.getByTestId("send") as HTMLButtonElement).disabled).toBe(true);
  expect(screen.queryByTestId("attach")).toBeNull();
  fireEvent.click(screen.getByTestId("note-mode"));
  expect(box.disabled).toBe(false);
  expect(screen.queryByTestId("composer-closed")).toBeNull();
  fireEvent.change(box, { target: { value: "called the customer" } });
  expect((screen.getByTestId("send") as HTMLButtonElement).disabled).toBe(false);
});
