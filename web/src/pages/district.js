// The district report of a period (#/report/2022): every indicator of
// both plans, grouped as the plans group them (the five-year plan by
// category, the health action by part and action), with its value,
// confidence interval, target, gap, status (a colour with a symbol and
// a word) and change on the year before (and whether it is more than
// chance); filtered by plan, group, status and lead department. One
// ReportRequest; the annual report's file from its buttons
// (report_file.js).
import { h, show } from "../dom.js";
import { t, en, named, unitOf } from "../i18n.js";
import { placeOf, leads } from "../catalog.js";
import { status, statusGroup, STATUSES, changeCompared, shown, signed } from "../status.js";
import { periodPicker } from "./views.js";
import { reportFileBar } from "./report_file.js";

const filters = { plan: "", group: "", status: "", lead: "" }; // kept across periods

export async function districtPage(app, period) {
  const env = await app.conn.request({ report: { period } });
  if (env.error) return show(app.main, periodPicker(app, "report", period), h("p", { class: "error" }, env.error.message));
  const rep = env.reportReply;
  const cat = app.catalog;
  const rows = (rep.rows || []).map((r) => ({ r, place: placeOf(cat, r.code) }));

  const table = h("div", { id: "district-rows" });
  const count = h("p", { id: "rows-shown" });
  const select = (id, key, label, options) => {
    const s = h("select", { id, "aria-label": label,
      onchange: () => { filters[key] = s.value; if (key === "plan") filters.group = ""; draw(); } },
      options.map(([v, text]) => h("option", { value: v, selected: filters[key] === v }, text)));
    return h("label", {}, `${label} `, s);
  };
  const groupOptions = () => {
    const seen = new Map();
    for (const { place } of rows)
      if (!filters.plan || place.plan.code === filters.plan) seen.set(place.group.key, en() ? place.group.en : place.group.zh);
    return [["", t("allCategories")], ...seen];
  };
  const bar = h("div", { class: "filters", id: "filters" });
  const drawBar = () => bar.replaceChildren(
    select("f-plan", "plan", t("plan"), [["", t("allPlans")], ...cat.json.plans.map((p) => [p.code, named(p)])]),
    select("f-group", "group", t("category"), groupOptions()),
    select("f-status", "status", t("statusF"), [["", t("allStatuses")],
      ...STATUSES.map((s) => [String(s), `${status(s).sym} ${status(s).word}`])]),
    select("f-lead", "lead", t("lead"), [["", t("allLeads")], ...leads(cat).map((l) => [l.zh, en() ? l.en : l.zh]),
      ["-", t("noLead")]]));

  function keep({ r, place }) {
    return (!filters.plan || place.plan.code === filters.plan) &&
      (!filters.group || place.group.key === filters.group) &&
      (!filters.status || String(statusGroup(r.status)) === filters.status) &&
      (!filters.lead || (filters.lead === "-" ? !place.lead_zh : place.lead_zh === filters.lead));
  }

  // The plans' order; within a plan its groups' (the goals, then the
  // actions by number; the categories as they come); within a group
  // the report's.
  const order = (x) => {
    const g = x.place.group;
    const n = x.place.action ? x.place.action.number : 0;
    return [cat.json.plans.indexOf(x.place.plan), n, firstOf.get(g.key)];
  };
  const firstOf = new Map();
  rows.forEach((x, i) => { if (!firstOf.has(x.place.group.key)) firstOf.set(x.place.group.key, i); });
  const byKey = (a, b) => {
    for (let j = 0; j < a.k.length; j++) if (a.k[j] !== b.k[j]) return a.k[j] - b.k[j];
    return 0;
  };
  const sorted = rows.map((x, i) => ({ x, k: [...order(x), i] })).sort(byKey).map(({ x }) => x);

  function draw() {
    drawBar();
    const kept = sorted.filter(keep);
    count.textContent = t("rowsShown")(kept.length, rows.length);
    const parts = [];
    let plan = null, part = null, group = null, body = null;
    const head = h("tr", {}, [t("indicator"), t("valueCol"), t("ci"), t("target"), t("gap"), t("statusF"),
                              t("change"), t("note")].map((c) => h("th", {}, c)));
    for (const x of kept) {
      if (x.place.plan !== plan) {
        plan = x.place.plan;
        part = group = null;
        body = h("tbody", {});
        parts.push(h("h3", { class: "plan" }, named(plan)),
                   h("table", { class: "district", "data-plan": plan.code }, h("thead", {}, head.cloneNode(true)), body));
      }
      const p = en() ? x.place.group.part_en : x.place.group.part_zh;
      if (p && p !== part) {
        part = p;
        body.append(h("tr", { class: "part" }, h("th", { colspan: 8 }, p)));
      }
      if (x.place.group.key !== group) {
        group = x.place.group.key;
        body.append(h("tr", { class: "group", "data-group": group }, h("th", { colspan: 8 },
          en() ? x.place.group.en : x.place.group.zh,
          x.place.lead_zh ? h("span", { class: "lead" }, ` · ${t("lead")}: ${en() ? x.place.lead_en : x.place.lead_zh}`) : null)));
      }
      body.append(row(x.r, period));
    }
    table.replaceChildren(...parts);
  }

  show(app.main,
    periodPicker(app, "report", period),
    h("h2", { id: "district-title" }, `${named({ name_zh: rep.unitNameZh, name_en: rep.unitNameEn, code: rep.unit })} · ${period}`),
    h("p", {}, `${t("units")}: ${rep.unitsReporting} · ${t("approved")}: ${rep.unitsApproved}`),
    reportFileBar(app, period), bar, count, table);
  draw();
}

function row(r, period) {
  const d = r.decimals;
  const s = status(r.status);
  const cc = changeCompared(r.changeCompared);
  const value = r.level || shown(r.hasValue, r.value, d);
  return h("tr", { "data-code": r.code, "data-status": String(r.status),
                   "data-value": r.hasValue ? String(r.value) : "" },
    h("th", { scope: "row" }, h("a", { href: `#/trend/${r.code}`, class: "code" }, r.code), " ",
      named({ name_zh: r.nameZh, name_en: r.nameEn }), h("div", { class: "uom" }, unitOf(r))),
    h("td", { class: "value" }, r.hasValue ? h("a", { href: `#/explain/${r.code}/${period}` }, value) : "—"),
    h("td", { class: "ci" }, r.hasInterval ? `${shown(true, r.lower, d)}–${shown(true, r.upper, d)}` : ""),
    h("td", { class: "target" }, r.target),
    h("td", { class: "gap" }, signed(r.hasGap, r.gap, d)),
    h("td", { class: `status ${s.cls}` }, `${s.sym} ${s.word}`),
    h("td", { class: `change ${cc.cls}` }, signed(r.hasChange, r.change, d),
      cc.word ? h("div", {}, cc.word) : null),
    h("td", { class: "note" }, r.note));
}
