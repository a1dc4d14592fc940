// The TypeScript reducer must reach the same state as the server's Python reducer: the fixture
// holds the state before, the events a real scenario recorded, and the fresh fetch after
// (written by tests/web/test_reducer_parity.py; KEFU_REDUCER_FIXTURE points at a fresh one).

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KefuEvent } from "../api/types";
import { type State, applyAll } from "./reducer";

interface Fixture {
  before: State;
  events: KefuEvent[];
  after: State;
}

const here = dirname(fileURLToPath(import.meta.url));
const path = process.env["KEFU_REDUCER_FIXTURE"] ?? join(here, "parity.fixture.json");

test("events applied by the TypeScript reducer give the server's fresh fetch", () => {
  const f = JSON.parse(readFileSync(path, "utf8")) as Fixture;
  const frozen = structuredClone(f.before);
  const result = applyAll(f.before, f.events);
  expect(result).toEqual(f.after);
  expect(f.before).toEqual(frozen); // the reducer never mutates what it was given
});
