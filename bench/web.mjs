// The web pages measured in Chromium against the real tallyd on
// loopback:
//   1. the first page's size: every response the sign-in page loads
//      (index.html and its assets): its body as sent on the wire (tallyd
//      sends the .gz web/build.sh made when the browser takes gzip) and
//      as the page reads it, decoded;
//   2. the time from the click on 登录 to the periods page, and to a
//      usable form (its fields in place, after the click on 填报), in a
//      fresh browser context each run; the median and range of RUNS;
//   3. the central office's views: from a click (the link's change of
//      the page's address) to the view drawn (its rows in the page and
//      a frame painted), for each view RUNS times, at each number of
//      units in UNITS (default 10,40000): 10 is the built-in catalog
//      with the sample figures of 2020-2022; more are towns added to it
//      as bench/run.sh part 3 adds them, each with figures of 2021 and
//      2022 sent by bench/tally-loadgen (70 values a report); and the
//      requests behind the views, each sent alone, with their replies'
//      sizes; the annual report's files (ReportFileRequest, html and
//      xlsx) among them, and a ReportRequest sent on another WebSocket
//      while the HTML is made (whether the loop waits for it).
//
//   node bench/web.mjs BUILD [RUNS] [UNITS]   (BUILD as cmake left it; RUNS 9)
//
// Prints small tables in Markdown. Nothing is asserted.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, startServer, signIn, importSamples, top, pb, wsUrl } from "../tests/web/lib.mjs";

const build = resolve(process.argv[2] || join(top, "build", "dev"));
const runs = Number(process.argv[3] || 9);
const sizes = (process.argv[4] || "10,40000").split(",").map(Number);
const server = await startServer(build, null);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (xs) => `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;

let stopped = false;
try {
  // 1. The first page: what a browser with nothing cached loads.
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const bodies = [];
  page.on("response", async (r) => {
    if (r.request().resourceType() === "fetch") return; // GET /session: not the page's
    const sizes = await r.request().sizes().catch(() => ({ responseBodySize: -1 }));
    bodies.push({ url: r.url(), bytes: await r.body().catch(() => Buffer.alloc(0)),
                  wire: sizes.responseBodySize,
                  encoding: r.headers()["content-encoding"] || "identity" });
  });
  await page.goto(`${server.web}/`);
  await page.waitForSelector("#sign-in");
  await page.waitForTimeout(1500); // anything loaded late (a favicon) is in
  await ctx.close();
  console.log("| response | sent as | sent (bytes) | decoded (bytes) |\n|---|---|---:|---:|");
  let sent = 0, decoded = 0;
  for (const b of bodies) {
    sent += b.wire;
    decoded += b.bytes.length;
    console.log(`| ${new URL(b.url).pathname} | ${b.encoding} | ${b.wire} | ${b.bytes.length} |`);
  }
  console.log(`| **the first page, all of it** | | **${sent}** | **${decoded}** |\n`);

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
  console.log(`| from the click on 登录 (${runs} runs) | median (range) |\n|---|---:|`);
  console.log(`| to the periods page | ${ms(toPeriods)} |`);
  console.log(`| to a usable form (and the click on 填报) | ${ms(toForm)} |`);

  // 3. The central office's views.
  await server.stop();
  stopped = true;
  for (const units of sizes) await views(units);
} finally {
  await browser.close();
  if (!stopped) await server.stop();
}

// The built-in catalog with towns added up to units, as bench/run.sh
// part 3 makes it: past 1,000 units, counties of 100 under the district.
function bigCatalog(units) {
  const c = JSON.parse(readFileSync(join(top, "catalog", "changqing.json"), "utf8"));
  const counties = units > 1000 ? Math.ceil(units / 100) : 0;
  for (let g = 0; g < counties; g++)
    c.units.push({ code: `g${String(g).padStart(4, "0")}`, parent: "changqing", level: "county",
                   name_zh: `测试县${g}`, name_en: `County ${g}` });
  for (let i = 10; i < units; i++)
    c.units.push({ code: `t${String(i).padStart(6, "0")}`, level: "town",
                   parent: counties ? `g${String(Math.floor(i / 100)).padStart(4, "0")}` : "changqing",
                   name_zh: `测试镇${i}`, name_en: `Town ${i}` });
  const file = join(mkdtempSync(join(tmpdir(), "tally-bench-cat-")), `catalog-${units}.json`);
  writeFileSync(file, JSON.stringify(c));
  return file;
}

// Each view RUNS times at units: from the change of address to the
// view's rows in the page and a frame painted, measured in the page.
async function views(units) {
  const catalog = units <= 10 ? null : bigCatalog(units);
  // As bench/run.sh starts it: the load generator's many connections.
  const srv = await startServer(build, catalog, ["--max-connections", "20000", "--max-per-address", "20000",
                                                 "--sign-in-timeout", "60"]);
  try {
    const began = Date.now();
    if (!catalog) {
      importSamples(srv, [2020, 2021, 2022]);
    } else {
      const token = join(srv.dir, "admin.token");
      writeFileSync(token, srv.admin, { mode: 0o600 });
      // Not spawnSync: tallyd's log is read by this process meanwhile.
      const r = await new Promise((done) => {
        const lg = spawn(join(build, "bench", "tally-loadgen"),
          ["--server", srv.tcp, "--token-file", token, "--catalog", catalog, "--connections", "8",
           "--values", "70", "--periods", "2021,2022", "--count", String(units * 2), "--duration", "900"]);
        let out = "", err = "";
        lg.stdout.on("data", (d) => { out += d; });
        lg.stderr.on("data", (d) => { err += d; });
        lg.on("exit", (status) => done({ status, out, err }));
      });
      if (r.status !== 0) throw new Error(`loadgen: ${r.out} ${r.err}`);
      console.log(`\n${units} units: ${r.out.trim()}`);
    }
    const loaded = ((Date.now() - began) / 1000).toFixed(0);
    const analyst = srv.account("analyst", null, "区统计中心", "first-pass-901");
    const c = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const p = await c.newPage();
    await signIn(p, srv, analyst, "bench-pass-9011", "#overview");
    const list = [
      ["overview of 2022 (completeness and the review queue)", "#/overview/2022", "#overview tbody tr"],
      ["district report of 2022", "#/report/2022", "#district-rows tr[data-code]"],
      ["H02 over the years", "#/trend/H02", "#trend-chart circle.point"],
      ["who is behind in 2022 (the matrix)", "#/matrix/2022", "#matrix td.cell"],
    ];
    await p.evaluate(() => { location.hash = "#/trend/H02"; }); // the first view measured comes from another
    await p.waitForSelector("#trend-chart");
    const times = list.map(() => []);
    const cellsOf = [];
    for (let i = 0; i < runs; i++)
      for (const [k, [, hash, sel]] of list.entries()) {
        times[k].push(await p.evaluate(async ([hash, sel]) => {
          const t0 = performance.now();
          location.hash = hash;
          await new Promise((done) => {
            const look = () => (document.querySelector(sel) ? requestAnimationFrame(() => done())
                                                            : requestAnimationFrame(look));
            look();
          });
          return performance.now() - t0;
        }, [hash, sel]));
        if (i === 0) cellsOf[k] = await p.$$eval(sel, (xs) => xs.length);
      }
    // A unit's line each on demand: the click on 显示各单位.
    const each = [];
    for (let i = 0; i < runs; i++) {
      await p.evaluate(() => { location.hash = "#/trend/H02"; });
      await p.waitForSelector("#trend-chart circle.point");
      if (await p.isChecked("#each-unit")) {
        await p.click("#each-unit");
        await p.waitForFunction(() => !document.querySelector("#trend-chart g.unit-line"));
      }
      each.push(await p.evaluate(async () => {
        const t0 = performance.now();
        document.getElementById("each-unit").click();
        await new Promise((done) => {
          const look = () => (document.querySelector("#trend-chart g.unit-line")
            ? requestAnimationFrame(() => done()) : requestAnimationFrame(look));
          look();
        });
        return performance.now() - t0;
      }));
    }
    const lines = await p.$$eval("#trend-chart g.unit-line", (xs) => xs.length);
    // Each view's requests alone: sent by themselves over a WebSocket of
    // the page's session, from the send to the whole reply.
    const alone = [];
    for (const [what, body] of [
      ["CompletenessRequest (counts_only, the overview's)", { completeness: { period: "2022", countsOnly: true } }],
      ["CompletenessRequest (with the missing elements)", { completeness: { period: "2022" } }],
      ["ReviewListRequest", { reviewList: { period: "2022" } }],
      ["ReportRequest", { report: { period: "2022" } }],
      ["TrendRequest H02 (units)", { trend: { indicator: "H02", units: true } }],
      ["MatrixRequest", { matrix: { period: "2022" } }],
      ["ReportFileRequest html (the page's download)", { reportFile: { report: { period: "2022" }, format: 0 } }],
      ["ReportFileRequest xlsx", { reportFile: { report: { period: "2022" }, format: 1 } }]]) {
      const bytes = [...pb.Envelope.encode(pb.Envelope.create({ id: 9, ...body })).finish()];
      const got = [];
      for (let i = 0; i < Math.min(runs, 3); i++)
        got.push(await p.evaluate(([url, bytes]) => new Promise((done) => {
          const ws = new WebSocket(url, "tally");
          ws.binaryType = "arraybuffer";
          let t0;
          ws.onopen = () => { t0 = performance.now(); ws.send(new Uint8Array(bytes)); };
          ws.onmessage = (ev) => { done({ ms: performance.now() - t0, bytes: ev.data.byteLength }); ws.close(); };
        }), [wsUrl(srv), bytes]));
      alone.push([what, got]);
    }
    // The loop while a report file is made: a ReportRequest sent on
    // another WebSocket 50 ms after the file's request, from its send to
    // its reply, and when the file's reply came.
    const meanwhile = [];
    for (let i = 0; i < Math.min(runs, 3); i++)
      meanwhile.push(await p.evaluate(([url, file, report]) => new Promise((done) => {
        const a = new WebSocket(url, "tally"), b = new WebSocket(url, "tally");
        a.binaryType = b.binaryType = "arraybuffer";
        let open = 0, t0, got = {};
        const go = () => {
          if (++open < 2) return;
          t0 = performance.now();
          a.send(new Uint8Array(file));
          setTimeout(() => { const t1 = performance.now(); b.onmessage = () => { got.report = performance.now() - t1; b.close(); if (got.file) done(got); }; b.send(new Uint8Array(report)); }, 50);
        };
        a.onopen = b.onopen = go;
        a.onmessage = (ev) => { got.file = performance.now() - t0; got.bytes = ev.data.byteLength; a.close(); if (got.report !== undefined) done(got); };
      }), [wsUrl(srv), [...pb.Envelope.encode(pb.Envelope.create({ id: 9, reportFile: { report: { period: "2022" }, format: 0 } })).finish()],
           [...pb.Envelope.encode(pb.Envelope.create({ id: 10, report: { period: "2022" } })).finish()]]));
    await c.close();
    console.log(`\n| ${units} units (loaded in ${loaded} s); ${runs} runs | drawn | median (range) |\n|---|---:|---:|`);
    list.forEach(([what], k) => console.log(`| ${what} | ${cellsOf[k]} rows or cells | ${ms(times[k])} |`));
    console.log(`| H02's units' lines, on the click | ${lines} lines | ${ms(each)} |`);
    console.log(`\n| ${units} units: a request alone (${Math.min(runs, 3)} runs) | reply (bytes) | median (range) |\n|---|---:|---:|`);
    for (const [what, got] of alone) console.log(`| ${what} | ${got[0].bytes} | ${ms(got.map((g) => g.ms))} |`);
    console.log(`| a ReportRequest sent 50 ms into a ReportFileRequest html | | ${ms(meanwhile.map((g) => g.report))} (the file's: ${ms(meanwhile.map((g) => g.file))}) |`);
  } finally {
    await srv.stop();
  }
}
