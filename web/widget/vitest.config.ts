import { defineConfig } from "vitest/config";

// Unit tests of the protocol client (no DOM): `npm run test`.
export default defineConfig({
  test: { include: ["test/**/*.test.ts"], environment: "node" },
});
