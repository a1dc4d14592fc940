import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { ChannelReach, Contact, Conversation, Inbox } from "../api/types";
import { emptyState } from "../state/reducer";
import { store } from "../state/store";
import { ClosedWindow } from "./ClosedWindow";

const conv = { id: "c1", inbox_id: "wx", contact_id: "k1", window: null } as Conversation;
const reach: ChannelReach[] = [
  { conversation_id: "c1", inbox_id: "wx", inbox_name: "WeChat", channel: "wechat_oa", status: "open", current: true, window: null, can_send: false, reason: "window_closed: …", last_message_at: null },
  { conversation_id: "c2", inbox_id: "tg", inbox_name: "Telegram", channel: "telegram", status: "resolved", current: false, window: null, can_send: true, reason: null, last_message_at: null },
];

/** The server, as far as this screen talks to it: what it was asked, and its answers. */
function server(answers: Record<string, () => Response>): { method: string; url: string; body: unknown }[] {
  const asked: { method: string; url: string; body: unknown }[] = [];
  globalThis.fetch = (async (url: string, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    asked.push({ method, url, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    const answer = answers[`${method} ${url}`];
    return answer ? answer() : new Response("{}", { status: 404 });
  }) as typeof fetch;
  return asked;
}

const json = (status: number, body: unknown) => () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

beforeEach(() => {
  location.hash = "";
  act(() =>
    store.set({
      data: {
        ...emptyState(),
        contacts: { k1: { id: "k1", name: "Ana", email: "ana@cust.test", identities: [] } as unknown as Contact },
        inboxes: { wx: { id: "wx", name: "WeChat", channel: "wechat_oa" } as Inbox, mail: { id: "mail", name: "Mail", channel: "email" } as Inbox },
      },
    }),
  );
});

test("the closed window says why and offers the other conversation and a new email", async () => {
  const asked = server({
    "GET /api/v1/conversations/c1/channels": json(200, reach),
    "POST /api/v1/conversations/c1/email": json(201, { ...conv, id: "c9", inbox_id: "mail" }),
  });
  render(<ClosedWindow conv={conv} why="expired" />);
  expect(screen.getByTestId("window-closed").textContent).toContain("last message is too old");
  const link = await screen.findByTestId("reach-open");
  expect(link.getAttribute("href")).toBe("#/c/c2");
  expect(link.textContent).toContain("Telegram");
  const form = screen.getByTestId("reach-email");
  expect((screen.getByLabelText("Email address") as HTMLInputElement).value).toBe("ana@cust.test");
  fireEvent.change(screen.getByLabelText("Subject"), { target: { value: "Your parcel" } });
  fireEvent.submit(form);
  await waitFor(() => expect(location.hash).toBe("#/c/c9"));
  expect(asked.at(-1)).toEqual({
    method: "POST",
    url: "/api/v1/conversations/c1/email",
    body: { inbox_id: "mail", to: "ana@cust.test", subject: "Your parcel" },
  });
  expect(store.get().data.conversations["c9"]?.inbox_id).toBe("mail");
});

test("an email conversation started meanwhile opens instead; other refusals are shown", async () => {
  server({
    "GET /api/v1/conversations/c1/channels": json(200, reach.slice(0, 1)),
    "POST /api/v1/conversations/c1/email": json(409, { error: { code: "conversation_open", message: "open", details: { conversation_id: "c7" } } }),
  });
  render(<ClosedWindow conv={conv} why="no_window" />);
  fireEvent.submit(await screen.findByTestId("reach-email"));
  await waitFor(() => expect(location.hash).toBe("#/c/c7"));

  server({
    "GET /api/v1/conversations/c1/channels": json(200, reach.slice(0, 1)),
    "POST /api/v1/conversations/c1/email": json(422, { error: { code: "no_mail_inbox", message: "no email inbox can send mail" } }),
  });
  location.hash = "";
  render(<ClosedWindow conv={{ ...conv, id: "c1" }} why="exhausted" />);
  const forms = await screen.findAllByTestId("reach-email");
  fireEvent.submit(forms.at(-1) as HTMLElement);
  expect(await screen.findByRole("alert")).toHaveProperty("textContent", "No email inbox can send mail.");
  expect(location.hash).toBe("");
});

test("nothing to offer: it says so", async () => {
  server({ "GET /api/v1/conversations/c1/channels": json(200, reach.slice(0, 1)) });
  act(() => store.set({ data: { ...store.get().data, inboxes: {} } }));
  render(<ClosedWindow conv={conv} why="no_window" />);
  expect(await screen.findByText(/No other channel of this contact/)).toBeTruthy();
});
