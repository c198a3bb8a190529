// The admin's page: every account (its role, unit, when it was made and
// last used, its password and whether it is revoked); add one (a
// reporter for a unit, an analyst or an admin) with a first password;
// set a first password; revoke. Through the requests the command line
// makes (AccountList, AccountAdd, AccountPassword, AccountRevoke).
import { h, show } from "../dom.js";
import { t, named } from "../i18n.js";

const ROLES = { 1: "reporter", 2: "analyst", 3: "admin" };

function day(unix) {
  if (!unix || Number(unix) === 0) return "";
  const d = new Date(Number(unix) * 1000);
  const p = (x) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function passwordState(a) {
  if (!Number(a.passwordSetUnix)) return t("noPassword");
  return a.passwordMustChange ? `${t("firstPassword")} ${day(a.passwordSetUnix)}`
                              : `${t("passwordSet")} ${day(a.passwordSetUnix)}`;
}

// message: what the last change said, shown above the list it changed.
export async function accountsPage(app, message) {
  const said = h("div", { id: "said", role: "status" }, message || null);
  const tell = (cls, ...what) => said.replaceChildren(h("p", { class: cls }, ...what));
  const env = await app.conn.request({ accountList: {} });
  if (env.error) return show(app.main, h("p", { class: "error" }, env.error.message));
  const accounts = env.accountListReply.accounts || [];
  const unitName = (code) => {
    const u = app.catalog.units.get(code);
    return u ? named(u) : code;
  };

  // Sets a first password for account a: its owner changes it at sign-in.
  async function setPassword(a, input) {
    if (input.value.length < 8) return tell("error", t("tooShort"));
    const rep = await app.conn.request({ accountPassword: { id: a.id, password: input.value } });
    input.value = "";
    if (rep.error) return tell("error", rep.error.message);
    await accountsPage(app, h("p", { class: "ok" }, `${t("passwordGiven")}: ${a.name}`));
  }

  function row(a) {
    const revoked = Number(a.revokedUnix) > 0;
    const pw = h("input", { type: "password", class: "first-password", autocomplete: "new-password",
                            minlength: 8, "aria-label": t("firstPassword") });
    const revoke = h("button", { type: "button", class: "revoke" }, t("revoke"));
    revoke.addEventListener("click", async () => {
      if (!revoke.classList.contains("confirm")) { // a second click confirms
        revoke.classList.add("confirm");
        revoke.textContent = t("revokeSure");
        return;
      }
      const rep = await app.conn.request({ accountRevoke: { id: a.id } });
      if (rep.error) return tell("error", rep.error.message);
      await accountsPage(app, h("p", { class: "ok" }, `${t("revokedDone")}: ${a.name}`));
    });
    return h("tr", { "data-account": String(a.id) },
      h("td", {}, String(a.id)),
      h("td", { class: "name" }, a.name),
      h("td", { class: "role" }, t(ROLES[a.role] || "other")),
      h("td", {}, a.unit ? unitName(a.unit) : ""),
      h("td", {}, day(a.createdUnix)),
      h("td", { class: "last-used" }, day(a.lastUsedUnix) || t("never")),
      h("td", { class: "password" }, passwordState(a)),
      h("td", { class: "status" }, revoked ? `${t("revoked")} ${day(a.revokedUnix)}` : t("active")),
      h("td", {}, revoked ? null : [
        h("form", { class: "set-password", onsubmit: (ev) => { ev.preventDefault(); setPassword(a, pw); } },
          pw, h("button", { type: "submit" }, t("setPassword"))),
        a.id === app.account.id ? null : revoke]));
  }

  // The new account's form: a reporter needs its unit.
  const name = h("input", { id: "new-name", required: true, maxlength: 120 });
  const role = h("select", { id: "new-role" },
    Object.entries(ROLES).map(([v, k]) => h("option", { value: v }, t(k))));
  const unit = h("select", { id: "new-unit" },
    [...app.catalog.units.values()].map((u) => h("option", { value: u.code }, `${named(u)} (${u.code})`)));
  const unitLabel = h("label", {}, t("unit"), unit);
  role.addEventListener("change", () => { unitLabel.hidden = role.value !== "1"; });
  const first = h("input", { id: "new-password", type: "password", autocomplete: "new-password", minlength: 8 });
  const add = h("form", { id: "add-account" },
    h("h3", {}, t("addAccount")),
    h("label", {}, t("name"), name),
    h("label", {}, t("role"), role),
    unitLabel,
    h("label", {}, t("firstPasswordOptional"), first),
    h("button", { type: "submit" }, t("add")));
  add.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (first.value && first.value.length < 8) return tell("error", t("tooShort"));
    const spec = { name: name.value.trim(), role: Number(role.value), unit: role.value === "1" ? unit.value : "" };
    const rep = await app.conn.request({ accountAdd: { accounts: [spec] } });
    if (rep.error) return tell("error", rep.error.message);
    const made = rep.accountAddReply.accounts[0];
    let pwError = null;
    if (first.value) {
      const p = await app.conn.request({ accountPassword: { id: made.account.id, password: first.value } });
      if (p.error) pwError = p.error.message;
    }
    await accountsPage(app, h("div", { class: pwError ? "error" : "ok", id: "added" },
      h("p", {}, `${t("added")}: ${made.account.name} (${made.account.id})`),
      pwError ? h("p", {}, `${t("passwordNotSet")}: `, pwError) : null,
      h("p", {}, t("tokenOnce")), h("code", { id: "new-token" }, made.token)));
  });

  show(app.main,
    h("h2", {}, t("accounts")),
    said,
    h("table", { id: "accounts" },
      h("thead", {}, h("tr", {}, ["id", "name", "role", "unit", "created", "lastUsed", "password", "state", ""]
        .map((k) => h("th", {}, k === "id" ? "ID" : t(k))))),
      h("tbody", {}, accounts.map(row))),
    add);
}
