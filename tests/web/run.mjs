// The browser tests: Debian's Chromium driven by playwright-core, one
// launch for every journey (tests/web/journeys/*.mjs, one file each),
// against the real tallyd on ephemeral loopback ports.
//   node tests/web/run.mjs BUILD
// Prints "N passed, N failed" last; exits non-zero if any failed.
import { readdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, startServer, markupCatalog, top } from "./lib.mjs";

const build = resolve(process.argv[2] || join(top, "build", "dev"));
const only = process.argv[3];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const server = await startServer(build, markupCatalog(mkdtempSync(join(tmpdir(), "tally-cat-"))));
let passed = 0, failed = 0;
const dir = join(top, "tests", "web", "journeys");
for (const file of readdirSync(dir).filter((f) => f.endsWith(".mjs")).sort()) {
  const journey = await import(join(dir, file));
  for (const [name, fn] of Object.entries(journey)) {
    if (only && !`${file}:${name}`.includes(only)) continue;
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const began = Date.now();
    try {
      await fn({ browser, context, page, server });
      if (errors.length) throw new Error(`errors on the page: ${errors.join("; ")}`);
      passed++;
      console.log(`ok   ${file}: ${name} (${Date.now() - began} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${file}: ${name}: ${e.stack || e}`);
    }
    await context.close();
  }
}
await browser.close();
if (failed) console.log(`tallyd's log:\n${server.log().split("\n").slice(-60).join("\n")}`);
await server.stop();
console.log(`web: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
