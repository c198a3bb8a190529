// A clerk reads the figures from a CSV that Excel saved on Chinese
// Windows (GBK), looks them over in the form, and sends them; then the
// same with the form's Excel workbook (tally form --format xlsx).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { signIn, assert, eq, fillForm } from "../lib.mjs";

// text in GBK, by glibc's iconv (as Excel on Chinese Windows saves CSV).
function gbk(text) {
  const r = spawnSync("iconv", ["-f", "UTF-8", "-t", "GBK"], { input: text });
  if (r.status !== 0) throw new Error(`iconv: ${r.stderr}`);
  return r.stdout;
}

export async function a_clerk_reads_a_gbk_csv_and_the_xlsx_form_into_the_form({ page, server }) {
  const clerk = server.account("reporter", "guyunhu", "孔村镇统计站", "first-pass-012");
  await signIn(page, server, clerk, "new-pass-4560");
  await page.evaluate(() => { location.hash = "#/form/2019"; }); // no other journey's year
  await page.waitForSelector("#figures");

  // A file with a name the form does not have (UTF-8 with a BOM): the
  // page says which line, and fills nothing.
  await page.setInputFiles("#upload", { name: "bad.csv", mimeType: "text/csv",
    buffer: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("活产数,12\r\n出生人数,5\r\n")]) });
  await page.waitForSelector("#upload-errors");
  const bad = await page.textContent("#upload-errors");
  assert(bad.includes("第 2 行") && bad.includes("出生人数"), `the error names the line: ${bad}`);
  eq(await page.inputValue("#f-live_births"), "", "nothing was filled in");

  // GBK, as Excel saves it: its form's first row, a Chinese header,
  // Chinese names and codes, a thousands separator, a full-width digit,
  // an age group, the empty columns Excel adds, CRLF.
  const csv = gbk("#form,guyunhu,2019,,\r\n指标,数值,,\r\n活产数,\"1,255\",,\r\n婴儿死亡数,３,,\r\n" +
                  "under5_deaths,4,,\r\n分年龄组死亡人数.1-4,1,,\r\n孕产妇死亡数,,,\r\n");
  let utf8 = true;
  try { new TextDecoder("utf-8", { fatal: true }).decode(csv); } catch { utf8 = false; }
  assert(!utf8, "the file is not UTF-8");
  await page.setInputFiles("#upload", { name: "孔村镇2019.csv", mimeType: "text/csv", buffer: csv });
  await page.waitForSelector("#uploaded");
  const said = await page.textContent("#uploaded");
  assert(said.includes("4 项数据") && said.includes("GB18030"), `what was read: ${said}`);
  assert(!(await page.$("#upload-errors")), "the earlier errors are gone");
  eq([await page.inputValue("#f-live_births"), await page.inputValue("#f-infant_deaths"),
      await page.inputValue("#f-under5_deaths"), await page.inputValue('[id="f-deaths.1-4"]'),
      await page.inputValue("#f-maternal_deaths")],
     ["1255", "3", "4", "1", ""], "the form shows the file's figures");

  // A file for another unit's form is refused at its first line.
  await page.setInputFiles("#upload", { name: "other.csv", mimeType: "text/csv",
    buffer: gbk("#form,guide,2019\r\n活产数,9\r\n") });
  await page.waitForSelector("#upload-errors");
  assert((await page.textContent("#upload-errors")).includes("guide 2019"), "another unit's form");
  eq(await page.inputValue("#f-live_births"), "1255", "the form is as it was");

  // Looked over, sent; on the server.
  assert(!(await page.isDisabled("#submit")), "nothing to correct");
  await page.click("#submit");
  await page.waitForSelector("#stored");
  const got = server.tally(["values", "--unit", "guyunhu", "--period", "2019", "--format", "json"]);
  eq(got.status, 0, `tally values: ${got.err}`);
  const by = Object.fromEntries(JSON.parse(got.out).values.map((v) => [v.element, v.value]));
  eq([by.live_births, by.infant_deaths, by.under5_deaths, by["deaths.1-4"]], [1255, 3, 4, 1],
     "the figures stored");
  await readsTheXlsxForm(page, server, clerk);
}

// The workbook tally form --format xlsx writes for unit and period.
function form(server, unit, period, token) {
  const file = join(server.dir, `${unit}-${period}.xlsx`);
  const r = server.tally(["form", "--unit", unit, "--period", period, "--format", "xlsx", "-o", file], { token });
  eq(r.status, 0, `tally form: ${r.err}`);
  return readFileSync(file);
}

// The same clerk, signed in still, with the form's workbook for 2018.
async function readsTheXlsxForm(page, server, clerk) {
  await page.evaluate(() => { location.hash = "#/form/2018"; }); // no other journey's year
  await page.waitForSelector("#figures");

  // Filled in as Excel saves it: numbers, a full-width digit typed as
  // text (an inline string), an explanation row, the codes and names
  // the form holds as shared strings.
  const filled = fillForm(form(server, "guyunhu", "2018", clerk.token),
    { live_births: 2, infant_deaths: 3, under5_deaths: "４" },
    { infant_deaths: "含上年出生的婴儿死亡" });
  await page.setInputFiles("#upload", { name: "崮云湖2018.xlsx", buffer: filled,
    mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
  await page.waitForSelector("#uploaded");
  const said = await page.textContent("#uploaded");
  assert(said.includes("3 项数据") && said.includes("Excel 工作簿"), `what was read: ${said}`);
  eq([await page.inputValue("#f-live_births"), await page.inputValue("#f-infant_deaths"),
      await page.inputValue("#f-under5_deaths"), await page.inputValue("#f-maternal_deaths")],
     ["2", "3", "4", ""], "the form shows the workbook's figures");
  eq(await page.inputValue("#x-infant_deaths"), "含上年出生的婴儿死亡", "and its explanation");

  // Another unit's workbook, and a file that is no workbook: refused,
  // the form as it was.
  await page.setInputFiles("#upload", { name: "guide.xlsx", buffer: form(server, "guide", "2018") });
  await page.waitForSelector("#upload-errors");
  const other = await page.textContent("#upload-errors");
  assert(other.includes("guide 2018") && other.includes("第 2 行"), `another unit's form: ${other}`);
  await page.setInputFiles("#upload", { name: "broken.xlsx", buffer: Buffer.concat([filled.subarray(0, 400)]) });
  await page.waitForFunction(() => /不是 Excel 工作簿/.test(document.querySelector("#upload-errors")?.textContent || ""));
  eq(await page.inputValue("#f-live_births"), "2", "the form is as it was");

  await page.click("#submit");
  await page.waitForSelector("#stored");
  const got = server.tally(["values", "--unit", "guyunhu", "--period", "2018", "--format", "json"]);
  eq(got.status, 0, `tally values: ${got.err}`);
  const json = JSON.parse(got.out);
  const by = Object.fromEntries(json.values.map((v) => [v.element, v.value]));
  eq([by.live_births, by.infant_deaths, by.under5_deaths], [2, 3, 4], "the figures stored");
  assert(JSON.stringify(json).includes("含上年出生的婴儿死亡"), "with the explanation");
}
