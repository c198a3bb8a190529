// The catalog the server sends (CatalogRequest), and the form it makes
// for a unit: its data elements grouped by the plans' categories of the
// indicators that read them, age-grouped elements as tables.
export function loadCatalog(json) {
  const byCode = new Map();
  for (const el of json.data_elements) byCode.set(el.code, el);
  const units = new Map(json.units.map((u) => [u.code, u]));
  return { json, byCode, units };
}

// The elements an indicator reads.
function reads(ind) {
  return [ind.numerator, ind.denominator, ind.element, ind.weight, ind.deaths,
          ind.population, ind.births].filter(Boolean);
}

// The form's sections for a unit: [{zh, en, elements: [el, ...]}], in
// the order of the catalog's indicators; each element once, where it is
// first read; the rest at the end.
export function sections(cat, unitCode) {
  const root = !cat.units.get(unitCode)?.parent;
  const mine = (el) => (el.reported_by === "district") === root && el.type !== "status";
  const seen = new Set();
  const out = [];
  const byKey = new Map();
  for (const ind of cat.json.indicators) {
    const key = `${ind.plan}/${ind.category_zh || ""}`;
    for (const code of reads(ind)) {
      const el = cat.byCode.get(code);
      if (!el || seen.has(code) || !mine(el)) continue;
      seen.add(code);
      if (!byKey.has(key)) {
        const s = { zh: ind.category_zh || "其他", en: ind.category_en || "Other", elements: [] };
        byKey.set(key, s);
        out.push(s);
      }
      byKey.get(key).elements.push(el);
    }
  }
  const rest = cat.json.data_elements.filter((el) => !seen.has(el.code) && mine(el));
  if (rest.length) out.push({ zh: "其他", en: "Other", elements: rest });
  return out;
}

// The cells of an element: its code, or CODE.GROUP for each age group.
export function cellsOf(el) {
  return el.age_groups ? el.age_groups.map((g) => `${el.code}.${g}`) : [el.code];
}

// An indicator's plan, its group as the plan groups its indicators (a
// category of the five-year plan; a part and action of the health
// action, with the department that leads it) and its catalog entry.
export function placeOf(cat, code) {
  if (!cat.places) {
    cat.places = new Map();
    const plans = new Map(cat.json.plans.map((p) => [p.code, p]));
    for (const ind of cat.json.indicators) {
      const plan = plans.get(ind.plan);
      const action = ind.action ? (plan.actions || [])[ind.action - 1] : null;
      const group = action
        ? { key: `${plan.code}/a${action.number}`, zh: `${action.number}. ${action.name_zh}`, en: `${action.number}. ${action.name_en}`,
            part_zh: action.part_zh, part_en: action.part_en }
        : ind.category_zh
          ? { key: `${plan.code}/${ind.category_zh}`, zh: ind.category_zh, en: ind.category_en || ind.category_zh }
          : plan.actions
            ? { key: `${plan.code}/goals`, zh: "总体目标", en: "Overall goals" }
            : { key: `${plan.code}/other`, zh: "其他", en: "Other" };
      cat.places.set(ind.code, { ind, plan, group, action,
                                 lead_zh: action ? action.lead_zh : "", lead_en: action ? action.lead_en : "" });
    }
  }
  return cat.places.get(code) || { ind: { code }, plan: { code: "" }, group: { key: "?", zh: "其他", en: "Other" },
                                   action: null, lead_zh: "", lead_en: "" };
}

// The lead departments of a catalog's actions, each once.
export function leads(cat) {
  const seen = new Map();
  for (const p of cat.json.plans)
    for (const a of p.actions || []) seen.set(a.lead_zh, { zh: a.lead_zh, en: a.lead_en });
  return [...seen.values()];
}

