// The central office's overview of a period (#/overview/2022): each
// unit's completeness and timeliness (not reported, on time, late,
// returned, approved) and the review queue (its warnings with the
// office's explanations, its figures that moved sharply), with approve
// (at the revision shown) and return with a reason on each row.
import { h, show } from "../dom.js";
import { t, named } from "../i18n.js";
import { periodPicker, when } from "./views.js";

const TIMELINESS = {
  "not reported": { key: "notReported", cls: "t-none", sym: "○", order: 0 },
  late: { key: "late", cls: "t-late", sym: "⚠", order: 1 },
  returned: { key: "returned", cls: "t-returned", sym: "↩", order: 2 },
  "on time": { key: "onTime", cls: "t-ontime", sym: "●", order: 3 },
  approved: { key: "approved", cls: "t-approved", sym: "✓", order: 4 },
};
const REVIEW = { 0: "", 1: "returned", 2: "resubmitted", 3: "approved", 4: "reopened" };
const SHOWN_MAX = 500; // rows drawn at most: the rest are counted

export async function overviewPage(app, period) {
  const [comp, queue] = await Promise.all([
    app.conn.request({ completeness: { period, countsOnly: true } }),
    app.conn.request({ reviewList: { period } }),
  ]);
  const failed = comp.error || queue.error;
  if (failed) return show(app.main, periodPicker(app, "overview", period), h("p", { class: "error" }, failed.message));
  const c = comp.completenessReply;
  const rows = new Map((queue.reviewListReply.rows || []).map((r) => [r.unit, r]));
  const units = [...(c.units || [])].sort((a, b) =>
    (TIMELINESS[a.timeliness]?.order ?? 9) - (TIMELINESS[b.timeliness]?.order ?? 9));

  const counts = new Map();
  for (const u of units) counts.set(u.timeliness, (counts.get(u.timeliness) || 0) + 1);
  const summary = h("ul", { class: "counts", id: "counts" },
    Object.entries(TIMELINESS).map(([k, v]) =>
      h("li", { class: v.cls, "data-timeliness": k }, `${v.sym} ${t(v.key)} `, h("b", {}, String(counts.get(k) || 0)))));

  const said = h("div", { id: "review-said", role: "status" });
  const body = h("tbody", {}, units.slice(0, SHOWN_MAX).map((u) => unitRow(app, period, u, rows.get(u.unit), said)));
  show(app.main,
    periodPicker(app, "overview", period),
    h("h2", { id: "overview-title" }, `${t("overview")} · ${period}`),
    h("p", {}, `${t("dueOn")}: ${c.due}`),
    summary,
    said,
    units.length > SHOWN_MAX ? h("p", { class: "note" }, t("shownFirst")(SHOWN_MAX, units.length)) : null,
    h("table", { id: "overview" },
      h("thead", {}, h("tr", {}, [t("unit"), t("state"), t("reported"), t("submittedAt"), t("review"),
                                  t("warnings"), t("moved"), ""].map((x) => h("th", {}, x)))),
      body));
}

function unitRow(app, period, u, row, said) {
  const tl = TIMELINESS[u.timeliness] || { key: u.timeliness, cls: "", sym: "" };
  const rv = row && row.review;
  const revision = row ? Number(row.revision) : 0;
  const warnings = (row && row.warnings) || [];
  const moved = (row && row.moved) || [];
  return h("tr", { "data-unit": u.unit, "data-timeliness": u.timeliness },
    h("th", { scope: "row" }, named(app.catalog.units.get(u.unit) || { code: u.unit }),
      " ", h("a", { href: `#/unit/${u.unit}/history/${period}`, class: "history" }, t("historyLink"))),
    h("td", { class: `timeliness ${tl.cls}` }, `${tl.sym} ${t(tl.key)}`,
      u.daysLate > 0 ? h("div", { class: "days-late" }, t("daysLate")(u.daysLate)) : null),
    h("td", {}, `${u.reported}/${u.expected}`),
    h("td", {}, when(u.firstUnix)),
    h("td", { class: "review" }, rv && REVIEW[rv.state] ? t(REVIEW[rv.state]) : "",
      rv && rv.reason ? h("div", { class: "reason" }, `${t("reason")}: `, rv.reason) : null,
      row && row.errors ? h("div", { class: "error" }, t("errorsCount")(row.errors)) : null),
    h("td", { class: "warnings" }, warnings.map((w) => h("div", { class: "warning", "data-rule": w.rule },
      w.message, h("div", { class: "explained" }, w.explanation ? `${t("explained")}: ` : "",
        w.explanation || t("noExplanation"))))),
    h("td", { class: "moved" }, moved.map((f) => h("div", { class: "flag", "data-element": f.element },
      `${named({ name_zh: f.nameZh, name_en: f.nameEn, code: f.element })}: ${f.previous} → ${f.value}`))),
    h("td", { class: "actions" }, revision ? actions(app, period, u.unit, revision, rv, said) : null));
}

// Approve at the revision shown, or return with a reason.
function actions(app, period, unit, revision, rv, said) {
  const approved = rv && rv.state === 3;
  if (approved) return null;
  const reason = h("textarea", { class: "return-reason", rows: 1, maxlength: 600,
                                 "aria-label": t("returnReason"), placeholder: t("returnReason") });
  const act = async (action) => {
    if (action === "return" && !reason.value.trim()) {
      said.replaceChildren(h("p", { class: "error" }, t("reasonNeeded")));
      return;
    }
    const env = await app.conn.request({ review: { unit, period, action,
      reason: action === "return" ? reason.value.trim() : "", revision: action === "approve" ? revision : 0 } });
    if (env.error) {
      said.replaceChildren(h("p", { class: "error", id: "review-refused" }, env.error.message));
      return;
    }
    await overviewPage(app, period);
    document.getElementById("review-said").replaceChildren(h("p", { class: "ok", id: "review-done" },
      `${t("done")}: ${named(app.catalog.units.get(unit) || { code: unit })} · ${t(action === "approve" ? "approved" : "returned")}`));
  };
  return [
    h("button", { type: "button", class: "approve", onclick: () => act("approve") },
      t("approve"), t("atRevision")(revision)),
    rv && rv.state === 1 ? null : [reason, h("button", { type: "button", class: "return", onclick: () => act("return") }, t("returnIt"))],
  ];
}
