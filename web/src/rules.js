// The catalog's validation rules (审核公式), read from the catalog the
// server sends and checked as the clerk types: the same rules, in the
// same words, as the server applies (common/rule.c,
// docs/CATALOG.md#rules). A side is factor x (the sum of its elements)
// + constant; a rule is skipped while an element it reads is missing
// (or, with skip_if_all, only while all are, the missing counting 0).

// The cells a side's text names: "deaths" (every age group),
// "deaths.0", "deaths.0..65-69".
function cells(cat, text) {
  const [code, range] = splitCode(text);
  const el = cat.byCode.get(code);
  if (!el) throw new Error(`rule names an unknown element ${text}`);
  if (!el.age_groups) return [code];
  const groups = el.age_groups;
  if (range === null) return groups.map((g) => `${code}.${g}`);
  const [from, to] = range.includes("..") ? range.split("..") : [range, range];
  const a = groups.indexOf(from), b = groups.indexOf(to);
  if (a < 0 || b < a) throw new Error(`rule names unknown age groups ${text}`);
  return groups.slice(a, b + 1).map((g) => `${code}.${g}`);
}

function splitCode(text) {
  const dot = text.indexOf(".");
  return dot < 0 ? [text, null] : [text.slice(0, dot), text.slice(dot + 1)];
}

function side(cat, s) {
  if (typeof s === "number") return { cells: [], factor: 1, constant: s };
  if (typeof s === "string") return { cells: cells(cat, s), factor: 1, constant: 0 };
  return {
    cells: s.sum.flatMap((x) => cells(cat, x)),
    factor: s.factor ?? 1,
    constant: s.constant ?? 0,
  };
}

// Every rule of the catalog, and one per bounded ratio ("H27_bounded":
// its numerator at most its denominator, an error), as the server makes
// them.
export function loadRules(cat) {
  const rules = (cat.json.rules || []).map((r) => ({
    code: r.code,
    left: side(cat, r.left),
    right: side(cat, r.right),
    op: r.op,
    warning: r.severity === "warning",
    skipIfAll: r.missing === "skip_if_all",
    tolerance: r.tolerance || 0,
    tolerancePercent: r.tolerance_percent || 0,
    message_zh: r.message_zh,
    message_en: r.message_en,
  }));
  for (const ind of cat.json.indicators || []) {
    if (!ind.bounded) continue;
    const n = cat.byCode.get(ind.numerator), d = cat.byCode.get(ind.denominator);
    rules.push({
      code: `${ind.code}_bounded`,
      left: side(cat, ind.numerator),
      right: side(cat, ind.denominator),
      op: "<=",
      warning: false,
      skipIfAll: false,
      tolerance: 0,
      tolerancePercent: 0,
      message_zh: `${n.name_zh}不能多于${d.name_zh}（${ind.code}的分子和分母）`,
      message_en: `${n.name_en} cannot exceed ${d.name_en} (the numerator and denominator of ${ind.code})`,
    });
  }
  return rules;
}

function sum(s, values, count) {
  let total = 0;
  for (const c of s.cells) {
    if (values.has(c)) { total += values.get(c); count.present++; }
    else count.missing++;
  }
  return s.factor * total + s.constant;
}

// The rules values (a Map of cell code to number) break: [{rule, left,
// right}], skipped rules left out.
export function broken(rules, values) {
  const out = [];
  for (const r of rules) {
    const count = { present: 0, missing: 0 };
    const left = sum(r.left, values, count), right = sum(r.right, values, count);
    if (r.skipIfAll ? count.present === 0 : count.missing > 0) continue;
    let holds;
    switch (r.op) {
      case "<=": holds = left <= right; break;
      case "<": holds = left < right; break;
      case ">=": holds = left >= right; break;
      case ">": holds = left > right; break;
      case "=": {
        const by = Math.max(r.tolerance, Math.abs(right) * r.tolerancePercent / 100);
        holds = Math.abs(left - right) <= by;
        break;
      }
      default: holds = false;
    }
    if (!holds) out.push({ rule: r, left, right });
  }
  return out;
}
