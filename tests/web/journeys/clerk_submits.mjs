// A town office's clerk signs in with the first password the admin set,
// chooses a new one, fills in 2022, meets an error rule and a warning,
// explains the warning, submits, and the figures are on the server.
import { signIn, assert, eq } from "../lib.mjs";

export async function a_clerk_submits_figures_that_the_server_then_holds({ page, server }) {
  const clerk = server.account("reporter", "wenchang", "文昌街道统计站", "first-pass-123");
  await signIn(page, server, clerk, "new-pass-4567");
  assert((await page.textContent("#unit-name")).includes("文昌"), "the unit is named");
  assert((await page.textContent('tr[data-period="2022"] .state')).includes("未报送"),
         "2022 is not submitted yet");
  // When each is due, as the server says from the catalog's deadlines:
  // a year by 20 January, a quarter 10 days after, a month by the 20th.
  eq(await page.textContent('#periods tr[data-period="2022"] .due'), "2023-01-20", "2022 is due");
  await page.selectOption("#parts-year", "2022");
  await page.waitForSelector('#parts tr[data-period="2022-12"]');
  eq(await page.$$eval("#parts tr[data-period]", (trs) => trs.length), 16, "four quarters, twelve months");
  eq([await page.textContent('#parts tr[data-period="2022Q3"] .due'),
      await page.textContent('#parts tr[data-period="2022Q4"] .due'),
      await page.textContent('#parts tr[data-period="2022-02"] .due'),
      await page.textContent('#parts tr[data-period="2022-12"] .due')],
     ["2022-10-10", "2023-01-10", "2022-03-20", "2023-01-20"], "the quarters' and months' due dates");
  await page.click('tr[data-period="2022"] a.open');
  await page.waitForSelector("#figures");
  // Units of measure in Chinese on the Chinese page.
  const uom = await page.$eval("#f-live_births", (i) => i.closest("tr").querySelector(".uom").textContent);
  eq(uom, "人", "live births are counted in 人");

  // An error (under-5 deaths fewer than infant deaths): shown at the
  // field, and the form cannot be sent.
  await page.fill("#f-live_births", "100");
  await page.fill("#f-infant_deaths", "120");
  await page.fill("#f-under5_deaths", "2");
  const error = await page.textContent('#n-under5_deaths [data-rule="under5_deaths"]');
  assert(error.includes("5岁以下儿童死亡数不能少于婴儿死亡数"), `the error at the field: ${error}`);
  assert(await page.isDisabled("#submit"), "an error blocks the submission");

  // Corrected; a warning is left (infant deaths above live births),
  // which takes an explanation.
  await page.fill("#f-under5_deaths", "125");
  assert(!(await page.$('[data-rule="under5_deaths"]')), "the error is gone once corrected");
  const warning = await page.textContent('#n-infant_deaths [data-rule="infant_deaths"]');
  assert(warning.includes("婴儿死亡数不能多于活产数"), `the warning at the field: ${warning}`);
  assert(await page.isDisabled("#submit"), "an unexplained warning blocks the submission");
  await page.fill("#x-infant_deaths", "含上年出生的婴儿死亡");
  assert(!(await page.isDisabled("#submit")), "explained, it may be sent");
  await page.click("#submit");
  await page.waitForSelector("#stored");

  // On the server, through the real client.
  const got = server.tally(["values", "--unit", "wenchang", "--period", "2022", "--format", "json"]);
  eq(got.status, 0, `tally values: ${got.err}`);
  const values = JSON.parse(got.out);
  const by = Object.fromEntries((values.values || values).map((v) => [v.element, v.value]));
  eq([by.live_births, by.infant_deaths, by.under5_deaths], [100, 120, 125], "the figures stored");
  assert(got.out.includes("含上年出生的婴儿死亡"), `the explanation is kept: ${got.out}`);

  // The periods page says so.
  await page.click('a[href="#/"]');
  await page.waitForSelector("#periods");
  assert((await page.textContent('tr[data-period="2022"] .state')).includes("已报送"),
         "2022 is submitted");
}
