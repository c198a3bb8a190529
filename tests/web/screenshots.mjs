// The screenshots in docs/ and the README of the central office's pages,
// taken in Chromium from a tallyd holding the sample figures of
// 2020-2022 (all but shuangquan's 2022), wenchang's 2022 returned with a
// reason and guide's approved:
//   node tests/web/screenshots.mjs BUILD
// writes docs/web-overview.png, web-district.png, web-trend.png and
// web-matrix.png. Chinese needs Debian's fonts-noto-cjk.
import { join, resolve } from "node:path";
import { chromium, startServer, importSamples, signIn, top } from "./lib.mjs";

const build = resolve(process.argv[2] || join(top, "build", "dev"));
const server = await startServer(build, null);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  importSamples(server, [2020, 2021, 2022], ["shuangquan/2022"]);
  const review = (...args) => {
    const r = server.tally(["review", ...args]);
    if (r.status !== 0) throw new Error(`tally review: ${r.err}`);
  };
  review("return", "--unit", "wenchang", "--period", "2022", "--reason", "活产数与出生登记不符，请核实");
  review("approve", "--unit", "guide", "--period", "2022", "--revision", "1");
  const analyst = server.account("analyst", null, "区统计中心", "first-pass-801");
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  await signIn(page, server, analyst, "shot-pass-8011", "#overview");
  const shot = async (hash, ready, name, before) => {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await page.waitForSelector(ready);
    if (before) await before();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(top, "docs", name) });
    console.log(`docs/${name}`);
  };
  await shot("#/overview/2022", '#overview tr[data-unit="wenchang"][data-timeliness="returned"]', "web-overview.png");
  await shot("#/report/2022", "#district-rows tr[data-code]", "web-district.png", async () => {
    await page.evaluate(() => window.scrollTo(0, document.querySelector('tr[data-group="health/a7"]').getBoundingClientRect().top + window.scrollY - 120));
  });
  await shot("#/trend/H02", "#trend-chart circle.point", "web-trend.png", async () => {
    await page.check("#each-unit");
    await page.waitForSelector("#trend-chart g.unit-line");
  });
  await shot("#/matrix/2022", "#matrix td.cell", "web-matrix.png");
} finally {
  await browser.close();
  await server.stop();
}
