/* report_html.c: the annual monitoring report as one HTML file. Five
 * sections, each on a new page when printed: the summary (how many
 * indicators have each status, and which need attention), the district
 * table by plan and category, a trend chart for each indicator (SVG
 * drawn here), the unit x indicator matrix and the notes. Everything
 * the server sends as text goes through esc(); the numbers are ours. */
#include "report_html.h"


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* s with &, <, >, " and ' as entities: safe in text and in attributes. */
static void esc(FILE *f, const char *s) {
  for (; s && *s; s++)
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&#39;", f); break;
    default: fputc(*s, f);
    }
}

/* <tag class="cls">text</tag>, text escaped. */
static void cell(FILE *f, const char *tag, const char *cls, const char *text) {
  fprintf(f, "<%s", tag);
  if (cls && *cls)
    fprintf(f, " class=\"%s\"", cls);
  fputc('>', f);
  esc(f, text);
  fprintf(f, "</%s>", tag);
}

/* A table cell the tests find by its key: <td data-k="key">. */
static void keyed(FILE *f, const char *key, const char *cls,
                  const char *text) {
  fprintf(f, "<td data-k=\"%s\"%s%s%s>", key, cls ? " class=\"" : "",
          cls ? cls : "", cls ? "\"" : "");
  esc(f, text);
  fputs("</td>", f);
}

/* An indicator's unit of measure, Chinese first where the catalog has it. */
static void unit_text(FILE *f, const Tally__ReportRow *w) {
  if (*w->unit_zh && strcmp(w->unit_zh, w->unit) != 0) {
    esc(f, w->unit_zh);
    fputs(" <span class=\"en\">", f);
    esc(f, w->unit);
    fputs("</span>", f);
  } else {
    esc(f, w->unit);
  }
}

/* A status as symbol and words: it reads without its colour. */
static void status_span(FILE *f, Tally__Status s) {
  const tally_status_words *w = tally_report_status(s);
  fprintf(f, "<span class=\"st %s\"><span class=\"sym\" aria-hidden=\"true\">"
          "%s</span> %s <span class=\"en\">%s</span></span>",
          w->css, w->symbol, w->zh, w->en);
}

/* The stylesheet, all of the <style> element (the web pages' CSP allows
 * it by its hash, so that the page can print the file). */
static const char style[] =
    "\n:root{--met:#d7f0d2;--on:#e3f0fb;--off:#ffe9c7;--not:#f9d3d0;"
    "--nj:#ecebf3;--nd:#eeeeee;--ink:#1d1d1f;--muted:#5f6368}\n"
    "*{box-sizing:border-box}\n"
    "body{font-family:\"Noto Sans CJK SC\",\"Source Han Sans SC\","
    "\"WenQuanYi Micro Hei\",\"Microsoft YaHei\",\"PingFang SC\","
    "\"Hiragino Sans GB\",\"DejaVu Sans\",sans-serif;color:var(--ink);"
    "margin:0 auto;max-width:1180px;padding:24px;line-height:1.45;"
    "font-size:14px}\n"
    "h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:28px 0 8px;"
    "border-bottom:2px solid #333;padding-bottom:4px}"
    "h3{font-size:16px;margin:18px 0 6px}h4{font-size:14px;margin:12px 0 4px}\n"
    ".en{color:var(--muted);font-weight:normal}\n"
    "p.en,div.en{margin-top:0}\n"
    ".meta{color:var(--muted);font-size:13px}\n"
    "nav ol{columns:2;margin:8px 0}\n"
    "table{border-collapse:collapse;width:100%;margin:6px 0 14px;"
    "font-size:12.5px}\n"
    "th,td{border:1px solid #c8c8c8;padding:3px 5px;vertical-align:top;"
    "text-align:left}\n"
    "th{background:#f1f3f4;font-weight:600}\n"
    "th .en{display:block;font-size:11px}th .st .en{display:inline}\n"
    "table.district{table-layout:fixed}\n"
    "table.district td:nth-child(2) .en{font-size:11px}\n"
    "td.num{text-align:right;white-space:nowrap;font-variant-numeric:"
    "tabular-nums}\n"
    "td.code{white-space:nowrap;font-weight:600}\n"
    ".st{white-space:nowrap;padding:0 3px;border-radius:3px}\n"
    ".st .en{font-size:11px}\n"
    ".met{background:var(--met)}.on-track{background:var(--on)}"
    ".off-track{background:var(--off)}.not-met{background:var(--not)}"
    ".not-judged{background:var(--nj)}.no-data,.none{background:var(--nd)}\n"
    ".sym{font-weight:700}\n"
    ".summary td.num{font-size:15px;font-weight:600}\n"
    ".charts{display:grid;grid-template-columns:repeat(3,1fr);gap:10px}\n"
    "figure{margin:0;border:1px solid #ddd;padding:6px;border-radius:4px}\n"
    "figure svg{width:100%;height:auto;display:block}\n"
    "figcaption{font-size:12px}\n"
    "figcaption .vals{color:var(--muted);font-size:11px;display:block}\n"
    ".matrix td{font-size:11.5px;text-align:right;white-space:nowrap}\n"
    ".matrix td.ind{text-align:left;white-space:normal}\n"
    ".matrix .mark{font-weight:700;margin-left:2px}\n"
    ".legend span{margin-right:10px;white-space:nowrap}\n"
    "ul.notes li{margin-bottom:3px}\n"
    "@page{size:A4;margin:15mm 12mm 16mm 12mm;"
    "@bottom-center{content:counter(page) \" / \" counter(pages);"
    "font-size:9pt;color:#666}}\n"
    "@page wide{size:A4 landscape;margin:12mm 10mm 14mm 10mm}\n"
    "@media print{body{max-width:none;padding:0;font-size:9.5pt}"
    "h1{font-size:20pt}h2{font-size:14pt}h3{font-size:11.5pt}"
    "section{break-before:page}section.first{break-before:auto}"
    "h2,h3,h4{break-after:avoid}"
    "tr,figure{break-inside:avoid}thead{display:table-header-group}"
    "table{font-size:8.5pt}.matrix td{font-size:7.5pt}"
    "section.wide{page:wide}"
    ".charts{grid-template-columns:repeat(3,1fr);gap:6px}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "nav{display:none}}\n"
    /* The district table's columns. */
    "col.w5{width:5%}col.w6{width:6%}col.w9{width:9%}col.w10{width:10%}"
    "col.w11{width:11%}col.w24{width:24%}\n";

const char *tally_report_html_stylesheet(void) { return style; }

/* The heading row of a table: each column in Chinese, then English. */
static void head_row(FILE *f, const char *const *zh, const char *const *en,
                     size_t n) {
  fputs("<thead><tr>", f);
  for (size_t i = 0; i < n; i++) {
    fputs("<th>", f);
    esc(f, zh[i]);
    fputs("<span class=\"en\">", f);
    esc(f, en[i]);
    fputs("</span></th>", f);
  }
  fputs("</tr></thead>\n", f);
}

static void cover(FILE *f, const tally_report_doc *d) {
  const Tally__ReportReply *r = d->report;
  char when[32];
  tally_report_time(when, sizeof when, d->made_unix);
  fputs("<header>\n<h1>", f);
  esc(f, r->unit_name_zh);
  fputs(" ", f);
  esc(f, r->period);
  fputs(" 年度主要指标监测评估报告</h1>\n<p class=\"en\">", f);
  esc(f, r->unit_name_en);
  fputs(": annual monitoring report of the main indicators, ", f);
  esc(f, r->period);
  fprintf(f, "</p>\n<p class=\"meta\">生成于 made %s UTC · ", when);
  if (r->as_approved) {
    fprintf(f, "按审核通过的数据 from the figures as approved (%u/%u 个单位 "
            "units)", r->units_approved, r->units_reporting);
    if (r->at_unix) {
      tally_report_time(when, sizeof when, r->at_unix);
      fprintf(f, "，截至 as at %s UTC", when);
    }
  } else {
    fprintf(f, "实时数据 live figures；已审核 approved %u/%u 个单位 units",
            r->units_approved, r->units_reporting);
  }
  if (r->lock) {
    snprintf(when, sizeof when, "(unknown)"); /* 0: an unreadable record */
    if (r->lock->locked_unix)
      tally_report_time(when, sizeof when, r->lock->locked_unix);
    fprintf(f, " · 本期已锁定 period locked on %s UTC by ", when);
    esc(f, r->lock->account_name);
    if (*r->lock->text) {
      fputs(": ", f);
      esc(f, r->lock->text);
    }
  }
  fputs("</p>\n</header>\n<nav><ol>"
        "<li><a href=\"#summary\">概况 Summary</a></li>"
        "<li><a href=\"#district\">全区指标 District indicators</a></li>"
        "<li><a href=\"#trends\">历年趋势 Trends</a></li>"
        "<li><a href=\"#matrix\">各镇街 Units</a></li>"
        "<li><a href=\"#notes\">说明 Notes</a></li></ol></nav>\n",
        f);
}

/* How many rows of plan (NULL: all) have status s. */
static size_t count(const Tally__ReportReply *r, const char *plan,
                    Tally__Status s) {
  size_t n = 0;
  for (size_t i = 0; i < r->n_rows; i++)
    if ((!plan || strcmp(r->rows[i]->plan, plan) == 0) &&
        r->rows[i]->status == s)
      n++;
  return n;
}

/* Whether the statuses shown in the summary include s: the six always,
 * the rest when some indicator has it. */
static int summary_shows(const Tally__ReportReply *r, Tally__Status s) {
  return s == TALLY__STATUS__STATUS_MET ||
         s == TALLY__STATUS__STATUS_ON_TRACK ||
         s == TALLY__STATUS__STATUS_OFF_TRACK ||
         s == TALLY__STATUS__STATUS_NOT_MET ||
         s == TALLY__STATUS__STATUS_NOT_JUDGED ||
         s == TALLY__STATUS__STATUS_INSUFFICIENT_DATA || count(r, NULL, s);
}

/* The plans of r, in the order of their first rows. */
static size_t plans_of(const Tally__ReportReply *r, const char **out,
                       size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < r->n_rows; i++) {
    size_t k = 0;
    while (k < n && strcmp(out[k], r->rows[i]->plan) != 0)
      k++;
    if (k == n && n < max)
      out[n++] = r->rows[i]->plan;
  }
  return n;
}

#define PLANS_MAX 16

/* The indicators of one status, as "H06 每千人口…; H12 …". */
static void attention(FILE *f, const Tally__ReportReply *r, Tally__Status s) {
  const tally_status_words *w = tally_report_status(s);
  size_t n = count(r, NULL, s);
  if (n == 0)
    return;
  fprintf(f, "<li><span class=\"st %s\"><span class=\"sym\">%s</span> %s "
          "<span class=\"en\">%s</span></span> (%zu)：", w->css, w->symbol,
          w->zh, w->en, n);
  int first = 1;
  for (size_t i = 0; i < r->n_rows; i++) {
    if (r->rows[i]->status != s)
      continue;
    fputs(first ? "" : "；", f);
    fprintf(f, "<a href=\"#t-");
    esc(f, r->rows[i]->code);
    fputs("\">", f);
    esc(f, r->rows[i]->code);
    fputs("</a> ", f);
    esc(f, r->rows[i]->name_zh);
    first = 0;
  }
  fputs("</li>\n", f);
}

static void summary(FILE *f, const tally_report_doc *d) {
  const Tally__ReportReply *r = d->report;
  const char *plans[PLANS_MAX];
  size_t np = plans_of(r, plans, PLANS_MAX);
  fputs("<section id=\"summary\" class=\"first\">\n<h2>一、概况 "
        "<span class=\"en\">Summary</span></h2>\n", f);
  fprintf(f, "<p>共 %zu 项指标 <span class=\"en\">%zu indicators</span>；"
          "报送单位 %u 个 <span class=\"en\">reporting units</span>"
          "（全部报送 %u、部分报送 %u、未报送 %u；已审核 %u <span "
          "class=\"en\">complete, partial, none; approved</span>）。</p>\n",
          r->n_rows, r->n_rows, r->units_reporting,
          d->completeness->complete, d->completeness->partial,
          d->completeness->none, d->completeness->approved);
  fputs("<table class=\"summary\" id=\"summary-table\"><thead><tr>"
        "<th>规划 <span class=\"en\">plan</span></th>", f);
  for (size_t k = 0; k < tally_report_summary_n; k++) {
    Tally__Status s = tally_report_summary_order[k];
    if (!summary_shows(r, s))
      continue;
    fputs("<th>", f);
    status_span(f, s);
    fputs("</th>", f);
  }
  fputs("<th>合计 <span class=\"en\">total</span></th></tr></thead>\n<tbody>",
        f);
  for (size_t p = 0; p <= np; p++) {
    const char *plan = p < np ? plans[p] : NULL;
    size_t total = 0;
    fprintf(f, "<tr data-plan=\"");
    esc(f, plan ? plan : "");
    fputs("\"><td>", f);
    if (plan) {
      esc(f, tally_report_doc_plan_zh(d, plan));
      fputs(" <span class=\"en\">", f);
      esc(f, tally_report_doc_plan_en(d, plan));
      fputs("</span>", f);
    } else {
      fputs("<b>合计</b> <span class=\"en\">all plans</span>", f);
    }
    fputs("</td>", f);
    for (size_t k = 0; k < tally_report_summary_n; k++) {
      Tally__Status s = tally_report_summary_order[k];
      if (!summary_shows(r, s))
        continue;
      size_t n = count(r, plan, s);
      total += n;
      fprintf(f, "<td class=\"num\" data-k=\"%s\">%zu</td>",
              tally_report_status(s)->css, n);
    }
    fprintf(f, "<td class=\"num\" data-k=\"total\">%zu</td></tr>\n", total);
  }
  fputs("</tbody></table>\n<h3>需关注的指标 <span class=\"en\">Indicators "
        "that need attention</span></h3>\n<ul class=\"notes\">\n", f);
  attention(f, r, TALLY__STATUS__STATUS_NOT_MET);
  attention(f, r, TALLY__STATUS__STATUS_OFF_TRACK);
  attention(f, r, TALLY__STATUS__STATUS_INSUFFICIENT_DATA);
  attention(f, r, TALLY__STATUS__STATUS_UNDEFINED);
  attention(f, r, TALLY__STATUS__STATUS_POPULATION_TOO_SMALL);
  if (count(r, NULL, TALLY__STATUS__STATUS_NOT_MET) +
          count(r, NULL, TALLY__STATUS__STATUS_OFF_TRACK) +
          count(r, NULL, TALLY__STATUS__STATUS_INSUFFICIENT_DATA) +
          count(r, NULL, TALLY__STATUS__STATUS_UNDEFINED) +
          count(r, NULL, TALLY__STATUS__STATUS_POPULATION_TOO_SMALL) ==
      0)
    fputs("<li>无 <span class=\"en\">none</span></li>\n", f);
  fputs("</ul>\n<p class=\"legend\">", f);
  for (size_t k = 0; k < tally_report_summary_n; k++) {
    Tally__Status s = tally_report_summary_order[k];
    if (summary_shows(r, s))
      status_span(f, s);
    fputs(" ", f);
  }
  fputs("</p>\n<p class=\"meta\">达标、未达标：目标年份当年 "
        "<span class=\"en\">met, not met: in the target's year</span>；"
        "符合进度、进度滞后：目标年份之前，对照从基线到目标的路径 "
        "<span class=\"en\">on track, off track: before it, against the path "
        "from the baseline to the target</span>；不作判断：文字目标或待上级下达的目标 "
        "<span class=\"en\">not judged: a target in words, or one the city has "
        "not assigned yet</span>。</p>\n</section>\n", f);
}

/* The 95 % interval as "lo–hi", "" without one. */
static void interval(char *buf, size_t n, const Tally__ReportRow *w) {
  if (w->has_interval && w->has_value)
    snprintf(buf, n, "%.*f–%.*f", (int)w->decimals, w->lower,
             (int)w->decimals, w->upper);
  else
    buf[0] = 0;
}

static void district_row(FILE *f, const Tally__ReportRow *w) {
  char value[128], ci[96], gap[64], change[96];
  int d = (int)w->decimals;
  tally_report_value_text(value, sizeof value, w);
  interval(ci, sizeof ci, w);
  tally_report_fixed(gap, sizeof gap, w->has_gap, w->gap, d, 1);
  tally_report_fixed(change, sizeof change, w->has_change, w->change, d, 1);
  fputs("<tr data-code=\"", f);
  esc(f, w->code);
  fputs("\">", f);
  keyed(f, "code", "code", w->code);
  fputs("<td data-k=\"name\">", f);
  esc(f, w->name_zh);
  fputs("<br><span class=\"en\">", f);
  esc(f, w->name_en);
  fputs("</span></td>", f);
  fputs("<td data-k=\"unit\">", f);
  unit_text(f, w);
  fputs("</td>", f);
  keyed(f, "value", "num", value);
  keyed(f, "ci", "num", ci);
  keyed(f, "target", NULL, w->target);
  keyed(f, "gap", "num", gap);
  fputs("<td data-k=\"status\">", f);
  status_span(f, w->status);
  fputs("</td>", f);
  fputs("<td data-k=\"change\" class=\"num\">", f);
  esc(f, change);
  if (w->has_change && w->units_change < w->units_counted)
    fprintf(f, " <span class=\"en\" title=\"两期均报送的单位数 units in both "
            "periods\">(%u)</span>", w->units_change);
  fputs("</td>", f);
  fputs("<td data-k=\"compared\">", f);
  esc(f, tally_report_compare_zh(w->change_compared));
  fputs(" <span class=\"en\">", f);
  esc(f, tally_report_compare_en(w->change_compared));
  fprintf(f, "</span></td><td class=\"num\" data-k=\"units\">%u/%u</td>"
          "</tr>\n", w->units_counted, w->units_expected);
}

static void district(FILE *f, const tally_report_doc *d) {
  static const char *const zh[] = {"代码", "指标", "单位", "数值",
                                   "95%置信区间", "目标", "差距", "状态",
                                   "较上年", "变化是否显著", "报送单位"};
  static const char *const en[] = {"code", "indicator", "unit", "value",
                                   "95% CI", "target", "gap", "status",
                                   "change", "beyond chance?", "units"};
  const Tally__ReportReply *r = d->report;
  fputs("<section id=\"district\" class=\"wide\">\n<h2>二、全区指标 <span class=\"en\">"
        "District indicators</span></h2>\n", f);
  const char *plan = NULL;
  for (size_t i = 0; i < r->n_rows;) {
    const Tally__ReportRow *head = r->rows[i];
    size_t j = i;
    while (j < r->n_rows && strcmp(r->rows[j]->plan, head->plan) == 0 &&
           strcmp(r->rows[j]->category_zh, head->category_zh) == 0)
      j++;
    if (!plan || strcmp(plan, head->plan) != 0) {
      plan = head->plan;
      fputs("<h3>", f);
      esc(f, tally_report_doc_plan_zh(d, plan));
      fputs(" <span class=\"en\">", f);
      esc(f, tally_report_doc_plan_en(d, plan));
      fputs("</span></h3>\n", f);
    }
    if (*head->category_zh || *head->category_en) {
      fputs("<h4>", f);
      esc(f, head->category_zh);
      fputs(" <span class=\"en\">", f);
      esc(f, head->category_en);
      fputs("</span></h4>\n", f);
    }
    fputs("<table class=\"district\"><colgroup><col class=\"w5\">"
          "<col class=\"w24\"><col class=\"w9\"><col class=\"w9\">"
          "<col class=\"w9\"><col class=\"w11\"><col class=\"w6\">"
          "<col class=\"w10\"><col class=\"w6\"><col class=\"w6\">"
          "<col class=\"w5\"></colgroup>", f);
    head_row(f, zh, en, sizeof zh / sizeof zh[0]);
    fputs("<tbody>\n", f);
    for (size_t k = i; k < j; k++)
      district_row(f, r->rows[k]);
    fputs("</tbody></table>\n", f);
    i = j;
  }
  fputs("<p class=\"meta\">数值由各单位原始数据求和计算，不取各单位比率的平均"
        " <span class=\"en\">values are computed from the sums of the units' "
        "figures, never from an average of their rates</span>。"
        "95%置信区间：百分比用 Wilson 法，率用 Byar 法或精确泊松法，预期寿命用 "
        "Chiang 法 <span class=\"en\">95% CI: Wilson for a percentage, Byar "
        "or exact Poisson for a rate, Chiang for a life table</span>。"
        "较上年：对两期均报送的单位计算（较少时括号内为单位数）；“显著较好/较差”"
        "表示变化超出随机波动 <span class=\"en\">change: over the units in "
        "both periods (how many, in brackets, when fewer); better or worse: "
        "more than chance explains</span>。</p>\n</section>\n", f);
}

/* A trend chart's frame: the plot inside a 300 x 150 view. */
#define CW 300.0
#define CH 150.0
#define ML 46.0
#define MR 10.0
#define MT 10.0
#define MB 24.0

typedef struct {
  int x0, x1;        /* years */
  double y0, y1;     /* values */
} frame;

static double fx(const frame *fr, double year) {
  return ML + (year - fr->x0) / (fr->x1 > fr->x0 ? fr->x1 - fr->x0 : 1) *
                  (CW - ML - MR);
}

static double fy(const frame *fr, double v) {
  return CH - MB - (v - fr->y0) / (fr->y1 - fr->y0) * (CH - MT - MB);
}

static void widen(frame *fr, int *any, double v) {
  if (!isfinite(v))
    return;
  if (!*any) {
    fr->y0 = fr->y1 = v;
    *any = 1;
  }
  fr->y0 = fmin(fr->y0, v);
  fr->y1 = fmax(fr->y1, v);
}

/* The value on the path to the target in year t. */
static double path_at(const Tally__ReportRow *w, double t) {
  double t0 = w->path_from_year, t1 = w->target_fields->year;
  double a = w->path_from, b = w->target_fields->value;
  double s = t1 > t0 ? (t - t0) / (t1 - t0) : 1;
  if (w->path_rate && a > 0 && b > 0)
    return a * pow(b / a, s);
  return a + (b - a) * s;
}

/* Whether the row's target is a number the chart can draw. */
static int target_drawn(const Tally__ReportRow *w) {
  const Tally__TargetFields *t = w->target_fields;
  return t && t->has_value && strncmp(t->comparator, "change", 6) != 0;
}

static void chart(FILE *f, const tally_report_doc *d, const Tally__ReportRow *w) {
  frame fr = {d->year_of[0], d->year_of[d->n_years - 1], 0, 0};
  int any = 0, dec = (int)w->decimals;
  int target = target_drawn(w);
  int path = target && w->has_path;
  if (target && w->target_fields->year > fr.x1 &&
      w->target_fields->year - fr.x0 <= 40)
    fr.x1 = w->target_fields->year;
  if (path && w->path_from_year < fr.x0 && fr.x1 - w->path_from_year <= 40)
    fr.x0 = w->path_from_year;
  for (size_t y = 0; y < d->n_years; y++) {
    const Tally__ReportRow *v = tally_report_doc_row(d, y, w->code);
    if (v && v->has_value) {
      widen(&fr, &any, v->value);
      if (v->has_interval) {
        widen(&fr, &any, v->lower);
        widen(&fr, &any, v->upper);
      }
    }
  }
  if (target)
    widen(&fr, &any, w->target_fields->value);
  if (path)
    widen(&fr, &any, w->path_from);
  if (!any)
    fr.y0 = 0, fr.y1 = 1;
  double pad = (fr.y1 - fr.y0) * 0.08;
  if (pad == 0)
    pad = fabs(fr.y1) > 0 ? fabs(fr.y1) * 0.1 : 1;
  fr.y0 -= pad;
  fr.y1 += pad;

  fputs("<figure data-code=\"", f);
  esc(f, w->code);
  fputs("\" id=\"t-", f);
  esc(f, w->code);
  fprintf(f, "\"><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
          "aria-label=\"", CW, CH);
  esc(f, w->code);
  fputs(" ", f);
  esc(f, w->name_zh);
  fputs("\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"9\">", f);
  /* The frame and three values on the y axis. */
  fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
          "fill=\"none\" stroke=\"#bbb\"/>", ML, MT, CW - ML - MR,
          CH - MT - MB);
  for (int k = 0; k <= 2; k++) {
    double v = fr.y0 + pad + (fr.y1 - fr.y0 - 2 * pad) * k / 2.0;
    char label[64];
    if (fr.y1 - fr.y0 - 2 * pad == 0 && k > 0)
      break;
    snprintf(label, sizeof label, "%.*f", dec > 2 ? 2 : dec, v);
    fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#e3e3e3\"/><text x=\"%.1f\" y=\"%.1f\" "
            "text-anchor=\"end\" fill=\"#555\">%s</text>", ML, CW - MR,
            fy(&fr, v), fy(&fr, v), ML - 3, fy(&fr, v) + 3, label);
  }
  int step = fr.x1 - fr.x0 > 12 ? 2 : 1;
  for (int x = fr.x0; x <= fr.x1; x += step)
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
            "fill=\"#555\">%d</text>", fx(&fr, x), CH - MB + 12, x);
  /* The target, and the path from the baseline to it. */
  if (target) {
    double ty = fy(&fr, w->target_fields->value);
    fprintf(f, "<line class=\"target\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
            "y2=\"%.1f\" stroke=\"#b3261e\" stroke-dasharray=\"5 3\"/>"
            "<path d=\"M%.1f %.1fl5 -5l5 5l-5 5z\" fill=\"#b3261e\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" fill=\"#b3261e\" text-anchor=\"end\">"
            "目标 %d</text>", ML, CW - MR, ty, ty,
            fx(&fr, w->target_fields->year) - 5, ty, CW - MR - 2,
            ty > MT + 12 ? ty - 3 : ty + 10, w->target_fields->year);
  }
  if (path) {
    fputs("<polyline class=\"path\" fill=\"none\" stroke=\"#777\" "
          "stroke-dasharray=\"2 2\" points=\"", f);
    int t1 = w->target_fields->year;
    for (int t = w->path_from_year; t <= t1; t++)
      fprintf(f, "%.1f,%.1f ", fx(&fr, t), fy(&fr, path_at(w, t)));
    fputs("\"/>", f);
  }
  /* The values: error bars, then the line and its points. */
  for (size_t y = 0; y < d->n_years; y++) {
    const Tally__ReportRow *v = tally_report_doc_row(d, y, w->code);
    if (v && v->has_value && v->has_interval)
      fprintf(f, "<line class=\"ci\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
              "y2=\"%.1f\" stroke=\"#7aa7d6\" stroke-width=\"3\" "
              "stroke-opacity=\".6\"/>", fx(&fr, d->year_of[y]),
              fx(&fr, d->year_of[y]), fy(&fr, v->lower), fy(&fr, v->upper));
  }
  int open = 0;
  for (size_t y = 0; y < d->n_years; y++) {
    const Tally__ReportRow *v = tally_report_doc_row(d, y, w->code);
    if (!(v && v->has_value)) {
      if (open)
        fputs("\"/>", f);
      open = 0;
      continue;
    }
    if (!open)
      fputs("<polyline fill=\"none\" stroke=\"#1a5fb4\" stroke-width=\"1.6\" "
            "points=\"", f);
    open = 1;
    fprintf(f, "%.1f,%.1f ", fx(&fr, d->year_of[y]), fy(&fr, v->value));
  }
  if (open)
    fputs("\"/>", f);
  for (size_t y = 0; y < d->n_years; y++) {
    const Tally__ReportRow *v = tally_report_doc_row(d, y, w->code);
    char value[128];
    if (!(v && v->has_value))
      continue;
    tally_report_value_text(value, sizeof value, v);
    fprintf(f, "<circle class=\"pt\" data-year=\"%d\" cx=\"%.1f\" cy=\"%.1f\" "
            "r=\"2.8\" fill=\"#1a5fb4\"><title>%d: ", d->year_of[y],
            fx(&fr, d->year_of[y]), fy(&fr, v->value), d->year_of[y]);
    esc(f, value);
    fputs("</title></circle>", f);
  }
  fputs("</svg><figcaption><b>", f);
  esc(f, w->code);
  fputs("</b> ", f);
  esc(f, w->name_zh);
  fputs(" (", f);
  unit_text(f, w);
  fputs(") ", f);
  status_span(f, w->status);
  fputs("<span class=\"vals\">", f);
  int first = 1;
  for (size_t y = 0; y < d->n_years; y++) {
    const Tally__ReportRow *v = tally_report_doc_row(d, y, w->code);
    char value[128];
    if (!(v && v->has_value))
      continue;
    tally_report_value_text(value, sizeof value, v);
    fprintf(f, "%s%d: ", first ? "" : " · ", d->year_of[y]);
    esc(f, value);
    first = 0;
  }
  if (first)
    fputs("尚无数据 no values yet", f);
  if (*w->target) {
    fputs(" · 目标 target ", f);
    esc(f, w->target);
  }
  fputs("</span></figcaption></figure>\n", f);
}

static void trends(FILE *f, const tally_report_doc *d) {
  const Tally__ReportReply *r = d->report;
  fputs("<section id=\"trends\">\n<h2>三、历年趋势 <span class=\"en\">"
        "Trends</span></h2>\n<p class=\"meta\">", f);
  fprintf(f, "%s 至 %s 年各期全区数值（蓝点，竖条为95%%置信区间），目标（红色虚线，"
          "菱形为目标年份）及从基线到目标的路径（灰色点线） <span class=\"en\">"
          "the district's value each year from %s to %s (blue; bars: 95%% "
          "CI), the target (red dashes; the diamond marks its year) and the "
          "path from the baseline to it (grey dots)</span>。</p>\n",
          d->year_periods[0], d->year_periods[d->n_years - 1],
          d->year_periods[0], d->year_periods[d->n_years - 1]);
  const char *plan = NULL;
  for (size_t i = 0; i < r->n_rows; i++) {
    if (!plan || strcmp(plan, r->rows[i]->plan) != 0) {
      if (plan)
        fputs("</div>\n", f);
      plan = r->rows[i]->plan;
      fputs("<h3>", f);
      esc(f, tally_report_doc_plan_zh(d, plan));
      fputs(" <span class=\"en\">", f);
      esc(f, tally_report_doc_plan_en(d, plan));
      fputs("</span></h3>\n<div class=\"charts\">\n", f);
    }
    chart(f, d, r->rows[i]);
  }
  if (plan)
    fputs("</div>\n", f);
  fputs("</section>\n", f);
}

/* The units of the matrix: every unit any explain names, but the scope. */
typedef struct {
  const char *code, *name_zh, *name_en;
  size_t behind, worse;   /* indicators not met or off track; worse */
} mcol;

static size_t matrix_units(const tally_report_doc *d, mcol **out) {
  size_t n = 0, cap = 0;
  mcol *cols = NULL;
  for (size_t i = 0; i < d->report->n_rows; i++) {
    const Tally__ExplainReply *x = d->explain[i];
    for (size_t k = 0; x && k < x->n_units; k++) {
      const Tally__ExplainUnit *u = x->units[k];
      size_t j = 0;
      if (strcmp(u->unit, x->unit) == 0)
        continue; /* the district office's own figures: the district's */
      while (j < n && strcmp(cols[j].code, u->unit) != 0)
        j++;
      if (j < n)
        continue;
      if (n == cap) {
        mcol *grown = realloc(cols, (cap = cap ? 2 * cap : 16) * sizeof *cols);
        if (grown == NULL)
          break;
        cols = grown;
      }
      cols[n++] = (mcol){u->unit, u->name_zh, u->name_en, 0, 0};
    }
  }
  *out = cols;
  return n;
}

static const Tally__ExplainUnit *unit_in(const Tally__ExplainReply *x,
                                         const char *code) {
  for (size_t k = 0; x && k < x->n_units; k++)
    if (strcmp(x->units[k]->unit, code) == 0)
      return x->units[k];
  return NULL;
}

static void matrix(FILE *f, const tally_report_doc *d) {
  const Tally__ReportReply *r = d->report;
  mcol *cols;
  size_t n = matrix_units(d, &cols);
  fputs("<section id=\"matrix\" class=\"wide\">\n<h2>四、各镇街指标 <span "
        "class=\"en\">Units by indicator</span></h2>\n", f);
  if (n == 0) {
    fputs("<p>本范围下没有下级单位 <span class=\"en\">no units below this "
          "scope</span>。</p>\n</section>\n", f);
    free(cols);
    return;
  }
  fputs("<p class=\"meta legend\">每格：该单位的数值，对照全区目标的状态符号；"
        "<b>优</b>／<b>差</b>：95%置信区间整体高于或低于全区数值（按指标方向），"
        "即显著优于或差于全区 <span class=\"en\">each cell: the unit's value "
        "and its status against the district's target; 优/差: its 95% "
        "interval lies wholly on the better or worse side of the district's "
        "value</span>。总量指标（total、cumulative）各单位只列数值，不对照全区目标 "
        "<span class=\"en\">totals: a unit holds a share of the district's "
        "sum, so its value is shown without a status</span>。", f);
  for (size_t k = 0; k < tally_report_summary_n; k++) {
    Tally__Status s = tally_report_summary_order[k];
    if (summary_shows(r, s))
      status_span(f, s);
    fputs(" ", f);
  }
  fputs("</p>\n<table class=\"matrix\" id=\"matrix-table\"><thead><tr>"
        "<th>指标 <span class=\"en\">indicator</span></th>"
        "<th>全区 <span class=\"en\">district</span></th>", f);
  for (size_t j = 0; j < n; j++) {
    fputs("<th data-unit=\"", f);
    esc(f, cols[j].code);
    fputs("\">", f);
    esc(f, cols[j].name_zh);
    fputs("<span class=\"en\">", f);
    esc(f, cols[j].name_en);
    fputs("</span></th>", f);
  }
  fputs("</tr></thead>\n<tbody>\n", f);
  for (size_t i = 0; i < r->n_rows; i++) {
    const Tally__ReportRow *w = r->rows[i];
    const Tally__ExplainReply *x = d->explain[i];
    const tally_status_words *sw = tally_report_status(w->status);
    char value[128];
    tally_report_value_text(value, sizeof value, w);
    fputs("<tr data-code=\"", f);
    esc(f, w->code);
    fputs("\"><td class=\"ind\"><b>", f);
    esc(f, w->code);
    fputs("</b> ", f);
    esc(f, w->name_zh);
    fprintf(f, "</td><td class=\"%s\" data-unit=\"\">", sw->css);
    esc(f, value);
    fprintf(f, " <span class=\"sym\">%s</span></td>", sw->symbol);
    for (size_t j = 0; j < n; j++) {
      const Tally__ExplainUnit *u = unit_in(x, cols[j].code);
      if (u == NULL || u->row == NULL) {
        fputs("<td data-unit=\"", f);
        esc(f, cols[j].code);
        fputs("\"></td>", f);
        continue;
      }
      char v[128];
      tally_report_value_text(v, sizeof v, u->row);
      if (!tally_report_unit_judged(w)) { /* a share of a sum: no status */
        fputs("<td class=\"share\" data-unit=\"", f);
        esc(f, cols[j].code);
        fputs("\" data-status=\"\">", f);
        esc(f, *v ? v : "—");
        fputs("</td>", f);
        continue;
      }
      const tally_status_words *uw = tally_report_status(u->row->status);
      fprintf(f, "<td class=\"%s\" data-unit=\"", uw->css);
      esc(f, cols[j].code);
      fprintf(f, "\" data-status=\"%s\" data-compared=\"%s\" title=\"",
              uw->en, tally_report_compare_en(u->compared));
      esc(f, cols[j].name_zh);
      fputs(" ", f);
      esc(f, w->code);
      fprintf(f, ": %s %s", uw->zh, uw->en);
      if (*tally_report_compare_zh(u->compared))
        fprintf(f, "; 与全区比 vs the district: %s %s",
                tally_report_compare_zh(u->compared),
                tally_report_compare_en(u->compared));
      fputs("\">", f);
      esc(f, *v ? v : "—");
      fprintf(f, " <span class=\"sym\">%s</span>", uw->symbol);
      if (u->compared == TALLY__COMPARE__COMPARE_BETTER)
        fputs("<span class=\"mark\">优</span>", f);
      else if (u->compared == TALLY__COMPARE__COMPARE_WORSE)
        fputs("<span class=\"mark\">差</span>", f);
      fputs("</td>", f);
      if (u->row->status == TALLY__STATUS__STATUS_NOT_MET ||
          u->row->status == TALLY__STATUS__STATUS_OFF_TRACK)
        cols[j].behind++;
      if (u->compared == TALLY__COMPARE__COMPARE_WORSE)
        cols[j].worse++;
    }
    fputs("</tr>\n", f);
  }
  fputs("</tbody><tfoot><tr><th>未达标或滞后 <span class=\"en\">not met or "
        "off track</span></th><th></th>", f);
  for (size_t j = 0; j < n; j++)
    fprintf(f, "<th class=\"num\">%zu</th>", cols[j].behind);
  fputs("</tr><tr><th>显著差于全区 <span class=\"en\">worse than the district"
        "</span></th><th></th>", f);
  for (size_t j = 0; j < n; j++)
    fprintf(f, "<th class=\"num\">%zu</th>", cols[j].worse);
  fputs("</tr></tfoot></table>\n</section>\n", f);
  free(cols);
}

/* What the notes say of one indicator: its note, its path, what is
 * still needed a year. */
static int indicator_note(FILE *f, const Tally__ReportRow *w) {
  const Tally__TargetFields *t = w->target_fields;
  int d = (int)w->decimals;
  if (!*w->note && !w->has_path && !w->has_needed && !w->has_average)
    return 0;
  fputs("<li><b>", f);
  esc(f, w->code);
  fputs("</b> ", f);
  esc(f, w->name_zh);
  fputs("：", f);
  int any = 0;
  if (*w->note) {
    esc(f, w->note);
    any = 1;
  }
  if (w->has_average) {
    fprintf(f, "%s自 %d 年年均增长 average annual growth since then %.2f%%",
            any ? "；" : "", w->average_from, w->average);
    any = 1;
  }
  if (w->has_path && t) {
    fprintf(f, "%s路径 path：%d 年 %.*f 至 %d 年目标，%s，本期应为 this year "
            "%.*f", any ? "；" : "", w->path_from_year, d, w->path_from,
            t->year, w->path_rate ? "按固定增速 at a constant rate"
                                   : "按直线 in a straight line",
            d, w->path);
    any = 1;
  }
  if (w->has_needed) {
    fprintf(f, "%s达到目标每年还需 needed a year %+.*f", any ? "；" : "", d,
            w->needed_per_year);
    if (w->has_needed_rate)
      fprintf(f, " (%+.2f%%)", w->needed_rate);
  }
  fputs("</li>\n", f);
  return 1;
}

static void notes(FILE *f, const tally_report_doc *d) {
  const Tally__ReportReply *r = d->report;
  const Tally__CompletenessReply *c = d->completeness;
  fputs("<section id=\"notes\">\n<h2>五、说明 <span class=\"en\">Notes</span>"
        "</h2>\n", f);

  /* Who has reported, when, and the central office's review. */
  fputs("<h3>报送与审核情况 <span class=\"en\">Completeness, timeliness and "
        "review</span></h3>\n", f);
  fputs("<p>", f);
  fprintf(f, "报送截止日期 due %s", c->due);
  fputs("</p>\n<table class=\"completeness\">", f);
  {
    static const char *const zh[] = {"单位", "已报数据项", "缺报数据项",
                                     "及时性与审核", "首次报送 (UTC)"};
    static const char *const en[] = {"unit", "reported", "missing",
                                     "timeliness and review",
                                     "first reported"};
    head_row(f, zh, en, 5);
  }
  fputs("<tbody>\n", f);
  for (size_t i = 0; i < c->n_units; i++) {
    const Tally__UnitCompleteness *u = c->units[i];
    char n[32], first[32] = "", state[96];
    snprintf(n, sizeof n, "%u/%u", u->reported, u->expected);
    if (u->first_unix)
      tally_report_time(first, sizeof first, u->first_unix);
    if (u->days_late > 0 && strcmp(u->timeliness, "late") == 0)
      snprintf(state, sizeof state, "迟报 late by %d day%s", u->days_late,
               u->days_late == 1 ? "" : "s");
    else if (strcmp(u->timeliness, "not reported") == 0)
      snprintf(state, sizeof state, "未报送 not reported");
    else if (strcmp(u->timeliness, "on time") == 0)
      snprintf(state, sizeof state, "按时 on time");
    else if (strcmp(u->timeliness, "returned") == 0)
      snprintf(state, sizeof state, "已退回 returned");
    else if (strcmp(u->timeliness, "approved") == 0)
      snprintf(state, sizeof state, "已审核通过 approved");
    else
      snprintf(state, sizeof state, "%s", u->timeliness);
    fputs("<tr data-unit=\"", f);
    esc(f, u->unit);
    fputs("\"><td>", f);
    esc(f, u->name_zh);
    fputs(" <span class=\"en\">", f);
    esc(f, u->unit);
    fputs("</span></td>", f);
    cell(f, "td", "num", n);
    fputs("<td>", f);
    for (size_t k = 0; k < u->n_missing && k < 8; k++) {
      esc(f, u->missing[k]);
      fputs(k + 1 < u->n_missing ? " " : "", f);
    }
    if (u->n_missing > 8)
      fprintf(f, "… (+%zu)", u->n_missing - 8);
    fputs("</td>", f);
    fputs("<td>", f);
    esc(f, state);
    if (u->review && *u->review->reason) { /* returned, or reopened */
      fputs("：", f);
      esc(f, u->review->reason);
    }
    fputs("</td>", f);
    cell(f, "td", NULL, first);
    fputs("</tr>\n", f);
  }
  fputs("</tbody></table>\n", f);

  /* Targets the city assigns that are not entered yet. */
  fputs("<h3>待下达的目标 <span class=\"en\">Targets the city has not "
        "assigned yet</span></h3>\n<ul class=\"notes\" id=\"assigned\">\n", f);
  int any = 0;
  for (size_t i = 0; d->targets && i < d->targets->n_targets; i++) {
    const Tally__TargetListEntry *t = d->targets->targets[i];
    if (!t->assigned || t->entered)
      continue;
    fputs("<li><b>", f);
    esc(f, t->indicator);
    fprintf(f, "</b> %d：", t->year);
    esc(f, t->target);
    fputs("（可用 tally target set 录入 <span class=\"en\">enter it with "
          "tally target set</span>）</li>\n", f);
    any = 1;
  }
  for (size_t i = 0; d->targets && i < d->targets->n_targets; i++) {
    const Tally__TargetListEntry *t = d->targets->targets[i];
    if (!t->assigned || !t->entered)
      continue;
    fputs("<li><b>", f);
    esc(f, t->indicator);
    fprintf(f, "</b> %d：已录入 entered ", t->year);
    esc(f, t->target);
    fputs(" (", f);
    esc(f, t->source);
    fputs(")</li>\n", f);
    any = 1;
  }
  if (!any)
    fputs("<li>无 <span class=\"en\">none</span></li>\n", f);
  fputs("</ul>\n", f);

  /* Warnings and their explanations, from the review queue. */
  fputs("<h3>预警及说明 <span class=\"en\">Warnings and their "
        "explanations</span></h3>\n", f);
  if (d->review == NULL) {
    fputs("<p>本账户无权读取审核队列 <span class=\"en\">this account may not "
          "read the review queue</span>（tally review list）。</p>\n", f);
  } else {
    int shown = 0;
    fputs("<ul class=\"notes\" id=\"warnings\">\n", f);
    for (size_t i = 0; i < d->review->n_rows; i++) {
      const Tally__ReviewRow *row = d->review->rows[i];
      for (size_t k = 0; k < row->n_warnings; k++) {
        const Tally__Violation *v = row->warnings[k];
        fputs("<li><b>", f);
        esc(f, row->unit);
        fputs("</b> ", f);
        esc(f, v->rule);
        fputs("：", f);
        esc(f, v->message);
        fputs("<br>说明 explanation：", f);
        if (*v->explanation)
          esc(f, v->explanation);
        else
          fputs("<i>（无 none）</i>", f);
        fputs("</li>\n", f);
        shown = 1;
      }
      if (row->review &&
          row->review->state == TALLY__REVIEW_STATE__REVIEW_RETURNED) {
        fputs("<li><b>", f);
        esc(f, row->unit);
        fputs("</b> 已退回 returned：", f);
        esc(f, row->review->reason);
        fputs("</li>\n", f);
        shown = 1;
      }
      if (row->errors) {
        fputs("<li><b>", f);
        esc(f, row->unit);
        fprintf(f, "</b> 违反 %u 条逻辑性审核规则 breaks %u error rule%s "
                "(tally validate)</li>\n", row->errors, row->errors,
                row->errors == 1 ? "" : "s");
        shown = 1;
      }
    }
    if (!shown)
      fputs("<li>无 <span class=\"en\">none</span></li>\n", f);
    fputs("</ul>\n", f);
  }

  fputs("<h3>指标注释 <span class=\"en\">Notes on the indicators</span></h3>"
        "\n<ul class=\"notes\" id=\"indicator-notes\">\n", f);
  any = 0;
  for (size_t i = 0; i < r->n_rows; i++)
    any |= indicator_note(f, r->rows[i]);
  if (!any)
    fputs("<li>无 <span class=\"en\">none</span></li>\n", f);
  fprintf(f, "</ul>\n<p class=\"meta\">本报告由 tally 生成，%zu 个请求，用时 "
          "%.0f 毫秒 <span class=\"en\">made by tally from %zu requests in "
          "%.0f ms</span>。</p>\n</section>\n", d->requests, d->fetch_ms,
          d->requests, d->fetch_ms);
}

int tally_report_html_write(const tally_report_doc *d, FILE *f) {
  const Tally__ReportReply *r = d->report;
  fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta "
        "charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-"
        "width, initial-scale=1\">\n<title>", f);
  esc(f, r->unit_name_zh);
  fputs(" ", f);
  esc(f, r->period);
  fputs(" 年度监测评估报告 Annual monitoring report</title>\n<style>", f);
  fputs(style, f);
  fputs("</style>\n</head>\n<body>\n", f);
  cover(f, d);
  summary(f, d);
  district(f, d);
  trends(f, d);
  matrix(f, d);
  notes(f, d);
  fputs("</body>\n</html>\n", f);
  return fflush(f) != 0 || ferror(f) ? -1 : 0;
}
