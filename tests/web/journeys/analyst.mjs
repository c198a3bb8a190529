// The central office runs its annual monitoring in the browser, on a
// tallyd of its own holding the sample figures of 2020-2022 (all but
// shuangquan's 2022): the overview shows who is late and who has not
// reported; a report is returned with a reason (the office's page shows
// it) and another approved; the district report's values are tally
// report --format json's; the trend has one point per year stored; the
// matrix's colours are the statuses tally explain gives; a value leads
// to its units' figures and a unit's history; the annual report's HTML
// and xlsx downloaded from the district report page hold tally report
// --format json's figures, and its print view is the report with its
// stylesheet. A reporter can open none of these pages, nor make their
// requests over the WebSocket. The
// catalog names wenchang with markup, which every page shows as text.
import { mkdtempSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signIn, startServer, importSamples, markupCatalog, assert, eq, pb, wsTry, wsUrl, request, top } from "../lib.mjs";

const WENCHANG = "文昌<script>window.pwned=1</script><b>街道</b>";

const json = (server, args) => {
  const r = server.tally([...args, "--format", "json"]);
  eq(r.status, 0, `tally ${args.join(" ")}: ${r.err}`);
  return JSON.parse(r.out);
};
// A number as the CLI's JSON prints it (15 significant digits).
const as15 = (x) => Number(Number(x).toPrecision(15));
const STATUS_TEXT = { 1: "met", 2: "not met", 3: "no target", 4: "insufficient data", 5: "undefined",
                      6: "not judged", 7: "population too small", 8: "on track", 9: "off track" };

export async function the_central_office_reviews_and_reads_the_district({ browser, page, server }) {
  const own = await startServer(server.build, markupCatalog(mkdtempSync(join(tmpdir(), "tally-cat-"))));
  try {
    importSamples(own, [2020, 2021, 2022], ["shuangquan/2022"]);
    const analyst = own.account("analyst", null, "区统计中心", "first-pass-701");
    const clerk = own.account("reporter", "wenchang", "文昌街道统计站", "first-pass-702");
    await signIn(page, own, analyst, "new-pass-7011", "#overview");
    await overview(page, own);
    await district(page, own);
    await reportFiles(page, own);
    await trend(page, own);
    await matrix(page, own);
    await explain(page, own);
    await reporterRefused(browser, own, clerk);
  } finally {
    await own.stop();
  }
}

async function overview(page, own) {
  await page.evaluate(() => { location.hash = "#/overview/2022"; });
  await page.waitForSelector('#overview-title:has-text("2022")');
  const want = json(own, ["completeness", "--period", "2022"]);
  const got = await page.$$eval("#overview tbody tr", (trs) =>
    Object.fromEntries(trs.map((tr) => [tr.dataset.unit, tr.dataset.timeliness])));
  const sorted = (o) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));
  eq(sorted(got), sorted(Object.fromEntries(want.units.map((u) => [u.unit, u.timeliness]))), "each unit's timeliness");
  eq(got.shuangquan, "not reported", "shuangquan has not reported 2022");
  eq(got.wenchang, "late", "sent in 2026, after 2023-01-20");
  const days = await page.textContent('tr[data-unit="wenchang"] .days-late');
  const late = want.units.find((u) => u.unit === "wenchang").days_late;
  assert(days.includes(`逾期 ${late} 天`), `the days late: ${days}`);

  // Returned with a reason, and another approved at its revision.
  const reason = "活产数与出生登记不符，请核实";
  await page.fill('tr[data-unit="wenchang"] .return-reason', reason);
  await page.click('tr[data-unit="wenchang"] button.return');
  await page.waitForSelector('#review-done:has-text("已退回")');
  await page.click('tr[data-unit="guide"] button.approve');
  await page.waitForSelector('#review-done:has-text("已审核通过")');
  const after = await page.$$eval("#overview tbody tr", (trs) =>
    Object.fromEntries(trs.map((tr) => [tr.dataset.unit, tr.dataset.timeliness])));
  eq([after.wenchang, after.guide], ["returned", "approved"], "the page after the review");
  const queue = json(own, ["review", "list", "--period", "2022"]);
  const row = (u) => queue.find((r) => r.unit === u);
  eq([row("wenchang").state, row("guide").state], ["returned 退回", "approved 已审核"], "the server's queue");
  assert(row("wenchang").review.includes(reason), `the server keeps the reason: ${row("wenchang").review}`);
  assert((await page.textContent('tr[data-unit="wenchang"] .review')).includes(reason), "the reason shown");
}

async function district(page, own) {
  await page.click('#views a[href^="#/report/"]');
  await page.selectOption("#period-pick", "2022");
  await page.waitForSelector('#district-title:has-text("2022")');
  const want = json(own, ["report", "--period", "2022"]);
  const got = await page.$$eval("#district-rows tr[data-code]", (trs) => trs.map((tr) => ({
    code: tr.dataset.code, value: tr.dataset.value, status: tr.querySelector("td.status").textContent,
    shown: tr.querySelector("td.value").textContent, uom: tr.querySelector(".uom").textContent })));
  eq(got.map((r) => r.code).sort(), want.indicators.map((r) => r.code).sort(), "every indicator");
  for (const w of want.indicators) {
    const g = got.find((r) => r.code === w.code);
    eq(g.value === "" ? null : as15(g.value), w.value, `${w.code}: the value`);
    assert(g.status.includes(w.status_zh), `${w.code}: status ${g.status}, the report's ${w.status_zh}`);
    eq(g.shown, w.shown.value || "—", `${w.code}: the value as shown`);
    eq(g.uom, w.unit_zh, `${w.code}: its unit of measure in Chinese`);
  }
  // Filtered by lead department: the actions the education bureau leads.
  const cat = JSON.parse(own.tally(["catalog", "--format", "json"]).out);
  const led = new Set(cat.plans[0].actions.filter((a) => a.lead_zh === "区教育体育局").map((a) => a.number));
  const wantLed = cat.indicators.filter((x) => led.has(x.action)).map((x) => x.code);
  await page.selectOption("#f-lead", "区教育体育局");
  eq(await page.$$eval("#district-rows tr[data-code]", (trs) => trs.map((tr) => tr.dataset.code).sort()), wantLed.sort(),
     "the indicators of the education bureau's actions");
  await page.selectOption("#f-lead", "");
  await page.selectOption("#f-status", "2");
  eq(await page.$$eval("#district-rows tr[data-code]", (trs) => trs.map((tr) => tr.dataset.code).sort()),
     want.indicators.filter((r) => r.status === "not met").map((r) => r.code).sort(), "the indicators not met");
  await page.selectOption("#f-status", "");
}

// The annual report's files, from the district report page's buttons.
async function reportFiles(page, own) {
  const dir = mkdtempSync(join(tmpdir(), "tally-files-"));
  const html = join(dir, "page.html"), xlsx = join(dir, "page.xlsx");
  const take = async (button, name, path) => {
    const [file] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
    eq(file.suggestedFilename(), name, `${button}: the file's name`);
    await file.saveAs(path);
  };
  await take("#download-html", "tally-report-2022.html", html);
  await take("#download-xlsx", "tally-report-2022.xlsx", xlsx);
  assert(readFileSync(html, "utf8").startsWith("<!DOCTYPE html>"), "an HTML file");
  eq(readFileSync(xlsx).subarray(0, 2).toString(), "PK", "a workbook (a zip)");
  // Every figure, status, trend point and matrix cell of both is the
  // JSON's (tests/report_check.py, as tests/test_report_file.c runs it).
  const check = spawnSync("/usr/bin/python3", [join(top, "tests", "report_check.py"), "agree",
    join(own.build, "tally"), "2022", "2020", html, xlsx], {
    encoding: "utf8",
    env: { ...process.env, TALLY_SERVER: own.tcp, TALLY_TOKEN: own.admin,
           TALLY_CONFIG: join(own.dir, "none.json"), TALLY_SPOOL: join(own.dir, "spool") } });
  eq(check.status, 0, `report_check.py agree: ${check.stdout}${check.stderr}`);

  // Print: the report opens in a tab of its own, styled by its own
  // stylesheet (the CSP allows it by its hash), and nothing is refused.
  const refused = [];
  page.context().on("console", (m) => { if (/Content Security Policy/i.test(m.text())) refused.push(m.text()); });
  const [tab] = await Promise.all([page.waitForEvent("popup"), page.click("#print-pdf")]);
  await tab.waitForFunction(() => location.protocol === "blob:" && document.readyState === "complete" &&
                            document.querySelector("h1"));
  const got = await tab.evaluate(() => ({
    h1: document.querySelector("h1").textContent,
    font: getComputedStyle(document.body).fontFamily,
    rules: [...document.styleSheets].reduce((n, s) => n + s.cssRules.length, 0),
    codes: [...document.querySelectorAll("#district tr[data-code]")].length,
  }));
  assert(got.h1.includes("2022 年度主要指标监测评估报告"), `the report's title: ${got.h1}`);
  assert(got.font.includes("Noto Sans CJK SC"), `the report's stylesheet applies: ${got.font}`);
  assert(got.rules > 20, `the stylesheet's rules: ${got.rules}`);
  eq(got.codes, json(own, ["report", "--period", "2022"]).indicators.length, "every indicator in the print view");
  eq(refused, [], "nothing the CSP refused");
  await tab.close();
  assert((await page.textContent("#report-file .hint")).includes("PDF"), "the page says how the PDF is made");
}

async function trend(page, own) {
  await page.click('#district-rows a.code[href="#/trend/H02"]');
  await page.waitForSelector("#trend-chart circle.point");
  const points = await page.$$eval("#trend-chart circle.point", (cs) => cs.map((c) => [Number(c.dataset.year), c.dataset.value]));
  const want = [];
  for (let y = 2019; y <= 2023; y++) {
    const r = json(own, ["report", "--period", String(y), "--indicator", "H02"]).indicators[0];
    if (r.value !== null) want.push([y, r.value]);
  }
  eq(want.map(([y]) => y), [2020, 2021, 2022], "the years stored");
  eq(points.map(([y, v]) => [y, as15(v)]), want, "one point a year stored, at the report's value");
  assert(await page.$("#trend-chart polygon.band"), "the confidence band");
  assert(await page.$("#trend-chart .target"), "the targets");
  await page.check("#each-unit");
  await page.waitForFunction(() => document.querySelectorAll("#trend-chart g.unit-line").length === 10);
}

async function matrix(page, own) {
  await page.click('#views a[href^="#/matrix/"]');
  await page.selectOption("#period-pick", "2022");
  await page.waitForSelector('#matrix-title:has-text("2022")');
  // The statuses' colours differ, each cell has its status's colour and
  // symbol (the legend's), and its status is what tally explain says.
  const legend = await page.$$eval("#matrix-legend .swatch[data-status]", (ss) => Object.fromEntries(ss.map((s) =>
    [s.dataset.status, { colour: getComputedStyle(s).backgroundColor, sym: s.textContent.trim().split(" ")[0] }])));
  const judgedColours = ["1", "2", "8", "9", "6"].map((s) => legend[s].colour);
  eq(new Set(judgedColours).size, 5, `met, not met, on track, off track and not judged apart: ${judgedColours}`);
  const cells = await page.$$eval("#matrix td.cell", (tds) => tds.map((td) => ({
    at: `${td.parentElement.dataset.unit} ${td.dataset.code}`, status: td.dataset.status,
    colour: getComputedStyle(td).backgroundColor, mark: td.querySelector(".mark").textContent })));
  const group = (n) => (n === "5" || n === "7" ? "4" : n);
  eq(cells.filter((c) => c.colour !== legend[group(c.status)].colour || !c.mark.includes(legend[group(c.status)].sym))
       .map((c) => `${c.at} ${c.status}`), [], "cells coloured or marked otherwise than their status");
  for (const code of ["H02", "H27", "H29", "P22"]) {
    const x = json(own, ["explain", code, "--period", "2022"]);
    const got = await page.$$eval(`#matrix td.cell[data-code="${code}"]`, (tds) =>
      tds.map((td) => [td.parentElement.dataset.unit, Number(td.dataset.status), Number(td.dataset.compared)]));
    const cmp = { better: 2, worse: 3, similar: 1 };
    eq(got.map(([u, s, c]) => [u, STATUS_TEXT[s], c]),
       x.units.map((u) => [u.unit, u.figures.status, cmp[u.compared] || 0]), `${code}: the matrix's statuses`);
    if (code === "H29") {
      const failing = x.units.filter((u) => u.figures.status === "not met").map((u) => u.name_zh);
      const said = await page.textContent('p.failing[data-code="H29"]');
      for (const n of failing) assert(said.includes(n), `H29 names ${n}: ${said}`);
      assert(failing.length > 0 || said.includes("无"), `H29: ${said}`);
    }
  }
  const judged = cells.filter((c) => ["1", "2", "8", "9"].includes(c.status)).length;
  assert(judged > 20, `cells judged against a target: ${judged}`);
}

async function explain(page, own) {
  await page.click('#matrix tr[data-unit="wenchang"] td.cell[data-code="H02"] a');
  await page.waitForSelector("#explain");
  const x = json(own, ["explain", "H02", "--period", "2022"]);
  const shown = await page.textContent('#explain tr[data-unit="wenchang"] td.value');
  eq(shown, x.units.find((u) => u.unit === "wenchang").figures.shown.value, "wenchang's value");
  await page.click('#explain tr[data-unit="wenchang"] a.history');
  await page.waitForSelector('#changes article[data-revision="1"]');
  assert((await page.textContent("#history-title")).includes(WENCHANG), "wenchang's history, its name as text");
  for (const hash of ["#/overview/2022", "#/matrix/2022", "#/explain/H02/2022"]) {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await page.waitForFunction((n) => document.querySelector("main").textContent.includes(n), WENCHANG);
    eq(await page.evaluate(() => [window.pwned, document.querySelectorAll("main script").length]),
       [undefined, 0], `${hash}: no markup from the catalog ran or was made`);
  }
}

async function reporterRefused(browser, own, clerk) {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await signIn(page, own, clerk, "new-pass-7021");
    const state = await page.textContent('#periods tr[data-period="2022"] td.state');
    assert(state.includes("已退回") && state.includes("活产数与出生登记不符"), `the office sees the return: ${state}`);
    for (const hash of ["#/overview/2022", "#/report/2022", "#/trend/H02", "#/matrix/2022", "#/explain/H02/2022"]) {
      await page.evaluate((h) => { location.hash = h; }, hash);
      await page.waitForSelector("#not-yours");
      eq(await page.$$("#report-file button"), [], `${hash}: no report file buttons`);
    }
    for (const body of [{ reviewList: { period: "2022" } }, { completeness: { period: "2022" } },
                        { report: { period: "2022" } }, { trend: { indicator: "H02" } },
                        { matrix: { period: "2022" } }, { explain: { indicator: "H02", period: "2022" } },
                        { reportFile: { report: { period: "2022" }, format: 0 } },
                        { reportFile: { report: { period: "2022", unit: "wenchang" }, format: 1 } },
                        { review: { unit: "wenchang", period: "2022", action: "approve", revision: 1 } }]) {
      const got = await wsTry(page, wsUrl(own), request(body));
      const r = pb.Envelope.decode(Uint8Array.from(got.reply));
      eq(r.error && r.error.code, pb.ErrorCode.ERROR_PERMISSION_DENIED, `${Object.keys(body)[0]}: refused`);
    }
  } finally {
    await context.close();
  }
}
