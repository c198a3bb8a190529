// The app: who is signed in, the connection, and which page is shown
// (#/ the periods, #/form/2022 a period's form, #/history/2022 its
// history and the unit's returns; an admin's: the accounts).
import "./style.css";
import { h, show } from "./dom.js";
import { t, toggle } from "./i18n.js";
import * as net from "./net.js";
import { loadCatalog } from "./catalog.js";
import { signInPage } from "./pages/signin.js";
import { periodsPage } from "./pages/periods.js";
import { formPage } from "./pages/form.js";
import { historyPage } from "./pages/history.js";
import { accountsPage } from "./pages/accounts.js";
import { flush, sentNotice } from "./pages/outbox_view.js";

const app = {
  account: null,   // the Account signed in
  conn: null,      // the open Connection
  catalog: null,
  message: "",     // said on the sign-in page (why it is shown)
  main: document.getElementById("app"),
  top: document.getElementById("top"),
  notice: document.getElementById("notice"), // what the outbox sent, kept across pages
  route,
  start,
  signOut,
};

function header() {
  show(app.top,
    h("h1", {}, t("title")),
    h("nav", {},
      app.account ? h("span", { class: "who" }, app.account.name) : null,
      h("button", { type: "button", id: "lang", onclick: () => { toggle(); header(); route(); } }, t("lang")),
      app.account ? h("button", { type: "button", id: "sign-out", onclick: signOut }, t("signOut")) : null));
}

// Opens the connection and the catalog once signed in.
async function start(account) {
  app.account = account;
  header();
  try {
    app.conn = await new net.Connection(closed).open();
  } catch (e) {
    return lost(e.code);
  }
  if (!app.catalog) {
    const env = await app.conn.request({ catalog: {} });
    if (env.error) return fail(env.error.message);
    app.catalog = loadCatalog(JSON.parse(new TextDecoder().decode(env.catalogReply.json)));
  }
  const done = await flush(app);
  if (done.length) show(app.notice, sentNotice(done));
  route();
}

function fail(message) {
  show(app.main, h("p", { class: "error" }, message));
}

// The WebSocket closed: a session that ended goes back to the sign-in;
// else it is opened again (what waits in the outbox is sent then).
function closed(code) {
  app.conn = null;
  lost(code);
}

// A session that ended (1008, or GET /session says none) goes back to
// the sign-in; a network that is gone (GET /session fails too) is tried
// again every 2 s, the page kept as it is.
async function lost(code) {
  const s = code === 1008 ? null : await net.session().catch(() => "unreachable");
  if (s === null) {
    app.account = null;
    app.message = t("ended");
    header();
    signInPage(app);
    return;
  }
  if (!document.getElementById("offline"))
    app.main.prepend(h("p", { class: "offline", id: "offline" }, t("offline")));
  setTimeout(() => start(app.account).catch(() => lost(0)), 2000);
}

async function signOut() {
  await net.signOut().catch(() => {});
  show(app.notice);
  app.account = null;
  app.message = "";
  if (app.conn) app.conn.close();
  header();
  signInPage(app);
}

function route() {
  if (!app.account) return signInPage(app);
  if (!app.conn || !app.catalog) return;
  // An admin's page is the accounts'; an analyst's work is the command
  // line's for now; a reporter's, its unit's periods.
  if (app.account.role === 3) return accountsPage(app);
  if (app.account.role !== 1) return show(app.main, h("p", { id: "centre" }, t("centre")));
  const m = /^#\/form\/([0-9QM-]+)$/.exec(location.hash);
  if (m) return formPage(app, m[1]);
  const hm = /^#\/history(?:\/([0-9QM-]+))?$/.exec(location.hash);
  if (hm) return historyPage(app, hm[1]);
  return periodsPage(app);
}

window.addEventListener("hashchange", route);
header();
net.session().then((s) => (s ? start(s.account) : signInPage(app)),
                   () => signInPage(app));
