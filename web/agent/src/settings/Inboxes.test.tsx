import type { Inbox } from "../api/types";
import { SOURCE_PATTERN, embedSnippet } from "./Inboxes";

const inbox = { key: "ik_abc" } as Inbox;

test("the embed snippet is the widget loader with the inbox key, and the source when given", () => {
  expect(embedSnippet(inbox, "https://kefu.example.com")).toBe(
    '<script async src="https://kefu.example.com/widget/loader.js" data-inbox-key="ik_abc"></script>',
  );
  expect(embedSnippet(inbox, "https://k.example", 'poster/"x"<')).toBe(
    '<script async src="https://k.example/widget/loader.js" data-inbox-key="ik_abc" data-source="poster/&quot;x&quot;&lt;"></script>',
  );
});

test("the source field accepts what the server accepts", () => {
  const re = new RegExp(`^(?:${SOURCE_PATTERN})$`, "v");
  for (const ok of ["shop:上海-7", "poster/2026-spring", "a", "x@y+z.w"]) expect(re.test(ok)).toBe(true);
  for (const bad of ["", "-lead", "has space", "a<b", "x".repeat(101)]) expect(re.test(bad)).toBe(false);
});
