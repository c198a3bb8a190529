// The admin adds an office's account with a first password; the new
// person signs in with it; the admin sees it used, sets a first
// password again, and revokes it.
import { signIn, assert, eq } from "../lib.mjs";

export async function an_admin_adds_an_account_and_the_new_person_signs_in({ browser, page, server }) {
  const pw = server.tally(["account", "password", "1"], { input: "admin-first-1\n" });
  eq(pw.status, 0, `tally account password 1: ${pw.err}`);
  const admin = { name: "administrator", password: "admin-first-1" };
  await signIn(page, server, admin, "admin-pass-2345", "#accounts");
  assert(await page.$('#accounts tr[data-account="1"]'), "the admin's own account is listed");

  // Added, as a reporter for wufengshan, with a first password.
  await page.fill("#new-name", "五峰山街道统计站");
  await page.selectOption("#new-role", "1");
  await page.selectOption("#new-unit", "wufengshan");
  await page.fill("#new-password", "first-pass-901");
  await page.click("#add-account button[type=submit]");
  await page.waitForSelector("#added");
  const added = await page.textContent("#added");
  assert(added.includes("五峰山街道统计站") && /tally_\d+_/.test(added),
         `the page says it was added and shows its token once: ${added}`);
  const id = Number(/tally_(\d+)_/.exec(await page.textContent("#new-token"))[1]);
  const row = (sel) => page.textContent(`#accounts tr[data-account="${id}"] ${sel}`);
  eq(await row(".role"), "报表员", "its role");
  assert((await row(".password")).includes("初始密码"), "a first password");
  eq(await row(".last-used"), "从未使用", "not used yet");
  const list = server.tally(["account", "list", "--format", "json"]);
  const made = JSON.parse(list.out).find((a) => a.id === id);
  assert(made && made.role === "reporter" && made.unit === "wufengshan",
         `the server has it: ${list.out}`);

  // The new person signs in with it, in a browser of its own.
  const theirs = await browser.newContext();
  const office = await theirs.newPage();
  const person = { name: "五峰山街道统计站", password: "first-pass-901" };
  await signIn(office, server, person, "new-pass-3456");
  assert((await office.textContent("#unit-name")).includes("五峰山"), "the office's unit");

  // The admin sees it used; sets a first password again, which closes
  // the office's open page; then revokes the account.
  await page.reload();
  await page.waitForSelector("#accounts");
  assert((await row(".last-used")) !== "从未使用", "used now");
  assert((await row(".password")).includes("已修改密码"), "its owner chose a password");
  await page.fill(`#accounts tr[data-account="${id}"] .first-password`, "again-pass-567");
  await page.click(`#accounts tr[data-account="${id}"] .set-password button`);
  await page.waitForFunction(() => (document.querySelector("#said") || {}).textContent?.includes("已设置初始密码"));
  assert((await row(".password")).includes("初始密码"), "a first password again");
  await office.waitForSelector("#sign-in", { timeout: 5000 });
  await page.click(`#accounts tr[data-account="${id}"] .revoke`);
  await page.click(`#accounts tr[data-account="${id}"] .revoke.confirm`);
  await page.waitForFunction((id) => document.querySelector(`#accounts tr[data-account="${id}"] .status`)
    ?.textContent.includes("已撤销"), id);
  await office.fill("#name", person.name);
  await office.fill("#password", "again-pass-567");
  await office.click("#sign-in button[type=submit]");
  await office.waitForFunction(() => document.querySelector("#sign-in-message").textContent !== "");
  assert(!(await office.$("#periods")), "a revoked account signs in no more");
  await theirs.close();
}
