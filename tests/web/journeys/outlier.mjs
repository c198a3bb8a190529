// A figure far from the unit's own earlier years: only the server can
// judge it (its outlier test reads the years stored), so the form asks
// the server with a dry run before it sends, shows the warning at the
// field, and takes an explanation; nothing is stored until then.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { signIn, assert, eq } from "../lib.mjs";

export async function the_server_s_outlier_warning_is_shown_before_sending({ page, server }) {
  const rows = ["unit,period,element,value"];
  for (const [y, n] of [[2018, 1000], [2019, 1010], [2020, 990], [2021, 1005]])
    rows.push(`zhangxia,${y},live_births,${n}`);
  const file = join(server.dir, "zhangxia-years.csv");
  writeFileSync(file, rows.join("\n") + "\n");
  const imported = server.tally(["import", file]);
  eq(imported.status, 0, `tally import: ${imported.err}`);

  const clerk = server.account("reporter", "zhangxia", "张夏街道统计站", "first-pass-913");
  await signIn(page, server, clerk, "new-pass-9134");
  await page.click('tr[data-period="2022"] a.open');
  await page.waitForSelector("#figures");
  // Typed and sent at once: the page's own rules pass, the server's
  // dry run finds the warning, and the submission waits for it.
  await page.fill("#f-live_births", "5000");
  assert(!(await page.isDisabled("#submit")), "no rule the page knows is broken");
  await page.click("#submit");
  const at = '#n-live_births [data-rule="live_births_history"][data-server="1"]';
  await page.waitForSelector(at);
  const words = await page.textContent(at);
  assert(words.includes("1002.5"), `the server's words, with the years' median: ${words}`);
  assert(await page.isDisabled("#submit"), "an unexplained warning of the server blocks the submission");
  assert(!(await page.$("#stored")), "nothing was sent");
  let got = server.tally(["values", "--unit", "zhangxia", "--period", "2022", "--format", "json"]);
  assert(!got.out.includes("5000"), `nothing stored by the dry run: ${got.out}`);

  // Within the years: the warning goes (asked again as the clerk types).
  await page.fill("#f-live_births", "1008");
  await page.waitForFunction(() => !document.querySelector('[data-rule="live_births_history"]'));
  // Far again, explained, sent.
  await page.fill("#f-live_births", "5000");
  await page.waitForSelector(at);
  await page.fill("#x-live_births_history", "新建妇产医院投入使用");
  assert(!(await page.isDisabled("#submit")), "explained, it may be sent");
  await page.click("#submit");
  await page.waitForSelector("#stored");
  got = server.tally(["values", "--unit", "zhangxia", "--period", "2022", "--format", "json"]);
  eq(got.status, 0, `tally values: ${got.err}`);
  assert(got.out.includes("5000") && got.out.includes("新建妇产医院投入使用"),
         `stored with its explanation: ${got.out}`);
}
