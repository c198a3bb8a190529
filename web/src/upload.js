// A figures file as the offices have it, read in the browser for the
// form: CSV as Excel and WPS save it (UTF-8 with or without a BOM, or
// GB18030/GBK on Chinese Windows), a data element named by its code or
// its Chinese name (CODE.GROUP or 名称.GROUP for an age group), a
// header row, "1,255" with a thousands separator, full-width digits,
// the empty columns Excel adds, # comments (a form's "#form,UNIT,PERIOD"
// is checked against the form it is read into), and explain:RULE,TEXT
// (说明:RULE) rows. The CSV itself is parsed by Papa Parse. Or the
// xlsx form tally form --format xlsx writes (web/src/xlsx.js reads the
// sheet): the unit and period it names, its code and value columns
// found by their header, explain:RULE rows.
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
export function readFigures(text, opts) {
  const rows = Papa.parse(text, { delimiter: text.includes("\t") && !text.includes(",") ? "\t" : ",",
                                  skipEmptyLines: false }).data;
  return readRows(rows.map((fields, i) => ({ line: i + 1, fields })), opts);
}

// The element and value columns' headers, by their first word (as
// client/figfile.c finds them in a sheet).
const ELEMENT_HEADS = new Set(["data_element", "element", "code", "数据元素", "数据项", "指标", "项目", "代码"]);
const VALUE_HEADS = new Set(["value", "数值", "值", "数据"]);
const UNIT_LABELS = new Set(["unit", "单位", "填报单位"]);
const PERIOD_LABELS = new Set(["period", "期间", "报告期"]);
const firstWord = (s) => s.trim().split(/[ (]/)[0].toLowerCase();

// Reads a sheet ([{row, cells: [{col, text}]}], from readXlsx) for the
// form, as readFigures reads a CSV: the rows above its header name the
// form's unit and period; below it, each row's element and value.
export function readSheet(sheet, opts) {
  let header = -1, ecol = 0, vcol = 1;
  for (let i = 0; i < sheet.length && i < 64 && header < 0; i++) {
    const e = sheet[i].cells.find((c) => ELEMENT_HEADS.has(firstWord(c.text)));
    const v = sheet[i].cells.find((c) => VALUE_HEADS.has(firstWord(c.text)));
    if (e && v) [header, ecol, vcol] = [i, e.col, v.col];
  }
  const at = (row, col) => (row.cells.find((c) => c.col === col) || { text: "" }).text;
  const rows = [];
  let unit = "", period = "", line = 0;
  sheet.forEach((row, i) => {
    if (i <= header) { // labels: whose form, for which period
      const label = row.cells[0];
      const what = label ? at(row, label.col + 1).trim() : "";
      if (label && UNIT_LABELS.has(firstWord(label.text)) && what) [unit, line] = [what, line || row.row];
      if (label && PERIOD_LABELS.has(firstWord(label.text)) && what) [period, line] = [what, line || row.row];
      return;
    }
    rows.push({ line: row.row, fields: [at(row, ecol), at(row, vcol)] });
  });
  if (unit && period) rows.unshift({ line, fields: ["#form", unit, period] });
  return readRows(rows, opts);
}

// Rows of fields ({line, fields}) for the form.
function readRows(rows, { unit, period, elements, cells, words }) {
  const byName = new Map([...elements.values()].map((el) => [el.name_zh, el.code]));
  const codeOf = (k) => (elements.has(k) ? k : byName.get(k));
  const values = new Map(), explanations = new Map(), lineOf = new Map();
  const errors = [];
  let seenFigure = false;
  rows.forEach(({ line, fields: raw }) => {
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
