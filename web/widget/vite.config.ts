import { defineConfig } from "vite";

// The chat page that kefu serves at /widget/chat.html and the loader frames.
export default defineConfig({
  base: "/widget/",
  build: {
    outDir: "../../src/kefu/static/widget",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2020",
    modulePreload: { polyfill: false },
    rollupOptions: { input: "chat.html" },
  },
});
