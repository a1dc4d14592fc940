import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Built into the Python package: kefu serves it at /app (src/kefu/api/webapp.py).
export default defineConfig({
  base: "/app/",
  plugins: [react()],
  build: {
    outDir: "../../src/kefu/static/agent",
    emptyOutDir: true,
    sourcemap: false,
  },
  test: {
    environment: "jsdom",
    globals: true,
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
