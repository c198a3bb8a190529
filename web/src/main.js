// The app: who is signed in, the connection, and which page is shown
// (a reporter's: #/ the periods, #/form/2022 a period's form,
// #/history/2022 its history and the unit's returns; the central
// office's: #/overview/2022, #/report/2022, #/trend/H02,
// #/matrix/2022, #/explain/H02/2022, #/unit/wande/history/2022; an
// admin's #/ the accounts, and the central office's pages).
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
import { overviewPage } from "./pages/overview.js";
import { districtPage } from "./pages/district.js";
import { trendPage } from "./pages/trend.js";
import { matrixPage } from "./pages/matrix.js";
import { explainPage } from "./pages/explain.js";
import { lastYear } from "./pages/views.js";
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

// The central office's pages (analysts and admins).
const centre = (role) => role === 2 || role === 3;

function header() {
  const views = app.account && centre(app.account.role) ? h("nav", { class: "views", id: "views" },
    app.account.role === 3 ? h("a", { href: "#/" }, t("accountsNav")) : null,
    h("a", { href: `#/overview/${lastYear()}` }, t("overview")),
    h("a", { href: `#/report/${lastYear()}` }, t("district")),
    h("a", { href: `#/matrix/${lastYear()}` }, t("matrix"))) : null;
  show(app.top,
    h("h1", {}, t("title")),
    views,
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
  // The central office's views; an admin's first page is the accounts';
  // a reporter's pages are its unit's.
  const hash = location.hash;
  const v = /^#\/(overview|report|matrix)\/(\d{4})$/.exec(hash) ||
            /^#\/(trend)\/([A-Za-z0-9_]+)$/.exec(hash) ||
            /^#\/(explain)\/([A-Za-z0-9_]+)\/([0-9QM-]+)$/.exec(hash) ||
            /^#\/unit\/([a-z0-9_]+)\/(history)\/([0-9QM-]+)$/.exec(hash);
  if (v && !centre(app.account.role)) return show(app.main, h("p", { class: "error", id: "not-yours" }, t("analystOnly")));
  if (v && v[1] === "overview") return overviewPage(app, v[2]);
  if (v && v[1] === "report") return districtPage(app, v[2]);
  if (v && v[1] === "matrix") return matrixPage(app, v[2]);
  if (v && v[1] === "trend") return trendPage(app, v[2]);
  if (v && v[1] === "explain") return explainPage(app, v[2], v[3]);
  if (v && v[2] === "history") return historyPage(app, v[3], v[1]);
  if (app.account.role === 3) return accountsPage(app);
  if (app.account.role === 2) return overviewPage(app, lastYear());
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
