// The office's unit and its periods: each one's state (not submitted,
// submitted, returned with the reason, approved) and when it is due, as
// the server says from the catalog's deadlines: the years, and the
// quarters and months of one year (those begun).
import { h, show } from "../dom.js";
import { t, named } from "../i18n.js";
import { waitingLine } from "./outbox_view.js";

const STATES = { 0: "submitted", 1: "returned", 2: "resubmitted", 3: "approved", 4: "reopened" };

let shownYear = null; // whose quarters and months are listed

// The quarters and months of year that have begun by now.
function partsOf(year, now) {
  const y = now.getUTCFullYear(), m = now.getUTCMonth() + 1;
  const months = year < y ? 12 : year === y ? m : 0;
  const out = [];
  for (let q = 1; q <= 4 && (q - 1) * 3 < months; q++) out.push(`${year}Q${q}`);
  for (let i = 1; i <= months; i++) out.push(`${year}-${String(i).padStart(2, "0")}`);
  return out;
}

function table(id, periods, rows) {
  return h("table", { id },
    h("thead", {}, h("tr", {}, h("th", {}, t("period")), h("th", {}, t("state")),
      h("th", {}, t("due")), h("th", {}, ""))),
    h("tbody", {}, periods.map((p) => {
      const r = rows.get(p);
      const review = r && r.review;
      const state = !r || !Number(r.revision) ? "notSubmitted" : STATES[review ? review.state || 0 : 0];
      return h("tr", { "data-period": p },
        h("td", {}, p),
        h("td", { class: `state ${state}` }, t(state),
          review && review.reason ? h("div", { class: "reason" }, `${t("reason")}: `, review.reason) : null),
        h("td", { class: "due" }, r ? r.due : ""),
        h("td", {}, h("a", { href: `#/form/${p}`, class: "open" }, t("open")),
          r && Number(r.revision) ? [" · ", h("a", { href: `#/history/${p}`, class: "history" }, t("historyOf"))] : null));
    })));
}

export async function periodsPage(app) {
  const unit = app.account.unit;
  const now = new Date();
  // Every year from the plans' start to this one.
  const start = Math.min(...app.catalog.json.plans.map((p) => p.start_year || 2021)) - 1;
  const years = [];
  for (let y = now.getUTCFullYear(); y >= start; y--) years.push(String(y));
  if (shownYear === null) shownYear = now.getUTCFullYear();
  const parts = partsOf(shownYear, now);
  const env = await app.conn.request({ status: { unit, periods: [...years, ...parts] } });
  if (env.error) {
    show(app.main, h("p", { class: "error" }, env.error.message));
    return;
  }
  const rows = new Map((env.statusReply.rows || []).map((r) => [r.period, r]));
  // Any other year with a report (before the plans began).
  for (const p of rows.keys()) if (/^\d{4}$/.test(p) && !years.includes(p)) years.push(p);

  const pick = h("select", { id: "parts-year", "aria-label": t("period"),
    onchange: () => { shownYear = Number(pick.value); periodsPage(app); } },
    years.map((y) => h("option", { value: y, selected: Number(y) === shownYear }, y)));
  const u = app.catalog.units.get(unit);
  show(app.main,
    h("h2", { id: "unit-name" }, u ? named(u) : unit),
    h("p", {}, h("a", { href: "#/history", id: "to-history" }, t("history"))),
    await waitingLine(app),
    h("h3", {}, t("years")),
    table("periods", years, rows),
    h("h3", {}, t("parts"), " ", pick),
    parts.length ? table("parts", parts, rows) : h("p", {}, t("noParts")));
}
