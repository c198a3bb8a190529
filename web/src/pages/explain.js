// Where a value comes from (#/explain/H02/2022): the formula, the
// district's sums and value, and each unit's own figures, value and
// how it compares with the district; from each unit, its history of
// changes. One ExplainRequest (tally explain).
import { h, show } from "../dom.js";
import { t, named } from "../i18n.js";
import { status, compared, shown } from "../status.js";

function line(r, d, head) {
  const s = status(r.status);
  return [
    h("td", { class: "num" }, r.numeratorText || ""),
    h("td", { class: "num" }, r.denominatorText || ""),
    h("td", { class: "value" }, r.level || shown(r.hasValue, r.value, d) || "—"),
    h("td", {}, r.hasInterval ? `${shown(true, r.lower, d)}–${shown(true, r.upper, d)}` : ""),
    h("td", { class: `status ${s.cls}` }, `${s.sym} ${s.word}`),
    head,
  ];
}

export async function explainPage(app, code, period) {
  const env = await app.conn.request({ explain: { indicator: code, period } });
  if (env.error) return show(app.main, h("p", { class: "error", id: "explain-error" }, env.error.message));
  const x = env.explainReply;
  const tot = x.total;
  const d = tot.decimals;
  show(app.main,
    h("p", {}, h("a", { href: `#/report/${period}` }, `← ${t("district")}`), " · ",
      h("a", { href: `#/trend/${code}` }, t("trend"))),
    h("h2", { id: "explain-title" }, `${code} ${named({ name_zh: tot.nameZh, name_en: tot.nameEn })} · ${period} · ${t("explainOf")}`),
    h("p", { class: "formula" }, `${t("formula")}: `, x.formula),
    h("table", { id: "explain" },
      h("thead", {}, h("tr", {}, [t("unit"), t("numerator"), t("denominator"), t("valueCol"), t("ci"), t("statusF"),
                                  t("vsDistrict"), ""].map((c) => h("th", {}, c)))),
      h("tbody", {},
        h("tr", { class: "total", "data-unit": x.unit }, h("th", { scope: "row" }, named(app.catalog.units.get(x.unit) || { code: x.unit })),
          line(tot, d, h("td", {})), h("td", {})),
        (x.units || []).map((u) => {
          const c = compared(u.compared);
          return h("tr", { "data-unit": u.unit, class: u.reported ? "" : "missing" },
            h("th", { scope: "row" }, named({ name_zh: u.nameZh, name_en: u.nameEn, code: u.unit }),
              u.reported ? null : h("div", { class: "note" }, t("notReportedUnit"))),
            line(u.row, d, h("td", { class: `compared ${c.cls}` }, `${c.sym} ${c.word}`)),
            h("td", {}, h("a", { href: `#/unit/${u.unit}/history/${period}`, class: "history" }, t("historyLink"))));
        }))),
    tot.note ? h("p", { class: "note" }, tot.note) : null);
}
