// What the central office's pages share: the period picked, the time
// of a record, and the links between the views.
import { h } from "../dom.js";
import { t } from "../i18n.js";

// The years from the plans' start to the last one ended, newest first.
export function years(app) {
  const now = new Date().getUTCFullYear();
  const start = Math.min(...app.catalog.json.plans.map((p) => p.start_year || 2021)) - 2;
  const out = [];
  for (let y = now - 1; y >= start; y--) out.push(String(y));
  return out;
}

// The year a view shows when none is named: the last one ended.
export function lastYear() {
  return String(new Date().getUTCFullYear() - 1);
}

// A picker of the period for view (#/VIEW/PERIOD).
export function periodPicker(app, view, period) {
  const list = years(app);
  if (!list.includes(period)) list.unshift(period);
  const pick = h("select", { id: "period-pick", "aria-label": t("period"),
    onchange: () => { location.hash = `#/${view}/${pick.value}`; } },
    list.map((y) => h("option", { value: y, selected: y === period }, y)));
  return h("p", { class: "picker" }, h("label", {}, `${t("period")} `, pick));
}

// A Unix time as local date and time; "" for none.
export function when(unix) {
  if (!unix || !Number(unix)) return "";
  const d = new Date(Number(unix) * 1000);
  const p = (x) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
