// An indicator over the years as SVG the code makes (no library, no
// network): the district's value a point a year with its 95 %
// confidence band, the baselines, the targets, the path from the
// baseline to the target, and each unit's line when asked. Every text
// goes in as textContent.
const NS = "http://www.w3.org/2000/svg";

function el(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// Round steps for an axis from lo to hi: about n ticks.
function ticks(lo, hi, n) {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / n, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

// spec: {points: [{year, value, lower?, upper?}], units: [{name, points}],
// baselines: [{year, value, label}], targets: [{year, value, label}],
// path: [{year, value}], decimals, label(point) → its words}
export function trendChart(spec) {
  const W = 760, H = 330, L = 64, R = 150, T = 16, B = 36;
  const all = [...spec.points, ...spec.units.flatMap((u) => u.points)];
  const ys = [...all.flatMap((p) => [p.value, p.lower, p.upper]),
              ...spec.baselines.map((b) => b.value), ...spec.targets.map((x) => x.value),
              ...spec.path.map((p) => p.value)].filter((v) => Number.isFinite(v));
  const xs = [...all.map((p) => p.year), ...spec.baselines.map((b) => b.year), ...spec.targets.map((x) => x.year),
              ...spec.path.map((p) => p.year)].filter((v) => Number.isFinite(v));
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", id: "trend-chart" });
  if (!xs.length || !ys.length) return svg;
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const pad = (y1 - y0) * 0.08 || Math.abs(y1) * 0.1 || 1;
  [y0, y1] = [y0 - pad, y1 + pad];
  const X = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const Y = (y) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  const d = spec.decimals;

  const axes = el("g", { class: "axes" });
  for (const v of ticks(y0, y1, 5)) {
    axes.append(el("line", { x1: L, x2: W - R, y1: Y(v), y2: Y(v), class: "grid" }));
    axes.append(el("text", { x: L - 6, y: Y(v) + 4, "text-anchor": "end" }, v.toFixed(Math.min(d, 2))));
  }
  for (let x = Math.ceil(x0); x <= x1; x++)
    if ((x1 - x0) <= 12 || x % 2 === 0)
      axes.append(el("text", { x: X(x), y: H - B + 18, "text-anchor": "middle" }, String(x)));
  axes.append(el("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }));
  svg.append(axes);

  // The band over consecutive years with an interval.
  const withCI = spec.points.filter((p) => Number.isFinite(p.lower) && Number.isFinite(p.upper));
  if (withCI.length > 1) {
    const up = withCI.map((p) => `${X(p.year)},${Y(p.upper)}`);
    const down = withCI.slice().reverse().map((p) => `${X(p.year)},${Y(p.lower)}`);
    svg.append(el("polygon", { points: [...up, ...down].join(" "), class: "band" }));
  }
  for (const p of withCI)
    svg.append(el("line", { x1: X(p.year), x2: X(p.year), y1: Y(p.lower), y2: Y(p.upper), class: "ci" }));

  if (spec.path.length > 1)
    svg.append(el("polyline", { points: spec.path.map((p) => `${X(p.year)},${Y(p.value)}`).join(" "), class: "path" }));

  spec.units.forEach((u, i) => {
    if (!u.points.length) return;
    const g = el("g", { class: `unit-line u${i % 10}`, "data-unit": u.code });
    g.append(el("polyline", { points: u.points.map((p) => `${X(p.year)},${Y(p.value)}`).join(" ") }));
    const last = u.points[u.points.length - 1];
    g.append(el("text", { x: X(last.year) + 6, y: Y(last.value) + 4 }, u.name));
    g.append(el("title", {}, u.name));
    svg.append(g);
  });

  if (spec.points.length > 1)
    svg.append(el("polyline", { points: spec.points.map((p) => `${X(p.year)},${Y(p.value)}`).join(" "), class: "line" }));
  for (const p of spec.points) {
    const c = el("circle", { cx: X(p.year), cy: Y(p.value), r: 4.5, class: "point",
                             "data-year": p.year, "data-value": String(p.value) });
    c.append(el("title", {}, spec.label(p)));
    svg.append(c);
  }

  for (const b of spec.baselines) {
    const g = el("g", { class: "baseline" });
    const [x, y] = [X(b.year), Y(b.value)];
    g.append(el("path", { d: `M${x},${y - 6} L${x + 6},${y} L${x},${y + 6} L${x - 6},${y} Z` }));
    g.append(el("text", { x: x + 8, y: y - 6 }, b.label));
    svg.append(g);
  }
  for (const tg of spec.targets) {
    const g = el("g", { class: "target" });
    const [x, y] = [X(tg.year), Y(tg.value)];
    g.append(el("line", { x1: x - 10, x2: x + 10, y1: y, y2: y }));
    g.append(el("path", { d: `M${x},${y - 7} L${x + 6},${y + 5} L${x - 6},${y + 5} Z`, class: "target-mark" }));
    g.append(el("text", { x: x + 12, y: y + 4 }, tg.label));
    svg.append(g);
  }
  return svg;
}
