// Measures what a visitor downloads (gzip, level 9) and fails the build over budget.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const out = new URL("../../../src/kefu/static/widget/", import.meta.url).pathname;
const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
const assets = readdirSync(join(out, "assets")).filter((f) => /\.(js|css)$/.test(f));
const sizes = {
  loader_gzip_bytes: gz(join(out, "loader.js")),
  app_gzip_bytes:
    gz(join(out, "chat.html")) + assets.reduce((n, f) => n + gz(join(out, "assets", f)), 0),
};
const budget = { loader_gzip_bytes: 10 * 1024, app_gzip_bytes: 80 * 1024 };
writeFileSync(join(out, "sizes.json"), JSON.stringify(sizes) + "\n");
console.log(`widget: loader ${sizes.loader_gzip_bytes} B gzip, app ${sizes.app_gzip_bytes} B gzip`);
for (const [k, v] of Object.entries(sizes)) {
  if (v > budget[k]) {
    console.error(`over budget: ${k} = ${v} > ${budget[k]}`);
    process.exit(1);
  }
}
