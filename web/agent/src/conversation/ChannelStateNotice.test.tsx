import { render, screen } from "@testing-library/react";
import type { Conversation } from "../api/types";
import { ChannelStateNotice } from "./ChannelStateNotice";

test("a channel's refusal to follow the conversation is a short notice with its reason", () => {
  const conv = { id: "c1", status: "open", channel_state_refused: null } as Conversation;
  const { rerender } = render(<ChannelStateNotice conv={conv} />);
  expect(screen.queryByTestId("channel-state-refused")).toBeNull();
  const refused = { status: "open" as const, reason: "wecom 95016: not allowed", at: "2026-01-01T00:00:00Z" };
  rerender(<ChannelStateNotice conv={{ ...conv, channel_state_refused: refused }} />);
  const notice = screen.getByTestId("channel-state-refused");
  expect(notice.getAttribute("role")).toBe("status");
  expect(notice.textContent).toContain("wecom 95016: not allowed");
});
