// An indicator over the years (#/trend/H02): the district's value for
// every year stored, with its confidence band, the baselines, the
// targets and the path from the baseline to the target; each unit's
// line on demand. One TrendRequest for all the years.
import { h, show } from "../dom.js";
import { t, named, unitOf } from "../i18n.js";
import { placeOf } from "../catalog.js";
import { trendChart } from "../chart.js";
import { status, shown } from "../status.js";

let withUnits = false;
const OPS = { ">=": "≥", "<=": "≤", ">": ">", "<": "<", about: "≈", "about<=": "≤≈", "about>=": "≥≈" };

export async function trendPage(app, code) {
  const env = await app.conn.request({ trend: { indicator: code, units: withUnits } });
  if (env.error) return show(app.main, h("p", { class: "error", id: "trend-error" }, env.error.message));
  const rep = env.trendReply;
  const rows = rep.total.rows || [];
  const { ind } = placeOf(app.catalog, code);
  const d = ind.decimals ?? 2;
  const points = rows.map((r, i) => ({ r, year: rep.fromYear + i })).filter(({ r }) => r.hasValue && !r.level)
    .map(({ r, year }) => ({ year, value: r.value, lower: r.hasInterval ? r.lower : NaN,
                             upper: r.hasInterval ? r.upper : NaN, r }));

  // The targets: the catalog's with a number, and those entered on the
  // server (the rows' target fields).
  const targets = new Map();
  for (const x of ind.targets || [])
    if (typeof x.value === "number" && OPS[x.op]) targets.set(x.year, { year: x.year, value: x.value, label: `${OPS[x.op]} ${x.value} (${x.year})` });
  for (const r of rows) {
    const f = r.targetFields;
    if (f && f.hasValue && OPS[f.comparator] && !targets.has(f.year))
      targets.set(f.year, { year: f.year, value: f.value, label: `${OPS[f.comparator]} ${f.value} (${f.year})` });
  }
  // The path: from the baseline the report judges by to the target.
  const last = [...rows].reverse().find((r) => r.hasPath && r.targetFields && r.targetFields.hasValue);
  const path = [];
  const baselines = [];
  if (last) {
    const [y0, v0, y1, v1] = [last.pathFromYear, last.pathFrom, last.targetFields.year, last.targetFields.value];
    for (let y = y0; y <= y1; y++)
      path.push({ year: y, value: last.pathRate && v0 > 0 && v1 > 0 ? v0 * (v1 / v0) ** ((y - y0) / (y1 - y0 || 1))
                                                                    : v0 + ((v1 - v0) * (y - y0)) / (y1 - y0 || 1) });
    baselines.push({ year: y0, value: v0, label: `${t("baseline")} ${shown(true, v0, d)} (${y0})` });
  }
  const other = (ind.baselines || []).filter((b) => typeof b.value === "number")
    .map((b) => `${b.scope} ${b.value}${b.year ? ` (${b.year})` : ""}`);

  const units = (rep.units || []).map((u) => ({
    code: u.unit, name: named({ name_zh: u.nameZh, name_en: u.nameEn, code: u.unit }),
    points: (u.rows || []).map((r, i) => ({ year: rep.fromYear + i, value: r.value, has: r.hasValue && !r.level }))
      .filter((p) => p.has),
  }));
  const chart = trendChart({
    points, units, baselines, targets: [...targets.values()], path, decimals: d,
    label: (p) => `${p.year}: ${shown(true, p.value, d)}${Number.isFinite(p.lower) ? ` (${shown(true, p.lower, d)}–${shown(true, p.upper, d)})` : ""}`,
  });
  const toggle = h("input", { type: "checkbox", id: "each-unit", checked: withUnits,
    onchange: () => { withUnits = toggle.checked; trendPage(app, code); } });

  show(app.main,
    h("h2", { id: "trend-title" }, `${code} ${named(ind)} · ${t("trend")}`),
    h("p", { class: "uom" }, unitOf(ind), " · ", rep.fromYear === rep.toYear ? String(rep.fromYear) : `${rep.fromYear}–${rep.toYear}`),
    h("label", { class: "toggle" }, toggle, ` ${t("eachUnit")}`),
    points.length ? chart : h("p", { id: "no-points" }, t("noPoints")),
    h("p", { class: "legend" }, `● ${t("valueCol")} · ▒ ${t("ci")} · ◆ ${t("baseline")} · ▲ ${t("target")} · ┄ ${t("pathTo")}`,
      other.length ? ` · ${t("baseline")}: ${other.join("; ")}` : ""),
    h("table", { id: "trend-table" },
      h("thead", {}, h("tr", {}, [t("year"), t("valueCol"), t("ci"), t("target"), t("statusF")].map((c) => h("th", {}, c)))),
      h("tbody", {}, rows.map((r, i) => {
        const s = status(r.status);
        return h("tr", { "data-year": String(rep.fromYear + i) },
          h("td", {}, h("a", { href: `#/report/${rep.fromYear + i}` }, String(rep.fromYear + i))),
          h("td", {}, r.level || shown(r.hasValue, r.value, d)),
          h("td", {}, r.hasInterval ? `${shown(true, r.lower, d)}–${shown(true, r.upper, d)}` : ""),
          h("td", {}, r.target),
          h("td", { class: `status ${s.cls}` }, `${s.sym} ${s.word}`));
      }))));
}
