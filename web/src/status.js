// How the pages show a status against a target and a comparison
// beyond chance: a colour (the class), and a symbol and a word beside
// it, so that they read without colour too. The numbers are the wire's
// Status and Compare enums.
import { en } from "./i18n.js";

const STATUS = {
  1: { cls: "met", sym: "✓", zh: "达标", en: "met" },
  2: { cls: "not-met", sym: "✗", zh: "未达标", en: "not met" },
  3: { cls: "no-target", sym: "·", zh: "无目标", en: "no target" },
  4: { cls: "no-data", sym: "…", zh: "数据不足", en: "insufficient data" },
  5: { cls: "no-data", sym: "…", zh: "无法计算", en: "undefined" },
  6: { cls: "not-judged", sym: "?", zh: "不作判断", en: "not judged" },
  7: { cls: "no-data", sym: "…", zh: "人口过少", en: "population too small" },
  8: { cls: "on-track", sym: "↗", zh: "符合进度", en: "on track" },
  9: { cls: "off-track", sym: "↘", zh: "进度滞后", en: "off track" },
};
const UNKNOWN = { cls: "no-data", sym: "…", zh: "未知", en: "unknown" };

// The statuses a filter offers, in this order.
export const STATUSES = [1, 8, 9, 2, 6, 3, 4];

export function status(n) {
  const s = STATUS[n] || UNKNOWN;
  return { cls: `s-${s.cls}`, sym: s.sym, word: en() ? s.en : s.zh };
}

// A filter's statuses: insufficient data takes in undefined and too small.
export function statusGroup(n) {
  return n === 5 || n === 7 ? 4 : n;
}

const COMPARE = {
  1: { cls: "c-similar", sym: "≈", zh: "与全区相近", en: "similar", change: ["无显著变化", "no significant change"] },
  2: { cls: "c-better", sym: "▲", zh: "显著好于全区", en: "better", change: ["显著改善", "significantly better"] },
  3: { cls: "c-worse", sym: "▼", zh: "显著差于全区", en: "worse", change: ["显著变差", "significantly worse"] },
};

// A unit against its scope: {cls, sym, word}; none when not compared.
export function compared(n) {
  const c = COMPARE[n];
  return c ? { cls: c.cls, sym: c.sym, word: en() ? c.en : c.zh } : { cls: "c-none", sym: "", word: "" };
}

// A change on the year before against chance, in words.
export function changeCompared(n) {
  const c = COMPARE[n];
  return c ? { cls: c.cls, word: c.change[en() ? 1 : 0] } : { cls: "c-none", word: "" };
}

// A value shown with the indicator's decimals; "" when there is none.
export function shown(has, value, decimals) {
  return has ? Number(value).toFixed(decimals) : "";
}

// A signed change: "+0.12", "-1.50".
export function signed(has, value, decimals) {
  if (!has) return "";
  const s = Number(value).toFixed(decimals);
  return value >= 0 && !s.startsWith("-") ? `+${s}` : s;
}
