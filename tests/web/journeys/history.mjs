// A clerk reads the unit's returned reports with the central office's
// reasons, and a report's history of changes, a page at a time.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { signIn, assert, eq } from "../lib.mjs";

export async function a_clerk_reads_the_returns_and_the_history_of_changes({ page, server }) {
  const clerk = server.account("reporter", "wande", "万德街道统计站", "first-pass-890");
  const csv = join(server.dir, "wande.csv");
  const submit = (period, text) => {
    writeFileSync(csv, text);
    const r = server.tally(["submit", "--unit", "wande", "--period", period, "--file", csv],
                           { token: clerk.token });
    eq(r.status, 0, `tally submit ${period}: ${r.err}`);
  };
  // 2021: twelve corrections, returned, sent again. 2020: returned.
  for (let i = 1; i <= 12; i++) submit("2021", `live_births,${500 + i}\n`);
  const ret = (period, reason) => {
    const r = server.tally(["review", "return", "--unit", "wande", "--period", period,
                            "--reason", reason]);
    eq(r.status, 0, `tally review return: ${r.err}`);
  };
  ret("2021", "活产数与户籍登记不符，请核实");
  submit("2021", "live_births,499\nmaternal_deaths,0\n");
  submit("2020", "live_births,480\n");
  ret("2020", "缺少死亡数据");

  await signIn(page, server, clerk, "new-pass-1234");
  await page.click("#to-history");
  await page.waitForSelector("#returns");
  const returns = await page.$$eval("#returns tbody tr", (trs) => trs.map((tr) =>
    [tr.dataset.period, tr.querySelector(".reason").textContent, tr.lastElementChild.textContent]));
  eq(returns.map((r) => r.slice(0, 2)), [["2021", "活产数与户籍登记不符，请核实"], ["2020", "缺少死亡数据"]],
     "the returns with their reasons, newest period first");
  assert(returns[0][2].includes("已重新报送"), `2021 was sent again: ${returns[0][2]}`);
  assert(returns[1][2].includes("待修改"), `2020 waits for its correction: ${returns[1][2]}`);

  // 2021's changes: thirteen, ten a page, oldest first.
  await page.selectOption("#history-period", "2021");
  await page.waitForFunction(() => location.hash === "#/history/2021" &&
    document.querySelectorAll("#changes article").length === 10);
  const revisions = () => page.$$eval("#changes article", (as) => as.map((a) => Number(a.dataset.revision)));
  eq(await revisions(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "the first page");
  const first = await page.textContent('#changes article[data-revision="1"]');
  assert(first.includes("活产数") && first.includes("—") && first.includes("501"),
         `revision 1 added live births, 501: ${first}`);
  await page.click("#more");
  await page.waitForFunction(() => document.querySelectorAll("#changes article").length === 13);
  eq(await revisions(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], "and the rest");
  assert(await page.isHidden("#more"), "no more pages");
  const last = await page.textContent('#changes article[data-revision="13"]');
  assert(last.includes("512") && last.includes("499") && last.includes("孕产妇死亡数"),
         `revision 13 corrected live births and added maternal deaths: ${last}`);
  assert(last.includes(clerk.name), "who sent it");
}
