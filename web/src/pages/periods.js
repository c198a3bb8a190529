// The office's unit and its periods: each one's state (not submitted,
// submitted, returned with the reason, approved) and when it is due.
import { h, show } from "../dom.js";
import { t, named } from "../i18n.js";
import { dueOf } from "../catalog.js";
import { waitingLine } from "./outbox_view.js";

const STATES = { 0: "submitted", 1: "returned", 2: "resubmitted", 3: "approved", 4: "reopened" };

export async function periodsPage(app) {
  const unit = app.account.unit;
  const env = await app.conn.request({ status: { unit } });
  if (env.error) {
    show(app.main, h("p", { class: "error" }, env.error.message));
    return;
  }
  const rows = new Map((env.statusReply.rows || []).map((r) => [r.period, r]));
  // Every year from the plans' start to the last one begun, and any
  // other period with a report.
  const start = Math.min(...app.catalog.json.plans.map((p) => p.start_year || 2021)) - 1;
  const now = new Date().getUTCFullYear();
  const periods = [];
  for (let y = now; y >= start; y--) periods.push(String(y));
  for (const p of rows.keys()) if (!periods.includes(p)) periods.push(p);

  const u = app.catalog.units.get(unit);
  const table = h("table", { id: "periods" },
    h("thead", {}, h("tr", {}, h("th", {}, t("period")), h("th", {}, t("state")),
      h("th", {}, t("due")), h("th", {}, ""))),
    h("tbody", {}, periods.map((p) => {
      const r = rows.get(p);
      const review = r && r.review;
      const state = !r || !r.revision ? "notSubmitted" : STATES[review ? review.state || 0 : 0];
      return h("tr", { "data-period": p },
        h("td", {}, p),
        h("td", { class: `state ${state}` }, t(state),
          review && review.reason ? h("div", { class: "reason" }, `${t("reason")}: `, review.reason) : null),
        h("td", {}, dueOf(app.catalog, p)),
        h("td", {}, h("a", { href: `#/form/${p}`, class: "open" }, t("open")),
          r && r.revision ? [" · ", h("a", { href: `#/history/${p}`, class: "history" }, t("historyOf"))] : null));
    })));
  show(app.main,
    h("h2", { id: "unit-name" }, u ? named(u) : unit),
    h("p", {}, h("a", { href: "#/history", id: "to-history" }, t("history"))),
    await waitingLine(app),
    table);
}
