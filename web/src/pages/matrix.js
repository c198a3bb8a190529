// Who is behind (#/matrix/2022): each unit against every indicator its
// figures make, a cell coloured and marked by the unit's status against
// the target (✓ met, ✗ not met, ↗ on track, ↘ off track, ? not judged)
// and by whether it is better (▲) or worse (▼) than the district beyond
// chance; sorted by unit or by how far behind, indicators by code or by
// how many units are behind; the per-unit-threshold indicators (H29)
// name their failing units. One MatrixRequest (proto/tally.proto says
// why one and not an ExplainRequest per indicator).
import { h, show } from "../dom.js";
import { t, named } from "../i18n.js";
import { status, compared, shown, STATUSES } from "../status.js";
import { periodPicker } from "./views.js";

const sort = { units: "unit", indicators: "code" };
const BEHIND = new Set([2, 9]); // not met, off track

export async function matrixPage(app, period) {
  const env = await app.conn.request({ matrix: { period } });
  if (env.error) return show(app.main, periodPicker(app, "matrix", period), h("p", { class: "error" }, env.error.message));
  const rep = env.matrixReply;
  const rows = rep.rows || [];
  const units = rep.units || [];
  const behind = (cell) => BEHIND.has(cell.status) || cell.compared === 3;
  const unitsBehind = rows.map((_, j) => units.filter((u) => behind(u.cells[j])).length);
  const table = h("div", { id: "matrix-table" });

  function draw() {
    let cols = rows.map((r, j) => j);
    if (sort.indicators === "behind") cols = cols.sort((a, b) => unitsBehind[b] - unitsBehind[a] || a - b);
    let list = units.map((u, i) => ({ u, i, n: u.cells.filter(behind).length }));
    if (sort.units === "behind") list = list.sort((a, b) => b.n - a.n || a.i - b.i);
    table.replaceChildren(h("table", { id: "matrix" },
      h("thead", {}, h("tr", {}, h("th", {}, t("unit")),
        cols.map((j) => h("th", { "data-code": rows[j].code, title: named({ name_zh: rows[j].nameZh, name_en: rows[j].nameEn }) },
          h("a", { href: `#/trend/${rows[j].code}` }, rows[j].code),
          h("div", { class: "behind-count" }, `${unitsBehind[j]} ${t("behind")}`))))),
      h("tbody", {}, list.map(({ u, n }) => h("tr", { "data-unit": u.unit },
        h("th", { scope: "row" }, named({ name_zh: u.nameZh, name_en: u.nameEn, code: u.unit }),
          h("div", { class: "behind-count" }, `${n} ${t("behind")}`)),
        cols.map((j) => cell(rows[j], u, u.cells[j], period)))))));
  }

  const picker = (key, options) => {
    const s = h("select", { id: `sort-${key}`, "aria-label": t("sortBy"),
      onchange: () => { sort[key] = s.value; draw(); } },
      options.map(([v, text]) => h("option", { value: v, selected: sort[key] === v }, text)));
    return s;
  };
  // The per-unit-threshold indicators: the units under the unit target.
  const thresholds = rows.map((r, j) => ({ r, j })).filter(({ r }) => r.kind === "unit_threshold")
    .map(({ r, j }) => {
      const failing = units.filter((u) => u.cells[j].status === 2);
      return h("p", { class: "failing", "data-code": r.code },
        `${r.code} ${named({ name_zh: r.nameZh, name_en: r.nameEn })} · ${t("failing")}: `,
        failing.length ? failing.map((u) => named({ name_zh: u.nameZh, name_en: u.nameEn, code: u.unit })).join("、") : t("none"));
    });
  show(app.main,
    periodPicker(app, "matrix", period),
    h("h2", { id: "matrix-title" }, `${t("matrix")} · ${period}`),
    h("p", { class: "filters" }, `${t("sortBy")}: `,
      picker("units", [["unit", t("byUnit")], ["behind", t("byBehind")]]), " ",
      picker("indicators", [["code", t("byCode")], ["behind", t("byMissed")]])),
    h("p", { class: "legend", id: "matrix-legend" }, `${t("legend")}: `,
      STATUSES.map((s) => h("span", { class: `swatch ${status(s).cls}`, "data-status": String(s) }, `${status(s).sym} ${status(s).word}`)),
      [2, 3].map((c) => h("span", { class: `swatch ${compared(c).cls}` }, `${compared(c).sym} ${compared(c).word}`))),
    thresholds,
    table);
  draw();
}

function cell(row, u, c, period) {
  const s = status(c.status), cmp = compared(c.compared);
  const words = `${named({ name_zh: u.nameZh, name_en: u.nameEn, code: u.unit })} · ${row.code} · ${s.word}${cmp.word ? ` · ${cmp.word}` : ""}`;
  return h("td", { class: `cell ${s.cls} ${cmp.cls}`, "data-code": row.code, "data-status": String(c.status),
                   "data-compared": String(c.compared || 0), title: words },
    h("a", { href: `#/explain/${row.code}/${period}` },
      c.hasValue ? shown(true, c.value, row.decimals) : "—"),
    h("span", { class: "mark" }, ` ${s.sym}${cmp.sym}`));
}
