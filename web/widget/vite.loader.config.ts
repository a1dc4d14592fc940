import { defineConfig } from "vite";

// The one script a host page includes: /widget/loader.js (a classic script, no modules).
export default defineConfig({
  publicDir: false,
  build: {
    outDir: "../../src/kefu/static/widget",
    emptyOutDir: false,
    target: "es2018",
    lib: {
      entry: "src/loader/main.ts",
      name: "KefuLoader",
      formats: ["iife"],
      fileName: () => "loader.js",
    },
  },
});
