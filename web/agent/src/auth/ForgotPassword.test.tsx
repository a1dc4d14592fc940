import { fireEvent, render, screen } from "@testing-library/react";
import { ForgotPassword } from "./Reset";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

function answer(status: number, body: unknown): { body: unknown }[] {
  const asked: { body: unknown }[] = [];
  globalThis.fetch = (async (_url: string, init?: RequestInit) => {
    asked.push({ body: init?.body ? JSON.parse(String(init.body)) : undefined });
    return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  }) as typeof fetch;
  return asked;
}

async function send(email: string) {
  render(<ForgotPassword email={email} />);
  fireEvent.submit(screen.getByRole("form", { name: "Reset your password" }));
  return screen.findByTestId("forgot-result");
}

it("says a link is on its way whatever the address (202)", async () => {
  const asked = answer(202, { message: "if this address has an account, a link is on its way" });
  const result = await send(" ann@shop.test ");
  expect(result.textContent).toContain("a link is on its way");
  expect(asked).toEqual([{ body: { email: "ann@shop.test" } }]);
});

it("says to ask an admin when the server sends no mail (409)", async () => {
  answer(409, { error: { code: "mail_not_configured", message: "this server sends no mail" } });
  const result = await send("ann@shop.test");
  expect(result.textContent).toBe("This server sends no mail: ask your admin to reset your password.");
  expect(result.getAttribute("role")).toBe("alert");
});

it("says to wait after too many requests (429)", async () => {
  answer(429, { error: { code: "rate_limited", message: "too many reset requests" } });
  expect((await send("ann@shop.test")).textContent).toBe("Too many requests. Try again in a few minutes.");
});
