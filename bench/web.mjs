// The web pages measured in Chromium against the real tallyd on
// loopback:
//   1. the first page's size: every response the sign-in page loads
//      (index.html and its assets), as sent and compressed with gzip
//      (level 6, as a web server would);
//   2. the time from the click on 登录 to the periods page, and to a
//      usable form (its fields in place, after the click on 填报), in a
//      fresh browser context each run; the median and range of RUNS.
//
//   node bench/web.mjs BUILD [RUNS]     (BUILD as cmake left it; RUNS 9)
//
// Prints a small table in Markdown. Nothing is asserted.
import { gzipSync } from "node:zlib";
import { join, resolve } from "node:path";
import { chromium, startServer, signIn, top } from "../tests/web/lib.mjs";

const build = resolve(process.argv[2] || join(top, "build", "dev"));
const runs = Number(process.argv[3] || 9);
const server = await startServer(build, null);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  // 1. The first page: what a browser with nothing cached loads.
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const bodies = [];
  page.on("response", async (r) => {
    if (r.request().resourceType() === "fetch") return; // GET /session: not the page's
    bodies.push({ url: r.url(), bytes: await r.body().catch(() => Buffer.alloc(0)),
                  encoding: r.headers()["content-encoding"] || "identity" });
  });
  await page.goto(`${server.web}/`);
  await page.waitForSelector("#sign-in");
  await page.waitForTimeout(1500); // anything loaded late (a favicon) is in
  await ctx.close();
  console.log("| response | sent (bytes) | gzip -6 (bytes) |\n|---|---:|---:|");
  let sent = 0, packed = 0;
  for (const b of bodies) {
    const z = gzipSync(b.bytes, { level: 6 }).length;
    sent += b.bytes.length;
    packed += z;
    console.log(`| ${new URL(b.url).pathname} (${b.encoding}) | ${b.bytes.length} | ${z} |`);
  }
  console.log(`| **the first page, all of it** | **${sent}** | **${packed}** |\n`);

  // 2. Sign-in to a usable form.
  const clerk = server.account("reporter", "wenchang", "文昌街道统计站", "first-pass-123");
  {
    const c = await browser.newContext();
    await signIn(await c.newPage(), server, clerk, "bench-pass-4567"); // the first password changed once
    await c.close();
  }
  const toPeriods = [], toForm = [];
  for (let i = 0; i < runs; i++) {
    const c = await browser.newContext();
    const p = await c.newPage();
    await p.goto(`${server.web}/`);
    await p.waitForSelector("#sign-in");
    await p.fill("#name", clerk.name);
    await p.fill("#password", clerk.password);
    const t0 = await p.evaluate(() => performance.now());
    await p.click("#sign-in button[type=submit]");
    await p.waitForSelector('#periods tr[data-period="2022"] a.open');
    const t1 = await p.evaluate(() => performance.now());
    await p.click('#periods tr[data-period="2022"] a.open');
    await p.waitForSelector("#figures #f-live_births:enabled");
    const t2 = await p.evaluate(() => performance.now());
    toPeriods.push(t1 - t0);
    toForm.push(t2 - t0);
    await c.close();
  }
  const ms = (xs) => `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
  console.log(`| from the click on 登录 (${runs} runs) | median (range) |\n|---|---:|`);
  console.log(`| to the periods page | ${ms(toPeriods)} |`);
  console.log(`| to a usable form (and the click on 填报) | ${ms(toForm)} |`);
} finally {
  await browser.close();
  await server.stop();
}
