// The first sheet of an .xlsx workbook, read in the browser as
// client/xlsx.c reads it in C: the zip by fflate, each XML part by the
// browser's DOMParser; shared strings (their runs joined, phonetic runs
// left out), inline strings, numbers and booleans. A formula's cell
// gives its last value. Returns [{row: N, cells: [{col, text}]}] in
// the sheet's order; throws XlsxError with a message in the words given.
import { unzipSync, strFromU8 } from "fflate";

const REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const MAX_PART = 32 << 20; // an unpacked part larger than this is refused (a zip bomb)

export class XlsxError extends Error {}

// Whether bytes begin as a zip archive (an .xlsx file) does.
export function looksLikeXlsx(bytes) {
  return bytes.length > 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4;
}

const local = (el) => el.localName;
const all = (node, name) => [...node.getElementsByTagNameNS("*", name)];

// "worksheets/sheet1.xml" from "xl/workbook.xml" → "xl/worksheets/sheet1.xml".
function resolve(base, target) {
  if (target.startsWith("/")) return target.slice(1);
  const parts = base.split("/").slice(0, -1);
  for (const p of target.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== "." && p !== "") parts.push(p);
  }
  return parts.join("/");
}

// "AB12" → {row: 12, col: 27}; null when it is not a cell.
function ref(text) {
  const m = /^([A-Z]{1,3})([0-9]{1,7})$/.exec(text || "");
  if (!m) return null;
  let col = 0;
  for (const c of m[1]) col = col * 26 + c.charCodeAt(0) - 64;
  return { row: Number(m[2]), col: col - 1 };
}

// The text of an <si> or <is>: its <t>s, those of phonetic runs left out.
function textOf(node) {
  return all(node, "t").filter((t) => !t.parentNode || local(t.parentNode) !== "rPh")
    .map((t) => t.textContent).join("");
}

export function readXlsx(bytes, words) {
  let files;
  try {
    files = unzipSync(bytes, {
      filter: (f) => {
        if (f.originalSize > MAX_PART) throw new XlsxError(words.tooLarge(f.name));
        return /\.(xml|rels)$/.test(f.name);
      },
    });
  } catch (e) {
    if (e instanceof XlsxError) throw e;
    throw new XlsxError(words.notZip);
  }
  const xml = (path) => {
    const f = files[path];
    if (!f) return null;
    const doc = new DOMParser().parseFromString(strFromU8(f), "application/xml");
    if (doc.getElementsByTagName("parsererror").length) throw new XlsxError(words.badPart(path));
    return doc;
  };
  // The main part, through the package's relationships.
  const rels = (path) => {
    const at = path.lastIndexOf("/");
    return xml(`${path.slice(0, at + 1)}_rels/${path.slice(at + 1)}.rels`);
  };
  const root = xml("_rels/.rels");
  const main = root && all(root, "Relationship").find((r) => /\/officeDocument$/.test(r.getAttribute("Type")));
  const workbookPath = main ? resolve("", main.getAttribute("Target")) : "xl/workbook.xml";
  const workbook = xml(workbookPath);
  if (!workbook) throw new XlsxError(words.notWorkbook);
  const sheet = all(workbook, "sheet")[0];
  if (!sheet) throw new XlsxError(words.noSheet);
  const id = sheet.getAttributeNS(REL, "id");
  const wbRels = rels(workbookPath);
  const rel = wbRels && all(wbRels, "Relationship").find((r) => r.getAttribute("Id") === id);
  if (!rel) throw new XlsxError(words.noSheet);
  const sheetPath = resolve(workbookPath, rel.getAttribute("Target"));
  const strRel = wbRels && all(wbRels, "Relationship").find((r) => /\/sharedStrings$/.test(r.getAttribute("Type")));
  const strings = [];
  const sst = strRel && xml(resolve(workbookPath, strRel.getAttribute("Target")));
  if (sst) for (const si of all(sst, "si")) strings.push(textOf(si));
  const doc = xml(sheetPath);
  if (!doc) throw new XlsxError(words.noSheet);

  const rows = [];
  let last = 0;
  for (const r of all(doc, "row")) {
    const number = r.hasAttribute("r") ? Number(r.getAttribute("r")) : last + 1;
    if (!Number.isInteger(number) || number < 1) throw new XlsxError(words.badRow(last));
    last = number;
    const cells = [];
    let next = 0;
    for (const c of all(r, "c")) {
      const at = c.hasAttribute("r") ? ref(c.getAttribute("r")) : { row: number, col: next };
      if (!at) throw new XlsxError(words.badCell(number, c.getAttribute("r")));
      next = at.col + 1;
      const type = c.getAttribute("t") || "n";
      const v = all(c, "v")[0];
      const raw = v ? v.textContent : "";
      let text;
      if (type === "s") {
        const i = Number(raw);
        if (raw === "" || !Number.isInteger(i) || i < 0 || i >= strings.length)
          throw new XlsxError(words.badString(c.getAttribute("r") || "", raw));
        text = strings[i];
      } else if (type === "inlineStr") {
        const is = all(c, "is")[0];
        text = is ? textOf(is) : "";
      } else if (type === "b") {
        text = raw === "1" ? "TRUE" : "FALSE";
      } else {
        text = raw; // a number, a formula's text, an error, a date
      }
      if (text !== "") cells.push({ col: at.col, text });
    }
    if (cells.length) rows.push({ row: number, cells });
  }
  return rows;
}
