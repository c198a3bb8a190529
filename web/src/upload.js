// A figures file as the offices have it, read in the browser for the
// form: CSV as Excel and WPS save it (UTF-8 with or without a BOM, or
// GB18030/GBK on Chinese Windows), a data element named by its code or
// its Chinese name (CODE.GROUP or 名称.GROUP for an age group), a
// header row, "1,255" with a thousands separator, full-width digits,
// the empty columns Excel adds, # comments (a form's "#form,UNIT,PERIOD"
// is checked against the form it is read into), and explain:RULE,TEXT
// (说明:RULE) rows. The CSV itself is parsed by Papa Parse.
import Papa from "papaparse";

// The file's text and the encoding it was read in.
export function decode(bytes) {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return { text: new TextDecoder("utf-8").decode(bytes.subarray(3)), encoding: "UTF-8" };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) // Excel's "Unicode text"
    return { text: new TextDecoder("utf-16le").decode(bytes.subarray(2)), encoding: "UTF-16" };
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), encoding: "UTF-8" };
  } catch {
    return { text: new TextDecoder("gb18030").decode(bytes), encoding: "GB18030" };
  }
}

const HEADERS = new Set(["data_element", "element", "指标", "指标项", "指标名称", "数据项", "项目"]);
const EXPLAIN = /^(?:explain:|说明[:：])\s*(.+)$/i;

// A figure as typed in a spreadsheet: "1,255", "１２５５", " 3 ".
function number(text) {
  const s = text.normalize("NFKC").replace(/[,\s]/g, "");
  if (!/^\d+(\.\d+)?$/.test(s)) return NaN;
  return Number(s);
}

// Reads text for the form of unit and period with these elements (Map
// code → element) and cells (Set of codes, CODE.GROUP for age groups):
// {values: Map cell → number, explanations: Map rule → text, errors:
// [words.line(N, ...), ...]}. A file with any error fills nothing.
export function readFigures(text, { unit, period, elements, cells, words }) {
  const byName = new Map([...elements.values()].map((el) => [el.name_zh, el.code]));
  const codeOf = (k) => (elements.has(k) ? k : byName.get(k));
  const values = new Map(), explanations = new Map(), lineOf = new Map();
  const errors = [];
  const rows = Papa.parse(text, { delimiter: text.includes("\t") && !text.includes(",") ? "\t" : ",",
                                  skipEmptyLines: false }).data;
  let seenFigure = false;
  rows.forEach((raw, i) => {
    const line = i + 1;
    const fields = raw.map((f) => String(f).trim());
    while (fields.length && fields[fields.length - 1] === "") fields.pop(); // Excel's empty columns
    if (!fields.length) return;
    const bad = (what) => errors.push(words.line(line, what));
    if (fields[0].startsWith("#")) {
      if (fields[0] === "#form" && (fields[1] !== unit || fields[2] !== period))
        bad(words.otherForm(fields[1] || "", fields[2] || ""));
      return;
    }
    const [key, value = ""] = fields;
    const explained = EXPLAIN.exec(key);
    if (explained) {
      if (!value) bad(words.emptyExplanation);
      else explanations.set(explained[1].trim(), value);
      return;
    }
    if (fields.length > 2) return bad(words.columns(fields.length));
    let cell = cells.has(key) ? key : cells.has(codeOf(key)) ? codeOf(key) : null;
    const at = key.lastIndexOf(".");
    if (!cell && at > 0) { // an age group: CODE.GROUP, 名称.GROUP
      const inner = `${codeOf(key.slice(0, at))}.${key.slice(at + 1)}`;
      if (cells.has(inner)) cell = inner;
    }
    if (!cell) {
      if (!seenFigure && (HEADERS.has(key.toLowerCase()) || Number.isNaN(number(value)))) return; // a header
      return bad(words.unknown(key));
    }
    seenFigure = true;
    if (value === "") return; // not reported
    const x = number(value);
    if (Number.isNaN(x)) return bad(words.notNumber(value));
    if (lineOf.has(cell)) return bad(words.twice(key, lineOf.get(cell)));
    lineOf.set(cell, line);
    values.set(cell, x);
  });
  return errors.length ? { values: new Map(), explanations: new Map(), errors }
                       : { values, explanations, errors };
}
