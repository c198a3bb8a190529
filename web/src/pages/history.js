// The unit's returned reports with the central office's reasons, and
// the history of changes of one period's report (#/history/2022):
// every submission that changed it, oldest first, a page at a time.
import { h, show } from "../dom.js";
import { t, named } from "../i18n.js";

const PAGE = 10; // change sets a page

function day(unix) {
  if (!unix) return "";
  const d = new Date(Number(unix) * 1000);
  const p = (x) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

// A cell's name: the element's, and its age group.
function cellName(cat, cell) {
  const [code, group] = cell.split(".");
  const el = cat.byCode.get(code);
  return `${el ? named(el) : code}${group ? ` (${group})` : ""}`;
}

const num = (has, x) => (has ? String(x) : "—");

// The returns: a report returned now, or returned and sent again (the
// return it answered).
function returnsOf(rows) {
  const out = [];
  for (const r of rows) {
    const rv = r.review;
    if (!rv) continue;
    if (rv.state === 1) out.push({ period: r.period, ret: rv, again: null });
    else if (rv.state === 2 && rv.answers) out.push({ period: r.period, ret: rv.answers, again: rv });
  }
  return out;
}

function returnsTable(list) {
  if (!list.length) return h("p", { id: "no-returns" }, t("noReturns"));
  return h("table", { id: "returns" },
    h("thead", {}, h("tr", {}, h("th", {}, t("period")), h("th", {}, t("returnedOn")),
      h("th", {}, t("by")), h("th", {}, t("reason")), h("th", {}, t("state")))),
    h("tbody", {}, list.map(({ period, ret, again }) => h("tr", { "data-period": period },
      h("td", {}, h("a", { href: `#/history/${period}` }, period)),
      h("td", {}, day(ret.timeUnix)),
      h("td", {}, ret.accountName),
      h("td", { class: "reason" }, ret.reason),
      h("td", {}, again ? `${t("resubmitted")} ${day(again.timeUnix)}`
                        : h("a", { href: `#/form/${period}` }, t("toCorrect")))))));
}

function changeSet(cat, cs) {
  return h("article", { class: "change", "data-revision": String(cs.revision) },
    h("h4", {}, `${t("revision")} ${cs.revision} · ${day(cs.timeUnix)} · ${cs.accountName}`),
    cs.changes.length ? h("table", { class: "changes" },
      h("thead", {}, h("tr", {}, h("th", {}, t("element")), h("th", {}, t("before")), h("th", {}, t("after")))),
      h("tbody", {}, cs.changes.map((c) => h("tr", {},
        h("td", {}, cellName(cat, c.element)),
        h("td", {}, num(c.hadOld, c.oldValue)),
        h("td", {}, num(c.hasNew, c.newValue)))))) : h("p", {}, t("noChange")),
    (cs.explanations || []).map((x) => h("p", { class: "explained" }, `${t("explained")} ${x.rule}: `, x.text)));
}

// unit: another unit's, for the central office (#/unit/wande/history/2022).
export async function historyPage(app, wanted, other) {
  const unit = other || app.account.unit;
  const cat = app.catalog;
  const status = await app.conn.request({ status: { unit } });
  if (status.error) return show(app.main, h("p", { class: "error" }, status.error.message));
  const rows = (status.statusReply.rows || []).filter((r) => Number(r.revision) > 0);
  const period = wanted || (rows[0] && rows[0].period) || "";
  const list = h("div", { id: "changes" });
  const more = h("button", { type: "button", id: "more", hidden: true }, t("more"));
  const address = (p) => (other ? `#/unit/${unit}/history/${p}` : `#/history/${p}`);
  // The period shown is in the address (without a second drawing), and
  // picking it again draws nothing: a page drawn twice at once lost its
  // first drawing's entries to the second.
  if (period && !wanted) history.replaceState(null, "", address(period));
  const pick = h("select", { id: "history-period", "aria-label": t("period"),
    onchange: () => { if (pick.value !== period) location.hash = address(pick.value); } },
    rows.map((r) => h("option", { value: r.period, selected: r.period === period }, r.period)),
    rows.some((r) => r.period === period) || !period ? null : h("option", { value: period, selected: true }, period));
  show(app.main,
    other ? null : h("p", {}, h("a", { href: "#/" }, t("back"))),
    h("h2", { id: "history-title" }, `${named(cat.units.get(unit) || { code: unit })} · ${t("history")}`),
    h("section", {}, h("h3", {}, t("returns")), returnsTable(returnsOf(status.statusReply.rows || []))),
    h("section", {}, h("h3", {}, t("changes"), " ", pick), list, more));
  if (!period) return list.append(h("p", {}, t("noChange")));

  // Page after page, on asking: the next starts after the last one's.
  let after = 0;
  async function page() {
    more.disabled = true;
    const env = await app.conn.request({ history: { unit, period, after, limit: PAGE } });
    if (env.error) {
      list.append(h("p", { class: "error" }, env.error.message));
      return;
    }
    const rep = env.historyReply;
    for (const cs of rep.changes || []) list.append(changeSet(cat, cs));
    if (!list.children.length) list.append(h("p", {}, t("noChange")));
    after = Number(rep.next || 0);
    more.hidden = !rep.more;
    more.disabled = false;
  }
  more.addEventListener("click", page);
  await page();
}
