#!/usr/bin/python3
"""Checks the report files of tally report (--format html, xlsx, pdf)
against tally's own JSON, for tests/test_report_file.c.

    report_check.py agree TALLY PERIOD FIRST_YEAR HTML XLSX
        the HTML's district table, summary, trend points and unit matrix,
        and the workbook's district sheets, matrix and unit figures, equal
        `tally report --format json` (each year from FIRST_YEAR) and
        `tally explain CODE --format json`, which it runs with TALLY (the
        server and token come from the environment)
    report_check.py cell XLSX SHEET TEXT
        some cell of the workbook's sheet holds exactly TEXT
    report_check.py pdf PDF JSON
        the PDF's pages, as images (pdftoppm), are not blank, and its text
        (pdftotext) holds every indicator code of the report JSON

Prints each mismatch and exits 1 when there is one. Runs on Debian's
python3 with python3-openpyxl; the HTML is read with the standard
library's html.parser.
"""
import json
import subprocess
import sys
import tempfile
import os
from html.parser import HTMLParser

problems = []


def problem(text):
    problems.append(text)
    print("MISMATCH: " + text)


def tally(exe, *args):
    out = subprocess.run([exe, *args], check=True, capture_output=True)
    return json.loads(out.stdout)


def fixed(v, d, sign=False):
    if v is None:
        return ""
    return ("%+.*f" if sign else "%.*f") % (d, v)


class Page(HTMLParser):
    """The parts of the report page the checks read, by their data-*
    attributes: cells of the district table (data-code row, data-k cell),
    the summary's counts, each chart's points, the matrix's cells."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []          # (tag, attrs) open
        self.district = {}       # code -> {key: text}
        self.summary = {}        # plan ("" = all) -> {key: text}
        self.points = {}         # code -> [year]
        self.matrix = {}         # code -> {unit: (status, compared, text)}
        self.text = None         # where text goes now: a list, or None
        self.where = None

    def attr(self, name):
        for tag, attrs in reversed(self.stack):
            if name in attrs:
                return attrs[name]
        return None

    def inside(self, tag, cls):
        return any(t == tag and cls in (a.get("class") or "").split()
                   for t, a in self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("br", "col", "meta", "path", "rect", "line", "polyline"):
            return
        self.stack.append((tag, a))
        if tag == "circle" and "pt" in (a.get("class") or ""):
            self.points.setdefault(self.attr("data-code"), []).append(
                int(a["data-year"]))
        if tag == "td" and "data-k" in a:
            code = self.attr("data-code")
            if self.inside("table", "district"):
                self.where = ("district", code, a["data-k"])
            elif self.inside("table", "summary"):
                self.where = ("summary", self.attr("data-plan"), a["data-k"])
            self.text = []
        elif tag == "td" and self.inside("table", "matrix") and \
                "data-unit" in a and a["data-unit"]:
            self.where = ("matrix", self.attr("data-code"), a["data-unit"],
                          a.get("data-status"), a.get("data-compared"))
            self.text = []

    def handle_endtag(self, tag):
        if tag in ("br", "col", "meta", "path", "rect", "line", "polyline"):
            return
        if tag == "td" and self.where:
            text = " ".join("".join(self.text).split())
            w = self.where
            if w[0] == "district":
                self.district.setdefault(w[1], {})[w[2]] = text
            elif w[0] == "summary":
                self.summary.setdefault(w[1], {})[w[2]] = text
            else:
                self.matrix.setdefault(w[1], {})[w[2]] = (w[3], w[4], text)
            self.where = None
            self.text = None
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_data(self, data):
        if self.text is not None:
            self.text.append(data)


def check_html(path, report, years, explains):
    page = Page()
    with open(path, encoding="utf-8") as f:
        page.feed(f.read())
    rows = report["indicators"]
    if len(page.district) != len(rows):
        problem("html: %d rows in the district table, %d in the report"
                % (len(page.district), len(rows)))
    for w in rows:
        code = w["code"]
        got = page.district.get(code)
        if got is None:
            problem("html: no row of %s" % code)
            continue
        shown = w["shown"]
        want = {
            "value": shown["value"],
            "target": w["target"],
            "gap": shown["gap"],
        }
        for k, v in want.items():
            if got.get(k) != v:
                problem("html %s %s: %r, json %r" % (code, k, got.get(k), v))
        if not got.get("status", "").startswith(tally_status_zh(w)):
            problem("html %s status: %r, json %r" % (code, got.get("status"),
                                                    w["status_zh"]))
        if not got.get("change", "").startswith(shown["change"]):
            problem("html %s change: %r, json %r" % (code, got.get("change"),
                                                    shown["change"]))
        # The interval, to the indicator's decimals.
        d = w["decimals"]
        ci = ""
        if w["lower"] is not None and w["value"] is not None:
            ci = "%s–%s" % (fixed(w["lower"], d), fixed(w["upper"], d))
        if got.get("ci") != ci:
            problem("html %s ci: %r, json %r" % (code, got.get("ci"), ci))
        compared = {"better": "显著较好 better", "worse": "显著较差 worse",
                    "similar": "无显著差异 similar", None: ""}
        if got.get("compared") != compared[w["change_compared"]]:
            problem("html %s compared: %r, json %r" % (
                code, got.get("compared"), w["change_compared"]))
        # One point a year with a value.
        want_years = [y for y, r in years
                      if row_of(r, code) and row_of(r, code)["value"]
                      is not None]
        if page.points.get(code, []) != want_years:
            problem("html %s trend points: %r, json years %r" % (
                code, page.points.get(code, []), want_years))
        # The matrix: each unit's status and comparison, as explain says.
        cells = page.matrix.get(code, {})
        x = explains[code]
        for u in x["units"]:
            if u["unit"] == x["unit"]:
                continue
            cell = cells.get(u["unit"])
            if cell is None:
                problem("html matrix %s: no cell of %s" % (code, u["unit"]))
                continue
            status, cmp, text = cell
            figs = u["figures"]
            if w["kind"] in ("total", "cumulative"):
                if status != "":
                    problem("html matrix %s %s: a share judged %r" % (
                        code, u["unit"], status))
            else:
                if status != figs["status"]:
                    problem("html matrix %s %s: status %r, explain %r" % (
                        code, u["unit"], status, figs["status"]))
                if (cmp or None) != u["compared"]:
                    problem("html matrix %s %s: compared %r, explain %r" % (
                        code, u["unit"], cmp, u["compared"]))
            if not text.startswith(figs["shown"]["value"] or "—"):
                problem("html matrix %s %s: %r, explain %r" % (
                    code, u["unit"], text, figs["shown"]["value"]))
    # The summary's counts.
    total = page.summary.get("", {})
    for css, status in (("met", "met"), ("on-track", "on track"),
                        ("off-track", "off track"), ("not-met", "not met"),
                        ("not-judged", "not judged")):
        n = sum(1 for w in rows if w["status"] == status)
        if total.get(css) != str(n):
            problem("html summary %s: %r, json %d" % (status, total.get(css),
                                                      n))
    if total.get("total") != str(len(rows)):
        problem("html summary total: %r" % total.get("total"))


def tally_status_zh(w):
    return {"met": "✓ 达标", "on track": "○ 符合进度", "off track": "△ 进度滞后",
            "not met": "✗ 未达标", "not judged": "– 不作判断",
            "insufficient data": "? 数据不足"}.get(w["status"],
                                                w["status_zh"])


def row_of(report, code):
    for w in report["indicators"]:
        if w["code"] == code:
            return w
    return None


def near(a, b):
    return a is not None and b is not None and \
        abs(a - b) <= 1e-9 * max(1.0, abs(b))


def check_xlsx(path, report, explains):
    import openpyxl
    wb = openpyxl.load_workbook(path)
    sheets = wb.sheetnames
    plans = []
    for w in report["indicators"]:
        if w["plan"] not in plans:
            plans.append(w["plan"])
    for p in plans:
        if "全区指标-" + p not in sheets:
            problem("xlsx: no sheet for plan %s in %r" % (p, sheets))
    for name in ("概况", "各镇街矩阵", "各单位数据", "说明"):
        if name not in sheets:
            problem("xlsx: no sheet %s" % name)
    if problems:
        return
    # The district sheets: Chinese headers in row 3, data from row 5.
    rows = {}
    for p in plans:
        ws = wb["全区指标-" + p]
        head = [c.value for c in ws[3]]
        if head[:6] != ["分类", "代码", "指标", "指标（英文）", "计量单位",
                        "数值"]:
            problem("xlsx %s: headers %r" % (p, head[:6]))
        for r in ws.iter_rows(min_row=5):
            rows[r[1].value] = r
    for w in report["indicators"]:
        r = rows.get(w["code"])
        if r is None:
            problem("xlsx: no row of %s" % w["code"])
            continue
        d = w["decimals"]
        fmt = "0" if d == 0 else "0." + "0" * d
        cells = {"value": r[5], "lower": r[6], "upper": r[7], "gap": r[9],
                 "change": r[11]}
        if w["level"]:
            if r[5].value != w["level"]:
                problem("xlsx %s value: %r, json %r" % (w["code"], r[5].value,
                                                       w["level"]))
            del cells["value"]
        for k, c in cells.items():
            want = w[k]
            if want is None:
                if c.value is not None:
                    problem("xlsx %s %s: %r, json none" % (w["code"], k,
                                                          c.value))
                continue
            if not isinstance(c.value, (int, float)) or not near(c.value,
                                                                 want):
                problem("xlsx %s %s: %r, json %r" % (w["code"], k, c.value,
                                                    want))
            elif c.number_format != fmt:
                problem("xlsx %s %s: format %r, want %r" % (
                    w["code"], k, c.number_format, fmt))
        if r[8].value != (w["target"] or None):
            problem("xlsx %s target: %r, json %r" % (w["code"], r[8].value,
                                                    w["target"]))
        if not (r[10].value or "").split(" ")[1:2] == [w["status_zh"]]:
            problem("xlsx %s status: %r, json %r" % (w["code"], r[10].value,
                                                    w["status_zh"]))
    # The matrix: each unit's value; and every unit's figures.
    ws = wb["各镇街矩阵"]
    units = {}
    for i, c in enumerate(ws[4]):
        if c.value and c.value.endswith(" value") and i >= 4:
            units[c.value[:-len(" value")]] = i
    mrows = {r[0].value: r for r in ws.iter_rows(min_row=5)}
    fig = {}
    for r in wb["各单位数据"].iter_rows(min_row=5):
        fig[(r[2].value, r[0].value)] = r
    for w in report["indicators"]:
        x = explains[w["code"]]
        for u in x["units"]:
            figs = u["figures"]
            f = fig.get((w["code"], u["unit"]))
            if f is None:
                problem("xlsx unit figures: no %s of %s" % (w["code"],
                                                           u["unit"]))
            elif not figs["level"] and figs["value"] is not None and \
                    not near(f[6].value, figs["value"]):
                problem("xlsx unit figures %s %s: %r, explain %r" % (
                    w["code"], u["unit"], f[6].value, figs["value"]))
            if u["unit"] == x["unit"]:
                continue
            col = units.get(u["unit"])
            m = mrows.get(w["code"])
            if col is None or m is None:
                problem("xlsx matrix: no cell of %s %s" % (w["code"],
                                                          u["unit"]))
                continue
            v = m[col].value
            if figs["level"]:
                ok = v == figs["level"]
            elif figs["value"] is None:
                ok = v is None
            else:
                ok = near(v, figs["value"])
            if not ok:
                problem("xlsx matrix %s %s: %r, explain %r" % (
                    w["code"], u["unit"], v, figs["value"]))


def agree(exe, period, first, html, xlsx):
    report = tally(exe, "report", "--period", period, "--format", "json")
    years = []
    for y in range(int(first), int(period) + 1):
        years.append((y, tally(exe, "report", "--period", str(y),
                               "--format", "json")))
    explains = {}
    for w in report["indicators"]:
        explains[w["code"]] = tally(exe, "explain", w["code"], "--period",
                                    period, "--format", "json")
    check_html(html, report, years, explains)
    check_xlsx(xlsx, report, explains)


def pdf(path, report_json):
    with open(report_json, encoding="utf-8") as f:
        report = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", "30", "-gray", path,
                        os.path.join(tmp, "p")], check=True)
        pages = sorted(os.listdir(tmp))
        if not pages:
            problem("pdf: no pages")
        for name in pages:
            with open(os.path.join(tmp, name), "rb") as f:
                data = f.read()
            # P5: "P5\nW H\n255\n" then W*H bytes of grey.
            parts = data.split(b"\n", 3)
            w, h = (int(v) for v in parts[1].split())
            pixels = parts[3][:w * h]
            ink = sum(1 for b in pixels if b < 200)
            if ink < w * h // 500:
                problem("pdf: page %s is blank (%d dark pixels of %d)" % (
                    name, ink, w * h))
        text = subprocess.run(["pdftotext", "-layout", path, "-"],
                              check=True, capture_output=True).stdout.decode()
    words = set(text.split())
    for w in report["indicators"]:
        if w["code"] not in words:
            problem("pdf: no %s in its text" % w["code"])
    print("pdf: %d pages" % len(pages))


def cell(path, sheet, text):
    import openpyxl
    ws = openpyxl.load_workbook(path)[sheet]
    if not any(c.value == text for row in ws.iter_rows() for c in row):
        problem("xlsx %s: no cell holds %r" % (sheet, text))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "cell":
        cell(*sys.argv[2:])
    elif len(sys.argv) == 7 and sys.argv[1] == "agree":
        agree(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "pdf":
        pdf(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
    if problems:
        print("%d mismatches" % len(problems))
        sys.exit(1)
    print("agree")


if __name__ == "__main__":
    main()
