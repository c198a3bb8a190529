/* report_xlsx.c: the report as a workbook. The sheets: 概况 (the
 * statuses counted by plan), 全区指标 (one per plan: the district's
 * table), 各镇街矩阵 (units by indicator: each unit's value and status
 * against the district's target, better or worse than the district),
 * 各单位数据 (every unit's figures behind every value) and 说明 (who has
 * reported, targets not yet assigned, warnings and their explanations).
 * The first error of libxlsxwriter is kept in the book and checked once,
 * when the workbook is closed: the writing reads straight. */
#include "report_xlsx.h"


#include <stdio.h>
#include <string.h>
#include <xlsxwriter.h>

/* Each status class's fill, as in the HTML's stylesheet. */
static const struct {
  const char *css;
  lxw_color_t color;
} fills[] = {{"", LXW_COLOR_WHITE}, {"met", 0xD7F0D2}, {"on-track", 0xE3F0FB},
             {"off-track", 0xFFE9C7}, {"not-met", 0xF9D3D0},
             {"not-judged", 0xECEBF3}, {"no-data", 0xEEEEEE},
             {"none", 0xEEEEEE}};
#define N_FILLS (sizeof fills / sizeof fills[0])
#define MAX_DECIMALS 7

typedef struct {
  lxw_workbook *wb;
  lxw_error err;                 /* the first error, or LXW_NO_ERROR */
  lxw_format *title, *head, *head_en, *text, *wrap, *sum;
  lxw_format *num[MAX_DECIMALS + 1][N_FILLS]; /* made when first used */
  lxw_format *fill[N_FILLS];
} book;

static size_t fill_of(Tally__Status s) {
  const char *css = tally_report_status(s)->css;
  for (size_t i = 1; i < N_FILLS; i++)
    if (strcmp(fills[i].css, css) == 0)
      return i;
  return 0;
}

static void note_err(book *b, lxw_error e) {
  if (b->err == LXW_NO_ERROR && e != LXW_NO_ERROR)
    b->err = e;
}

static void put_s(book *b, lxw_worksheet *ws, int row, int col,
                  const char *s, lxw_format *f) {
  if (s && *s)
    note_err(b, worksheet_write_string(ws, (lxw_row_t)row, (lxw_col_t)col, s,
                                       f));
  else if (f)
    note_err(b, worksheet_write_blank(ws, (lxw_row_t)row, (lxw_col_t)col, f));
}

static void put_n(book *b, lxw_worksheet *ws, int row, int col, double v,
                  lxw_format *f) {
  note_err(b, worksheet_write_number(ws, (lxw_row_t)row, (lxw_col_t)col, v,
                                     f));
}

/* A number shown with d decimals, on the fill of class k. */
static lxw_format *number(book *b, int d, size_t k) {
  if (d < 0)
    d = 0;
  if (d > MAX_DECIMALS)
    d = MAX_DECIMALS;
  if (b->num[d][k] == NULL) {
    char pattern[16] = "0";
    if (d > 0) {
      pattern[1] = '.';
      memset(pattern + 2, '0', (size_t)d);
      pattern[2 + d] = 0;
    }
    lxw_format *f = workbook_add_format(b->wb);
    format_set_num_format(f, pattern);
    if (k) {
      format_set_bg_color(f, fills[k].color);
      format_set_border(f, LXW_BORDER_THIN);
      format_set_border_color(f, 0xC8C8C8);
    }
    b->num[d][k] = f;
  }
  return b->num[d][k];
}

static void formats(book *b) {
  b->title = workbook_add_format(b->wb);
  format_set_bold(b->title);
  format_set_font_size(b->title, 14);
  b->head = workbook_add_format(b->wb);
  format_set_bold(b->head);
  format_set_bg_color(b->head, 0xF1F3F4);
  format_set_border(b->head, LXW_BORDER_THIN);
  format_set_text_wrap(b->head);
  b->head_en = workbook_add_format(b->wb);
  format_set_italic(b->head_en);
  format_set_font_color(b->head_en, 0x5F6368);
  format_set_bg_color(b->head_en, 0xF1F3F4);
  format_set_border(b->head_en, LXW_BORDER_THIN);
  b->text = NULL;
  b->wrap = workbook_add_format(b->wb);
  format_set_text_wrap(b->wrap);
  b->sum = workbook_add_format(b->wb);
  format_set_num_format(b->sum, "General");
  for (size_t k = 1; k < N_FILLS; k++) {
    b->fill[k] = workbook_add_format(b->wb);
    format_set_bg_color(b->fill[k], fills[k].color);
    format_set_border(b->fill[k], LXW_BORDER_THIN);
    format_set_border_color(b->fill[k], 0xC8C8C8);
  }
}

/* The two heading rows at row: Chinese, then English. */
static void heads(book *b, lxw_worksheet *ws, int row, const char *const *zh,
                  const char *const *en, size_t n) {
  for (size_t i = 0; i < n; i++) {
    put_s(b, ws, row, (int)i, zh[i], b->head);
    put_s(b, ws, row + 1, (int)i, en[i], b->head_en);
  }
  worksheet_freeze_panes(ws, (lxw_row_t)(row + 2), 0);
  note_err(b, worksheet_repeat_rows(ws, (lxw_row_t)row, (lxw_row_t)(row + 1)));
}

static void page(lxw_worksheet *ws, int landscape) {
  worksheet_set_paper(ws, 9); /* A4 */
  if (landscape)
    worksheet_set_landscape(ws);
  worksheet_fit_to_pages(ws, 1, 0);
}

/* A sheet's name: the words given, cut to Excel's 31 characters, with
 * none of the characters Excel refuses. */
static void sheet_name(char *buf, size_t n, const char *words,
                       const char *code) {
  char raw[256];
  snprintf(raw, sizeof raw, "%s%s", words, code);
  size_t chars = 0, out = 0;
  for (const unsigned char *p = (const unsigned char *)raw; *p && out + 4 < n;
       p++) {
    if ((*p & 0xC0) != 0x80 && ++chars > 31)
      break;
    buf[out++] = strchr("[]:*?/\\", *p) ? '_' : (char)*p;
  }
  buf[out] = 0;
}

static lxw_worksheet *add_sheet(book *b, const char *name) {
  lxw_worksheet *ws = workbook_add_worksheet(b->wb, name);
  if (ws == NULL)
    note_err(b, LXW_ERROR_SHEETNAME_ALREADY_USED);
  return ws;
}

static void summary_sheet(book *b, const tally_report_doc *d) {
  const Tally__ReportReply *r = d->report;
  lxw_worksheet *ws = add_sheet(b, "概况");
  char title[512];
  if (ws == NULL)
    return;
  page(ws, 0);
  snprintf(title, sizeof title, "%s %s 年度主要指标监测评估 Annual monitoring "
           "report", r->unit_name_zh, r->period);
  put_s(b, ws, 0, 0, title, b->title);
  put_s(b, ws, 2, 0, "规划", b->head);
  put_s(b, ws, 3, 0, "plan", b->head_en);
  int col = 1;
  for (size_t k = 0; k < tally_report_summary_n; k++) {
    const tally_status_words *w =
        tally_report_status(tally_report_summary_order[k]);
    char zh[64];
    snprintf(zh, sizeof zh, "%s %s", w->symbol, w->zh);
    put_s(b, ws, 2, col, zh, b->head);
    put_s(b, ws, 3, col, w->en, b->head_en);
    col++;
  }
  put_s(b, ws, 2, col, "合计", b->head);
  put_s(b, ws, 3, col, "total", b->head_en);
  /* One row a plan, then all of them. */
  int row = 4;
  const char *seen[16];
  size_t n_seen = 0;
  for (size_t i = 0; i <= r->n_rows; i++) {
    const char *plan = i < r->n_rows ? r->rows[i]->plan : NULL;
    size_t s = 0;
    while (plan && s < n_seen && strcmp(seen[s], plan) != 0)
      s++;
    if (plan && (s < n_seen || n_seen == 16))
      continue;
    if (plan)
      seen[n_seen++] = plan;
    put_s(b, ws, row, 0, plan ? tally_report_doc_plan_zh(d, plan) : "合计 all",
          NULL);
    size_t total = 0;
    for (size_t k = 0; k < tally_report_summary_n; k++) {
      size_t c = 0;
      for (size_t j = 0; j < r->n_rows; j++)
        if ((!plan || strcmp(r->rows[j]->plan, plan) == 0) &&
            r->rows[j]->status == tally_report_summary_order[k])
          c++;
      put_n(b, ws, row, 1 + (int)k, (double)c, number(b, 0, 0));
      total += c;
    }
    put_n(b, ws, row, col, (double)total, number(b, 0, 0));
    row++;
  }
  char when[32], line[256];
  tally_report_time(when, sizeof when, d->made_unix);
  snprintf(line, sizeof line, "生成于 made %s UTC; %s", when,
           r->as_approved ? "按审核通过的数据 as approved" : "实时数据 live");
  put_s(b, ws, row + 1, 0, line, NULL);
  worksheet_set_column(ws, 0, 0, 40, NULL);
  worksheet_set_column(ws, 1, (lxw_col_t)col, 11, NULL);
}

static void district_sheet(book *b, const tally_report_doc *d,
                           const char *plan) {
  static const char *const zh[] = {
      "分类", "代码", "指标", "指标（英文）", "计量单位", "数值", "95%下限",
      "95%上限", "目标", "差距", "状态", "较上年变化", "变化是否显著",
      "上年数值", "分子", "分母", "报送单位数", "应报单位数", "说明"};
  static const char *const en[] = {
      "category", "code", "indicator", "indicator (English)", "unit",
      "value", "95% lower", "95% upper", "target", "gap", "status",
      "change", "beyond chance?", "previous", "numerator", "denominator",
      "units counted", "units expected", "note"};
  const Tally__ReportReply *r = d->report;
  char name[128], title[512];
  sheet_name(name, sizeof name, "全区指标-", plan);
  lxw_worksheet *ws = add_sheet(b, name);
  if (ws == NULL)
    return;
  page(ws, 1);
  snprintf(title, sizeof title, "%s (%s) %s", tally_report_doc_plan_zh(d, plan),
           tally_report_doc_plan_en(d, plan), r->period);
  put_s(b, ws, 0, 0, title, b->title);
  heads(b, ws, 2, zh, en, sizeof zh / sizeof zh[0]);
  int row = 4;
  for (size_t i = 0; i < r->n_rows; i++) {
    const Tally__ReportRow *w = r->rows[i];
    if (strcmp(w->plan, plan) != 0)
      continue;
    int dec = (int)w->decimals;
    size_t k = fill_of(w->status);
    const tally_status_words *sw = tally_report_status(w->status);
    char cat[256], status[96], cmp[64];
    snprintf(cat, sizeof cat, "%s%s%s", w->category_zh,
             *w->category_en ? " " : "", w->category_en);
    put_s(b, ws, row, 0, cat, NULL);
    put_s(b, ws, row, 1, w->code, NULL);
    put_s(b, ws, row, 2, w->name_zh, NULL);
    put_s(b, ws, row, 3, w->name_en, NULL);
    char uom[160];
    snprintf(uom, sizeof uom, "%s%s%s",
             strcmp(w->unit_zh, w->unit) ? w->unit_zh : "",
             *w->unit_zh && strcmp(w->unit_zh, w->unit) ? " " : "", w->unit);
    put_s(b, ws, row, 4, uom, NULL);
    if (w->level && *w->level)
      put_s(b, ws, row, 5, w->level, NULL); /* a milestone, in words */
    else if (w->has_value)
      put_n(b, ws, row, 5, w->value, number(b, dec, 0));
    if (w->has_interval && w->has_value) {
      put_n(b, ws, row, 6, w->lower, number(b, dec, 0));
      put_n(b, ws, row, 7, w->upper, number(b, dec, 0));
    }
    put_s(b, ws, row, 8, w->target, NULL);
    if (w->has_gap)
      put_n(b, ws, row, 9, w->gap, number(b, dec, 0));
    snprintf(status, sizeof status, "%s %s %s", sw->symbol, sw->zh, sw->en);
    put_s(b, ws, row, 10, status, b->fill[k]);
    if (w->has_change)
      put_n(b, ws, row, 11, w->change, number(b, dec, 0));
    snprintf(cmp, sizeof cmp, "%s%s%s",
             tally_report_compare_zh(w->change_compared),
             *tally_report_compare_zh(w->change_compared) ? " " : "",
             tally_report_compare_en(w->change_compared));
    put_s(b, ws, row, 12, cmp, NULL);
    if (w->has_previous)
      put_n(b, ws, row, 13, w->previous, number(b, dec, 0));
    if (w->has_numerator)
      put_n(b, ws, row, 14, w->numerator, b->sum);
    if (w->has_denominator)
      put_n(b, ws, row, 15, w->denominator, b->sum);
    put_n(b, ws, row, 16, w->units_counted, number(b, 0, 0));
    put_n(b, ws, row, 17, w->units_expected, number(b, 0, 0));
    put_s(b, ws, row, 18, w->note, NULL);
    row++;
  }
  worksheet_set_column(ws, 0, 0, 16, NULL);
  worksheet_set_column(ws, 1, 1, 7, NULL);
  worksheet_set_column(ws, 2, 3, 30, b->wrap);
  worksheet_set_column(ws, 4, 4, 14, NULL);
  worksheet_set_column(ws, 5, 7, 11, NULL);
  worksheet_set_column(ws, 8, 8, 22, NULL);
  worksheet_set_column(ws, 9, 9, 9, NULL);
  worksheet_set_column(ws, 10, 10, 18, NULL);
  worksheet_set_column(ws, 11, 17, 11, NULL);
  worksheet_set_column(ws, 18, 18, 40, NULL);
  note_err(b, worksheet_autofilter(ws, 3, 0, (lxw_row_t)(row - 1), 18));
}

static const Tally__ExplainUnit *unit_in(const Tally__ExplainReply *x,
                                         const char *code) {
  for (size_t k = 0; x && k < x->n_units; k++)
    if (strcmp(x->units[k]->unit, code) == 0)
      return x->units[k];
  return NULL;
}

#define UNITS_MAX 512

static void matrix_sheet(book *b, const tally_report_doc *d) {
  const Tally__ReportReply *r = d->report;
  const Tally__ExplainUnit *cols[UNITS_MAX];
  size_t n = 0;
  for (size_t i = 0; i < r->n_rows; i++) {
    const Tally__ExplainReply *x = d->explain[i];
    for (size_t k = 0; x && k < x->n_units && n < UNITS_MAX; k++) {
      size_t j = 0;
      if (strcmp(x->units[k]->unit, x->unit) == 0)
        continue; /* the district office's own: the district column */
      while (j < n && strcmp(cols[j]->unit, x->units[k]->unit) != 0)
        j++;
      if (j == n)
        cols[n++] = x->units[k];
    }
  }
  lxw_worksheet *ws = add_sheet(b, "各镇街矩阵");
  if (ws == NULL)
    return;
  page(ws, 1);
  put_s(b, ws, 0, 0, "各镇街指标：数值及对照全区目标的状态；显著较好/较差：与全区"
        "数值相比超出随机波动 Units by indicator: value and status against the "
        "district's target; better/worse than the district beyond chance",
        b->title);
  put_s(b, ws, 2, 0, "代码", b->head);
  put_s(b, ws, 3, 0, "code", b->head_en);
  put_s(b, ws, 2, 1, "指标", b->head);
  put_s(b, ws, 3, 1, "indicator", b->head_en);
  put_s(b, ws, 2, 2, "全区数值", b->head);
  put_s(b, ws, 3, 2, "district value", b->head_en);
  put_s(b, ws, 2, 3, "全区状态", b->head);
  put_s(b, ws, 3, 3, "district status", b->head_en);
  for (size_t j = 0; j < n; j++) {
    char zh[256], en[256];
    snprintf(zh, sizeof zh, "%s 数值", cols[j]->name_zh);
    snprintf(en, sizeof en, "%s value", cols[j]->unit);
    put_s(b, ws, 2, 4 + 2 * (int)j, zh, b->head);
    put_s(b, ws, 3, 4 + 2 * (int)j, en, b->head_en);
    snprintf(zh, sizeof zh, "%s 状态", cols[j]->name_zh);
    snprintf(en, sizeof en, "%s status", cols[j]->unit);
    put_s(b, ws, 2, 5 + 2 * (int)j, zh, b->head);
    put_s(b, ws, 3, 5 + 2 * (int)j, en, b->head_en);
  }
  worksheet_freeze_panes(ws, 4, 2);
  int row = 4;
  for (size_t i = 0; i < r->n_rows; i++, row++) {
    const Tally__ReportRow *w = r->rows[i];
    int dec = (int)w->decimals;
    const tally_status_words *sw = tally_report_status(w->status);
    char status[128];
    put_s(b, ws, row, 0, w->code, NULL);
    put_s(b, ws, row, 1, w->name_zh, NULL);
    if (w->level && *w->level)
      put_s(b, ws, row, 2, w->level, b->fill[fill_of(w->status)]);
    else if (w->has_value)
      put_n(b, ws, row, 2, w->value, number(b, dec, fill_of(w->status)));
    snprintf(status, sizeof status, "%s %s", sw->symbol, sw->zh);
    put_s(b, ws, row, 3, status, b->fill[fill_of(w->status)]);
    for (size_t j = 0; j < n; j++) {
      const Tally__ExplainUnit *u = unit_in(d->explain[i], cols[j]->unit);
      if (u == NULL || u->row == NULL)
        continue;
      const Tally__ReportRow *v = u->row;
      int judged = tally_report_unit_judged(w);
      size_t k = judged ? fill_of(v->status) : 0;
      const tally_status_words *uw = tally_report_status(v->status);
      if (v->level && *v->level)
        put_s(b, ws, row, 4 + 2 * (int)j, v->level, b->fill[k]);
      else if (v->has_value)
        put_n(b, ws, row, 4 + 2 * (int)j, v->value, number(b, dec, k));
      else
        put_s(b, ws, row, 4 + 2 * (int)j, NULL, b->fill[k]);
      const char *cmp = u->compared == TALLY__COMPARE__COMPARE_BETTER
                            ? "，显著较好"
                        : u->compared == TALLY__COMPARE__COMPARE_WORSE
                            ? "，显著较差"
                            : "";
      snprintf(status, sizeof status, "%s %s%s", uw->symbol, uw->zh, cmp);
      if (!judged) /* a share of a sum: no status */
        snprintf(status, sizeof status, "总量 share%s", cmp);
      put_s(b, ws, row, 5 + 2 * (int)j, status, b->fill[k]);
    }
  }
  worksheet_set_column(ws, 0, 0, 7, NULL);
  worksheet_set_column(ws, 1, 1, 30, NULL);
  worksheet_set_column(ws, 2, (lxw_col_t)(3 + 2 * n), 10, NULL);
}

static void units_sheet(book *b, const tally_report_doc *d) {
  static const char *const zh[] = {"单位代码", "单位", "指标代码", "指标",
                                   "分子", "分母", "数值", "95%下限",
                                   "95%上限", "状态", "与全区比较", "说明"};
  static const char *const en[] = {"unit code", "unit", "indicator code",
                                   "indicator", "numerator", "denominator",
                                   "value", "95% lower", "95% upper",
                                   "status", "vs the district", "note"};
  const Tally__ReportReply *r = d->report;
  lxw_worksheet *ws = add_sheet(b, "各单位数据");
  if (ws == NULL)
    return;
  page(ws, 1);
  put_s(b, ws, 0, 0, "各单位的数据 Every unit's figures behind each value "
        "(tally explain)", b->title);
  heads(b, ws, 2, zh, en, sizeof zh / sizeof zh[0]);
  int row = 4;
  for (size_t i = 0; i < r->n_rows; i++) {
    const Tally__ExplainReply *x = d->explain[i];
    const Tally__ReportRow *w = r->rows[i];
    for (size_t k = 0; x && k < x->n_units; k++, row++) {
      const Tally__ExplainUnit *u = x->units[k];
      const Tally__ReportRow *v = u->row;
      int dec = (int)w->decimals;
      char status[96], cmp[64];
      put_s(b, ws, row, 0, u->unit, NULL);
      put_s(b, ws, row, 1, u->name_zh, NULL);
      put_s(b, ws, row, 2, w->code, NULL);
      put_s(b, ws, row, 3, w->name_zh, NULL);
      if (v == NULL)
        continue;
      if (v->has_numerator)
        put_n(b, ws, row, 4, v->numerator, b->sum);
      if (v->has_denominator)
        put_n(b, ws, row, 5, v->denominator, b->sum);
      if (v->level && *v->level)
        put_s(b, ws, row, 6, v->level, NULL);
      else if (v->has_value)
        put_n(b, ws, row, 6, v->value, number(b, dec, 0));
      if (v->has_interval && v->has_value) {
        put_n(b, ws, row, 7, v->lower, number(b, dec, 0));
        put_n(b, ws, row, 8, v->upper, number(b, dec, 0));
      }
      const tally_status_words *sw = tally_report_status(v->status);
      snprintf(status, sizeof status, "%s %s %s", sw->symbol, sw->zh, sw->en);
      if (tally_report_unit_judged(w))
        put_s(b, ws, row, 9, status, b->fill[fill_of(v->status)]);
      else /* a share of a sum: no status */
        put_s(b, ws, row, 9, "总量 share", NULL);
      snprintf(cmp, sizeof cmp, "%s%s%s", tally_report_compare_zh(u->compared),
               *tally_report_compare_zh(u->compared) ? " " : "",
               tally_report_compare_en(u->compared));
      put_s(b, ws, row, 10, cmp, NULL);
      put_s(b, ws, row, 11, u->reported ? v->note : "未报送 not reported",
            NULL);
    }
  }
  worksheet_set_column(ws, 0, 0, 12, NULL);
  worksheet_set_column(ws, 1, 1, 12, NULL);
  worksheet_set_column(ws, 2, 2, 8, NULL);
  worksheet_set_column(ws, 3, 3, 30, NULL);
  worksheet_set_column(ws, 4, 9, 12, NULL);
  worksheet_set_column(ws, 10, 10, 16, NULL);
  worksheet_set_column(ws, 11, 11, 40, NULL);
  note_err(b, worksheet_autofilter(ws, 3, 0, (lxw_row_t)(row > 4 ? row - 1 : 4),
                                   11));
}

static void notes_sheet(book *b, const tally_report_doc *d) {
  static const char *const zh[] = {"单位代码", "单位", "已报数据项",
                                   "应报数据项", "及时性与审核",
                                   "迟报天数", "审核意见"};
  static const char *const en[] = {"unit code", "unit", "reported",
                                   "expected", "timeliness",
                                   "days late", "review reason"};
  const Tally__CompletenessReply *c = d->completeness;
  lxw_worksheet *ws = add_sheet(b, "说明");
  if (ws == NULL)
    return;
  page(ws, 0);
  char line[512];
  snprintf(line, sizeof line, "报送与审核情况 Completeness and review (due %s)",
           c->due);
  put_s(b, ws, 0, 0, line, b->title);
  for (size_t i = 0; i < sizeof zh / sizeof zh[0]; i++) {
    put_s(b, ws, 1, (int)i, zh[i], b->head);
    put_s(b, ws, 2, (int)i, en[i], b->head_en);
  }
  int row = 3;
  for (size_t i = 0; i < c->n_units; i++, row++) {
    const Tally__UnitCompleteness *u = c->units[i];
    put_s(b, ws, row, 0, u->unit, NULL);
    put_s(b, ws, row, 1, u->name_zh, NULL);
    put_n(b, ws, row, 2, u->reported, number(b, 0, 0));
    put_n(b, ws, row, 3, u->expected, number(b, 0, 0));
    put_s(b, ws, row, 4, u->timeliness, NULL);
    put_n(b, ws, row, 5, u->days_late, number(b, 0, 0));
    put_s(b, ws, row, 6, u->review ? u->review->reason : "", NULL);
  }
  row++;
  put_s(b, ws, row++, 0, "待下达的目标 Targets the city has not assigned yet",
        b->title);
  int any = 0;
  for (size_t i = 0; d->targets && i < d->targets->n_targets; i++) {
    const Tally__TargetListEntry *t = d->targets->targets[i];
    if (!t->assigned || t->entered)
      continue;
    put_s(b, ws, row, 0, t->indicator, NULL);
    put_n(b, ws, row, 1, t->year, number(b, 0, 0));
    put_s(b, ws, row, 2, t->target, NULL);
    row++;
    any = 1;
  }
  if (!any)
    put_s(b, ws, row++, 0, "无 none", NULL);
  row++;
  put_s(b, ws, row++, 0, "预警及说明 Warnings and their explanations",
        b->title);
  if (d->review == NULL) {
    put_s(b, ws, row++, 0, "本账户无权读取审核队列 this account may not read the "
          "review queue", NULL);
  } else {
    any = 0;
    for (size_t i = 0; i < d->review->n_rows; i++) {
      const Tally__ReviewRow *rr = d->review->rows[i];
      for (size_t k = 0; k < rr->n_warnings; k++, row++) {
        put_s(b, ws, row, 0, rr->unit, NULL);
        put_s(b, ws, row, 1, rr->warnings[k]->rule, NULL);
        put_s(b, ws, row, 2, rr->warnings[k]->message, NULL);
        put_s(b, ws, row, 3, rr->warnings[k]->explanation, NULL);
        any = 1;
      }
    }
    if (!any)
      put_s(b, ws, row++, 0, "无 none", NULL);
  }
  worksheet_set_column(ws, 0, 0, 14, NULL);
  worksheet_set_column(ws, 1, 1, 18, NULL);
  worksheet_set_column(ws, 2, 3, 30, NULL);
  worksheet_set_column(ws, 4, 6, 16, NULL);
}

int tally_report_xlsx_write(const tally_report_doc *d, const char *path,
                            char *err, size_t n) {
  book b = {0};
  b.wb = workbook_new(path);
  if (b.wb == NULL) {
    snprintf(err, n, "cannot make the workbook %s", path);
    return -1;
  }
  lxw_doc_properties props = {0};
  char title[256];
  snprintf(title, sizeof title, "%s %s 年度监测评估报告",
           d->report->unit_name_zh, d->report->period);
  props.title = title;
  props.author = "tally";
  note_err(&b, workbook_set_properties(b.wb, &props));
  formats(&b);
  summary_sheet(&b, d);
  const char *done[16];
  size_t n_done = 0;
  for (size_t i = 0; i < d->report->n_rows && n_done < 16; i++) {
    const char *plan = d->report->rows[i]->plan;
    size_t k = 0;
    while (k < n_done && strcmp(done[k], plan) != 0)
      k++;
    if (k < n_done)
      continue;
    done[n_done++] = plan;
    district_sheet(&b, d, plan);
  }
  matrix_sheet(&b, d);
  units_sheet(&b, d);
  notes_sheet(&b, d);
  lxw_error closed = workbook_close(b.wb);
  if (b.err == LXW_NO_ERROR)
    b.err = closed;
  if (b.err != LXW_NO_ERROR) {
    snprintf(err, n, "cannot write the workbook %s: %s", path,
             lxw_strerror(b.err));
    return -1;
  }
  return 0;
}
