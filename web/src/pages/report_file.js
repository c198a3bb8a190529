// The annual monitoring report as a file, from the district report
// page: the server makes it with tally report's own renderer (one
// ReportFileRequest: HTML or xlsx), and the page hands it on as a Blob:
// a download through <a download>, or, to print, the HTML opened in a
// new tab (a document made from a blob keeps the pages' CSP, which
// allows the report's one stylesheet by its hash) and the browser's
// print, whose "save as PDF" makes the PDF.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { pb } from "../net.js";

const FORMAT = pb.ReportFileRequest.Format;

// The file of period in format: {blob, name}, or throws the server's
// word.
async function fetchFile(app, period, format) {
  const env = await app.conn.request({ reportFile: { report: { period }, format } });
  if (env.error) throw new Error(env.error.message);
  const f = env.reportFileReply;
  return { blob: new Blob([f.content], { type: f.mediaType }), name: f.fileName, size: f.content.length };
}

// A link's URL is let go once the browser has had time to take it.
const later = (url) => setTimeout(() => URL.revokeObjectURL(url), 60000);

function download(file) {
  const url = URL.createObjectURL(file.blob);
  const a = h("a", { href: url, download: file.name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  later(url);
}

// Prints in tab (opened at the click, so that no pop-up blocker takes
// it): the report once it has loaded there.
function printIn(tab, file) {
  const url = URL.createObjectURL(file.blob);
  tab.location.href = url;
  const began = Date.now();
  const wait = setInterval(() => {
    let ready = false;
    try { ready = tab.location.href === url && tab.document.readyState === "complete"; } catch { ready = false; }
    if (ready || tab.closed || Date.now() - began > 30000) {
      clearInterval(wait);
      if (ready) { tab.document.title = file.name.replace(/\.html$/, ""); tab.focus(); tab.print(); }
    }
  }, 100);
  later(url);
}

// The buttons and what they say, for period's district report.
export function reportFileBar(app, period) {
  const said = h("span", { id: "report-file-said", role: "status" });
  const say = (text, cls) => { said.textContent = text; said.className = cls || ""; };
  const act = (format, then) => async () => {
    const tab = then === "print" ? window.open("", "_blank") : null;
    if (then === "print" && !tab) return say(t("popupBlocked"), "error");
    say(t("making"));
    try {
      const file = await fetchFile(app, period, format);
      say(t("made")(file.name, Math.ceil(file.size / 1024)));
      if (tab) printIn(tab, file);
      else download(file);
    } catch (e) {
      if (tab) tab.close();
      say(e.message, "error");
    }
  };
  return h("div", { class: "report-file", id: "report-file" },
    h("span", { class: "label" }, `${t("reportFile")}:`),
    h("button", { type: "button", id: "download-html", onclick: act(FORMAT.FORMAT_HTML) }, t("downloadHtml")),
    h("button", { type: "button", id: "download-xlsx", onclick: act(FORMAT.FORMAT_XLSX) }, t("downloadXlsx")),
    h("button", { type: "button", id: "print-pdf", onclick: act(FORMAT.FORMAT_HTML, "print") }, t("printPdf")),
    said,
    h("p", { class: "hint" }, t("pdfByBrowser")));
}
