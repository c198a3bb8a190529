/* cmd_indicators.c: report, explain, completeness, catalog, form and
 * target: the indicators and what they are computed from. */
#include "catalog.h"
#include "i18n.h"
#include "catalog_cache.h"
#include "cli.h"
#include "file.h"
#include "figure.h"
#include "form_xlsx.h"
#include "indicator.h"
#include "kind.h"
#include "output.h"
#include "period.h"
#include "report_doc.h"
#include "report_file.h"
#include "review.h"
#include "wire.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char tally_usage_report[] =
    /* xgettext:no-c-format */ N_("usage: tally report --period PERIOD [--unit UNIT] [--plan PLAN]\n"
    "                    [--indicator CODE] [--missing] [--format FMT]\n"
    "                    [--as-approved [--at TIME]] [--output FILE]\n"
    "\n"
    "The indicator report of a period, grouped by plan and category: for each\n"
    "indicator its value, the sums of the raw figures it is computed from\n"
    "(over the units that reported them), how many units those are of how\n"
    "many expected, the change on the period before, the target that applies\n"
    "to the period, and its status: met, not met, on track or off track (a\n"
    "year before the target's: against the path from the baseline to the\n"
    "target), not judged (a target in words, or one the city has not\n"
    "assigned yet), insufficient data (inputs missing: no value is made up),\n"
    "undefined, or population too small (a life table), in Chinese and\n"
    "English. The change is over the units that reported both periods. The\n"
    "notes say what is missing, which units miss a per-unit target, the path,\n"
    "the gap to the target and the change a year still needed. In a\n"
    "scope of more than 64 reporting units the units left out are counted,\n"
    "and named with --missing (a slower walk down the tree).\n"
    "District values come from the sums of the units' figures, never from an\n"
    "average of unit rates. Each value of counts has its 95% confidence\n"
    "interval (Wilson for a percentage, exact Poisson or Byar for a rate,\n"
    "Chiang for a life table), and a change on the period before is marked\n"
    "better or worse when it is more than chance explains. The table and csv\n"
    "print sums exactly and other figures without binary noise; json gives\n"
    "every figure unrounded and, in \"shown\", as the table shows it, and\n"
    "the target as fields.\n"
    "With --as-approved the report is made from each unit's figures as the\n"
    "central office last approved them (tally review approve), not the live\n"
    "ones, whatever was corrected or reopened since (a unit never approved\n"
    "is left out, as a unit that has not reported is); it says when each\n"
    "unit was approved and which of its live figures differ. With --at, from\n"
    "the approvals made by then: what a report published then showed, the\n"
    "same numbers every time it is asked (without --at, a new approval moves\n"
    "them). --at is in local time ($TZ) unless it carries an offset; a day\n"
    "given to it ends at that day's local midnight.\n"
    "With --format html, pdf or xlsx, the annual monitoring report as a file\n"
    "(年度监测评估报告): a summary of the statuses, the district's table by\n"
    "plan and category, a trend chart of each indicator over the years from\n"
    "the plans' base year (one report a year), the units by indicator (one\n"
    "explain an indicator) and the notes: completeness and timeliness,\n"
    "targets the city has not assigned yet, warnings and their explanations\n"
    "(the review queue, for an analyst). html is one self-contained page in\n"
    "Chinese that prints on A4; pdf is that page printed by headless Chromium\n"
    "(apt-get install chromium fonts-noto-cjk); xlsx is a workbook with a\n"
    "sheet per plan, the matrix and every unit's figures.\n"
    "\n"
    "options:\n"
    "  -p, --period PERIOD     2022, 2022Q3 or 2022-07\n"
    "  -u, --unit UNIT         one unit (default: the whole district)\n"
    "      --plan PLAN         one plan: health or plan\n"
    "  -i, --indicator CODE    one indicator, e.g. H02\n"
    "      --missing           name the units left out, in a scope of any size\n"
    "      --as-approved       from the figures as approved (审核通过的数据)\n"
    "      --at TIME           as approved at TIME, local time: 2023-03-01\n"
    "                          (through that day's end), 2023-03-01 08:30[:00];\n"
    "                          or with an offset: 2023-03-01T08:30:00+08:00, Z\n"
    "      --format FMT        table (default), json or csv; html, pdf or xlsx\n"
    "                          (the annual report as a file)\n"
    "  -o, --output FILE       html, pdf, xlsx: write FILE (default: standard\n"
    "                          output, not a terminal for pdf and xlsx)\n"
    "  -s, --server, --timeout as for every command (tally --help)\n"
    "\n"
    "examples:\n"
    "  tally report --period 2022 --format html > 2022.html\n"
    "  tally report --period 2022 --format pdf -o 2022.pdf\n"
    "  tally report --period 2022 --format xlsx -o 2022.xlsx\n");

const char tally_usage_explain[] =
    /* xgettext:no-c-format */ N_("usage: tally explain INDICATOR --period PERIOD [--unit UNIT] [--format FMT]\n"
    "\n"
    "Where a value comes from: the indicator's formula in words, the value\n"
    "for the district (or UNIT), and each reporting unit's own numerator,\n"
    "denominator, value and 95% confidence interval, with the units that\n"
    "have not reported. A unit is better or worse than the district when\n"
    "its interval lies wholly on one side of the district's value.\n"
    "\n"
    "options:\n"
    "  -p, --period PERIOD  2022, 2022Q3 or 2022-07\n"
    "  -u, --unit UNIT      a unit above others (default: the district)\n"
    "      --format FMT     table (default), json or csv\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n");

const char tally_usage_completeness[] =
    N_("usage: tally completeness --period PERIOD [--unit UNIT] [--format FMT]\n"
    "\n"
    "Which units have submitted which data elements for a period: for each\n"
    "reporting unit (and the district office, for what it reports itself)\n"
    "how many of its data elements it has reported, and which are missing.\n"
    "\n"
    "options:\n"
    "  -p, --period PERIOD  2022, 2022Q3 or 2022-07\n"
    "  -u, --unit UNIT      only the units under UNIT\n"
    "      --format FMT     table (default), json or csv\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n");

const char tally_usage_catalog[] =
    N_("usage: tally catalog [--elements] [--format FMT]\n"
    "\n"
    "The catalog the server runs: its indicators (code, names, unit, kind,\n"
    "the data elements it is computed from, direction, targets), or with\n"
    "--elements the data elements the units report (code, names, unit of\n"
    "measure, type, who reports it).\n"
    "\n"
    "options:\n"
    "      --elements       list the data elements instead\n"
    "      --format FMT     table (default), json (the catalog file itself)\n"
    "                       or csv\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n");

const char tally_usage_units[] =
    N_("usage: tally units [--format FMT]\n"
    "\n"
    "The units of the server's catalog, in their tree (the district, then\n"
    "the units within it): each one's code (what --unit takes), Chinese and\n"
    "English names, level, the unit it is within, and whether it reports\n"
    "its own figures or adds up those of the units within it.\n"
    "\n"
    "options:\n"
    "      --format FMT     table (default), json or csv\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n");

const char tally_usage_form[] =
    N_("usage: tally form --unit UNIT --period PERIOD [--format csv|xlsx]\n"
    "                  [--output FILE]\n"
    "\n"
    "Prints the blank CSV form a unit fills in: one row per data element it\n"
    "reports, each below a comment with the element's Chinese and English\n"
    "names and unit of measure. Fill in the values (leave a row blank when a\n"
    "figure is not known: it is then not reported) and send the file with\n"
    "'tally submit'. Status elements list their levels in the comment.\n"
    "\n"
    "--format xlsx writes it as an Excel workbook instead (Excel, WPS and\n"
    "LibreOffice open it): the unit and period at the top, then a row per\n"
    "data element with its code, names, unit of measure and last year's\n"
    "figure (as the server holds it), and a yellow cell to fill in, which\n"
    "takes only what the element takes (a whole number of 0 or more for a\n"
    "count); the rest of the sheet is locked (Review > Unprotect Sheet, no\n"
    "password, lifts it). Save it as .xlsx and send it with 'tally submit\n"
    "--file FILE.xlsx'.\n"
    "\n"
    "options:\n"
    "  -u, --unit UNIT      the unit\n"
    "  -p, --period PERIOD  the period\n"
    "      --format FMT     csv (default) or xlsx\n"
    "  -o, --output FILE    write the form to FILE (default: standard output,\n"
    "                       which must not be a terminal for xlsx)\n"
    "\n"
    "example:\n"
    "  tally form --unit wenchang --period 2022 > wenchang-2022.csv\n"
    "  tally form --unit wenchang --period 2022 --format xlsx -o wenchang-2022.xlsx\n");

const char tally_usage_target[] =
    N_("usage: tally target list [--format FMT]\n"
    "       tally target set INDICATOR --year YEAR --value [OP]NUMBER\n"
    "                        [--tolerance T] [--text TEXT]\n"
    "\n"
    "list: every target of the catalog, by indicator and year, and where it\n"
    "came from: the plan, or entered on the server.\n"
    "\n"
    "set: enters a target that the city assigns later (the plan says\n"
    "完成市下达任务), e.g. tally target set P14 --year 2025 --value \">=13.5\".\n"
    "OP is >=, >, <=, <, about (within --tolerance), about<= (at most about:\n"
    "<= value + tolerance) or about>=; the three about need --tolerance;\n"
    "without OP the\n"
    "indicator's direction decides (>= when higher is better, else <=). The\n"
    "catalog file is not edited; entering again replaces the entry.\n"
    "\n"
    "options:\n"
    "      --year YEAR      the target's year (the plan's, e.g. 2025)\n"
    "      --value V        [OP]NUMBER\n"
    "      --tolerance T    for about, about<= and about>=\n"
    "      --text TEXT      the wording of the assignment\n"
    "      --format FMT     table (default), json or csv (list)\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n");

/* A status in English and in Chinese (report_doc.c has their table). */
static const char *status_text(Tally__Status s) {
  return tally_report_status(s)->en;
}

static const char *status_zh(Tally__Status s) {
  return tally_report_status(s)->zh;
}

/* Better, worse or similar beyond chance; "" when not compared. */
static const char *compare_text(Tally__Compare c) {
  return tally_report_compare_en(c);
}

static json_t *compare_json(Tally__Compare c) {
  return *compare_text(c) ? json_string(compare_text(c)) : json_null();
}

/* A report table's status: in Chinese, then in English. */
static const char *status_words(Tally__Status s, char *buf, size_t n) {
  snprintf(buf, n, "%s %s", status_zh(s), status_text(s));
  return buf;
}

/* The parsing every command here does: the options takes names (an
 * option meant for another of these commands is refused, not ignored)
 * and the common ones. Returns 0 to go on, -1 after printing the help,
 * else the exit status. */
typedef struct {
  const char *period, *unit, *plan, *indicator, *year, *value, *tolerance,
      *text, *at, *output;
  int elements;
  int missing;
  int as_approved;
} opts;

static int parse(int argc, char **argv, tally_cli *c, const char *command,
                 const char *usage, const char *takes, opts *o) {
  memset(o, 0, sizeof *o);
  const tally_cli_opt every[] = {{"period", 'p', &o->period, NULL, NULL},
                               {"unit", 'u', &o->unit, NULL, NULL},
                               {"indicator", 'i', &o->indicator, NULL, NULL},
                               {"plan", 0, &o->plan, NULL, NULL},
                               {"elements", 0, NULL, &o->elements, NULL},
                               {"missing", 0, NULL, &o->missing, NULL},
                               {"as-approved", 0, NULL, &o->as_approved, NULL},
                               {"at", 0, &o->at, NULL, NULL},
                               {"year", 0, &o->year, NULL, NULL},
                               {"value", 0, &o->value, NULL, NULL},
                               {"tolerance", 0, &o->tolerance, NULL, NULL},
                               {"text", 0, &o->text, NULL, NULL},
                               {"output", 'o', &o->output, NULL, NULL},
                               {NULL, 0, NULL, NULL, NULL}};
  tally_cli_opt own[sizeof every / sizeof every[0]];
  int with_format = tally_cli_pick(every, takes, own);
  return tally_cli_parse(argc, argv, c, command, usage, own, with_format);
}

/* A sum for a table: whole numbers in full, others to eight digits. */
static void sum_text(char *buf, size_t n, double v) {
  if (v == floor(v) && fabs(v) < 1e15)
    snprintf(buf, n, "%.0f", v);
  else
    snprintf(buf, n, "%.8g", v);
}

/* Formats a number with d decimals ("" when absent). */
static void fixed(char *buf, size_t n, int has, double v, int d) {
  if (has)
    snprintf(buf, n, "%.*f", d, v);
  else
    buf[0] = 0;
}

static json_t *maybe(int has, double v) {
  return has ? json_real(v) : json_null();
}

static void row_json_track(json_t *o, const Tally__ReportRow *w);

static json_t *row_json(const Tally__ReportRow *w) {
  json_t *o = json_pack(
      "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:i, s:i, "
      "s:o, s:o, s:s, s:s, s:o, s:o, s:s, s:s}",
      "code", w->code, "name_zh", w->name_zh, "name_en", w->name_en, "unit",
      w->unit, "plan", w->plan, "category_zh", w->category_zh, "category_en",
      w->category_en, "kind", w->kind, "value", maybe(w->has_value, w->value),
      "numerator", maybe(w->has_numerator, w->numerator), "denominator",
      maybe(w->has_denominator, w->denominator), "units_counted",
      (int)w->units_counted, "units_expected", (int)w->units_expected,
      "previous", maybe(w->has_previous, w->previous), "change",
      maybe(w->has_value && w->has_previous, w->value - w->previous), "target",
      w->target, "status", status_text(w->status), "gap",
      maybe(w->has_gap, w->gap), "needed_per_year",
      maybe(w->has_needed, w->needed_per_year), "level", w->level, "note",
      w->note);
  /* The 95 % interval, and the change against chance. */
  json_object_set_new(o, "lower", maybe(w->has_interval, w->lower));
  json_object_set_new(o, "upper", maybe(w->has_interval, w->upper));
  json_object_set_new(o, "interval_method",
                      w->has_interval ? json_string(w->interval_method)
                                      : json_null());
  json_object_set_new(o, "change_compared", compare_json(w->change_compared));
  row_json_track(o, w);
  return o;
}

/* A figure as the table shows it: "" when absent. */
static void shown_fixed(char *buf, size_t n, int has, double v, int d,
                        int sign) {
  if (has)
    snprintf(buf, n, sign ? "%+.*f" : "%.*f", d, v);
  else
    buf[0] = 0;
}

/* What the definitions of issue 14 add to a row's JSON: the change over
 * the units in both periods, the target as fields, the path, and every
 * figure as the table shows it beside its unrounded number. */
static void row_json_track(json_t *o, const Tally__ReportRow *w) {
  int d = (int)w->decimals;
  char value[64], change[64], gap[64], need[64], prev[64];
  json_object_set_new(o, "change", maybe(w->has_change, w->change));
  json_object_set_new(o, "units_change", json_integer(w->units_change));
  json_object_set_new(o, "decimals", json_integer(d));
  json_object_set_new(o, "status_zh", json_string(status_zh(w->status)));
  json_object_set_new(o, "average_growth",
                      maybe(w->has_average, w->average));
  json_object_set_new(o, "average_from", w->has_average
                                             ? json_integer(w->average_from)
                                             : json_null());
  json_t *target = json_null();
  const Tally__TargetFields *f = w->target_fields;
  if (f)
    target = json_pack("{s:i, s:s, s:o, s:o, s:o, s:o}", "year", f->year,
                       "comparator", f->comparator, "value",
                       maybe(f->has_value, f->value), "tolerance",
                       maybe(f->has_tolerance, f->tolerance), "text",
                       *f->text ? json_string(f->text) : json_null(), "level",
                       *f->level ? json_string(f->level) : json_null());
  json_object_set_new(o, "target_fields", target);
  json_t *path = json_null();
  if (w->has_path)
    path = json_pack("{s:i, s:f, s:s, s:f}", "from_year", w->path_from_year,
                     "from", w->path_from, "shape",
                     w->path_rate ? "constant rate" : "straight line",
                     "value", w->path);
  else if (w->status == TALLY__STATUS__STATUS_ON_TRACK ||
           w->status == TALLY__STATUS__STATUS_OFF_TRACK)
    path = json_pack("{s:s, s:f}", "shape", "the target's rate", "value",
                     w->path);
  json_object_set_new(o, "path", path);
  json_object_set_new(o, "needed_rate",
                      maybe(w->has_needed_rate, w->needed_rate));
  json_object_set_new(o, "unit_zh", json_string(w->unit_zh));
  if (w->level && *w->level)
    snprintf(value, sizeof value, "%s", w->level);
  else
    shown_fixed(value, sizeof value, w->has_value, w->value, d, 0);
  shown_fixed(prev, sizeof prev, w->has_previous, w->previous, d, 0);
  shown_fixed(change, sizeof change, w->has_change, w->change, d, 1);
  shown_fixed(gap, sizeof gap, w->has_gap, w->gap, d, 1);
  shown_fixed(need, sizeof need, w->has_needed, w->needed_per_year, d, 1);
  json_object_set_new(
      o, "shown",
      json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "value", value,
                "numerator", w->numerator_text ? w->numerator_text : "",
                "denominator", w->denominator_text ? w->denominator_text : "",
                "previous", prev, "change", change, "gap", gap,
                "needed_per_year", need));
}

static void dump(json_t *doc) {
  json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
  fputc('\n', stdout);
  json_decref(doc);
}

static const char *const report_cols[] = {
    "code", "indicator", "unit", "value", "95% CI", "numerator",
    "denominator", "units", "change", "target", "gap", "status"};
static const int report_right[] = {0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0};
#define REPORT_COLS (sizeof report_cols / sizeof report_cols[0])

static const char *const csv_cols[] = {
    "code", "name_zh", "name_en", "unit", "plan", "category_zh",
    "category_en", "kind",
    "value", "numerator", "denominator", "units_counted", "units_expected",
    "previous", "change", "target", "status", "gap", "needed_per_year",
    "level", "note", "lower", "upper", "interval_method", "change_compared",
    "units_change", "status_zh", "average_growth", "needed_rate", "unit_zh"};
#define CSV_COLS (sizeof csv_cols / sizeof csv_cols[0])

/* Names longer than this are cut in tables (in full in json and csv). */
#define NAME_COLUMNS 28

/* The 95 % interval as "lo-hi" with d decimals, "" without one. */
static void interval_text(char *buf, size_t n, const Tally__ReportRow *w,
                          int d) {
  if (w->has_interval && w->has_value)
    snprintf(buf, n, "%.*f-%.*f", d, w->lower, d, w->upper);
  else
    buf[0] = 0;
}

/* Adds one row to a report table (table or csv columns). */
/* A sum as the server wrote it, with the precision it has (an older
 * server: from the number). */
static void sum_cell(char *buf, size_t n, int has, double v, const char *text,
                     int csv) {
  buf[0] = 0;
  if (has && text && *text)
    snprintf(buf, n, "%s", text);
  else if (has)
    (csv ? tally_cli_number : sum_text)(buf, n, v);
}

/* A computed figure for csv: to 12 digits of its scale ("" when
 * absent): no binary noise (figure.h). */
static void computed(char *buf, size_t n, int has, double v, double scale) {
  if (has)
    tally_figure_computed(buf, n, v, scale);
  else
    buf[0] = 0;
}

/* Adds one row to a report table (table or csv columns). */
static void add_row(tally_table *t, const Tally__ReportRow *w, int csv) {
  char value[64], num[64] = "", den[64] = "", units[32], counted[16],
      expected[16], prev[64], change[64], gap[64], need[64], both[16],
      average[64], rate[64], status[64];
  int d = (int)w->decimals;
  double target = w->target_fields ? w->target_fields->value : 0;
  if (csv) {
    computed(value, sizeof value, w->has_value, w->value, 0);
  } else if (w->level && *w->level) {
    snprintf(value, sizeof value, "%s", w->level);
  } else {
    fixed(value, sizeof value, w->has_value, w->value, d);
  }
  sum_cell(num, sizeof num, w->has_numerator, w->numerator, w->numerator_text,
           csv);
  sum_cell(den, sizeof den, w->has_denominator, w->denominator,
           w->denominator_text, csv);
  snprintf(units, sizeof units, "%u/%u", w->units_counted, w->units_expected);
  snprintf(counted, sizeof counted, "%u", w->units_counted);
  snprintf(expected, sizeof expected, "%u", w->units_expected);
  if (csv) {
    char lower[64], upper[64];
    double judged = w->gap + target;
    computed(prev, sizeof prev, w->has_previous, w->previous, 0);
    computed(change, sizeof change, w->has_change, w->change,
             fmax(fabs(w->previous), fabs(w->previous + w->change)));
    computed(gap, sizeof gap, w->has_gap, w->gap,
             fmax(fabs(judged), fabs(target)));
    computed(need, sizeof need, w->has_needed, w->needed_per_year,
             fmax(fabs(judged), fabs(target)));
    computed(average, sizeof average, w->has_average, w->average, 0);
    computed(rate, sizeof rate, w->has_needed_rate, w->needed_rate, 0);
    snprintf(both, sizeof both, "%u", w->units_change);
    computed(lower, sizeof lower, w->has_interval, w->lower, 0);
    computed(upper, sizeof upper, w->has_interval, w->upper, 0);
    const char *row[CSV_COLS] = {
        w->code, w->name_zh, w->name_en, w->unit, w->plan, w->category_zh,
        w->category_en, w->kind, value, num, den, counted, expected, prev,
        change, w->target, status_text(w->status), gap, need, w->level,
        w->note, lower, upper, w->interval_method,
        compare_text(w->change_compared), both, status_zh(w->status), average,
        rate, w->unit_zh};
    tally_table_add(t, row);
    return;
  }
  fixed(prev, sizeof prev, w->has_previous, w->previous, d);
  shown_fixed(change, sizeof change, w->has_change, w->change, d, 1);
  if (w->has_change && w->units_change < w->units_counted) {
    size_t len = strlen(change); /* over fewer units than the value */
    snprintf(change + len, sizeof change - len, " (%u)", w->units_change);
  }
  /* A change more than chance explains says which way it went. */
  Tally__Compare cc = w->change_compared;
  if (w->has_change && (cc == TALLY__COMPARE__COMPARE_BETTER ||
                        cc == TALLY__COMPARE__COMPARE_WORSE)) {
    size_t len = strlen(change);
    snprintf(change + len, sizeof change - len, " %s", compare_text(cc));
  }
  char ci[64];
  interval_text(ci, sizeof ci, w, d);
  shown_fixed(gap, sizeof gap, w->has_gap, w->gap, d, 1);
  char name[128];
  tally_display_cut(w->name_zh, NAME_COLUMNS, name, sizeof name);
  const char *row[] = {w->code, name,   w->unit,   value,
                       ci,      num,    den,       units,
                       change,  w->target, gap,
                       status_words(w->status, status, sizeof status)};
  tally_table_add(t, row);
}

/* The notes under a report table: what is missing, gaps, units. */
static void print_notes(Tally__ReportRow **rows, size_t n) {
  int first = 1;
  for (size_t i = 0; i < n; i++) {
    const Tally__ReportRow *w = rows[i];
    char extra[512] = "";
    int d = (int)w->decimals;
    const Tally__TargetFields *f = w->target_fields;
    size_t len;
#define SEP (*w->note || *extra ? "; " : "")
    if (w->has_average) {
      len = strlen(extra);
      snprintf(extra + len, sizeof extra - len,
               "%s年均增长 average annual growth since %d: %.2f%%", SEP,
               w->average_from, w->average);
    }
    if (w->has_path && f) {
      len = strlen(extra);
      snprintf(extra + len, sizeof extra - len,
               "%spath from %.*f (%d) to the target (%d) %s: %.*f for this "
               "year", SEP, d, w->path_from, w->path_from_year, f->year,
               w->path_rate ? "at a constant rate" : "in a straight line", d,
               w->path);
    }
    if (w->has_needed) {
      len = strlen(extra);
      snprintf(extra + len, sizeof extra - len,
               "%s%+.*f a year needed to reach the target", SEP, d,
               w->needed_per_year);
    }
    if (w->has_needed_rate) {
      len = strlen(extra);
      snprintf(extra + len, sizeof extra - len,
               "%s%s%+.2f%% a year", SEP, w->has_needed ? "or " : "",
               w->needed_rate);
      if (!w->has_needed) {
        len = strlen(extra);
        snprintf(extra + len, sizeof extra - len, " needed to reach the "
                 "target");
      }
    }
#undef SEP
    if (!*w->note && !*extra)
      continue;
    printf("%s  %s: %s%s\n", first ? "notes:\n" : "", w->code, w->note, extra);
    first = 0;
  }
}

static json_t *approved_json(const Tally__ApprovedUnit *u) {
  char review[400];
  json_t *diff = json_array();
  for (size_t i = 0; i < u->n_differences; i++) {
    const Tally__FigureDifference *d = u->differences[i];
    json_array_append_new(diff, json_pack("{s:s, s:o, s:o}", "element",
                                          d->element, "approved",
                                          maybe(d->has_approved, d->approved),
                                          "live", maybe(d->has_live, d->live)));
  }
  tally_review_text_local(u->review, review, sizeof review);
  return json_pack("{s:s, s:I, s:s, s:I, s:I, s:s, s:o}", "unit", u->unit,
                   "approved_unix", (json_int_t)u->approved_unix,
                   "account_name", u->account_name, "revision",
                   (json_int_t)u->revision, "live_revision",
                   (json_int_t)u->live_revision, "review", review,
                   "differences", diff);
}

/* "1,255" or "(none)": one side of a figure's difference. */
static void side_text(char *buf, size_t n, int has, double v) {
  if (has)
    tally_cli_number(buf, n, v);
  else
    snprintf(buf, n, "(none)");
}

/* Which units' approved figures an as-approved report is made from. */
static void print_approved(const Tally__ReportReply *r) {
  char when[32];
  if (r->at_unix) {
    tally_cli_time(when, sizeof when, r->at_unix);
    printf("按审核通过的数据 as approved at %s: the figures of %u of %u "
           "units' reports as last approved by then\n", when,
           r->units_approved, r->units_reporting);
  } else {
    printf("按审核通过的数据 as approved: the figures of %u of %u units' "
           "reports as last approved\n", r->units_approved,
           r->units_reporting);
  }
  for (size_t i = 0; i < r->n_approved; i++) {
    const Tally__ApprovedUnit *u = r->approved[i];
    char now[400];
    tally_cli_time(when, sizeof when, u->approved_unix);
    tally_review_text_local(u->review, now, sizeof now);
    printf("  %s: approved on %s by %s at revision %llu", u->unit, when,
           u->account_name, (unsigned long long)u->revision);
    if (u->review && u->review->state != TALLY__REVIEW_STATE__REVIEW_APPROVED)
      printf("; now %s", now);
    else if (u->review && u->review->time_unix != u->approved_unix)
      printf("; approved again since");
    if (u->live_revision != u->revision)
      printf("; live revision %llu", (unsigned long long)u->live_revision);
    printf("\n");
    for (size_t k = 0; k < u->n_differences; k++) {
      const Tally__FigureDifference *d = u->differences[k];
      char a[32], l[32];
      side_text(a, sizeof a, d->has_approved, d->approved);
      side_text(l, sizeof l, d->has_live, d->live);
      printf("    %s: approved %s, live %s\n", d->element, a, l);
    }
  }
  if (r->units_approved < r->units_reporting)
    printf("Units not approved by then are left out of the sums, as units "
           "that have not reported are.\n");
}

static void print_report(const Tally__ReportReply *r, enum tally_format fmt) {
  if (fmt == FORMAT_JSON) {
    json_t *rows = json_array();
    for (size_t i = 0; i < r->n_rows; i++)
      json_array_append_new(rows, row_json(r->rows[i]));
    json_t *lock = json_null();
    if (r->lock)
      lock = json_pack("{s:I, s:I, s:s, s:s}", "locked_unix",
                       (json_int_t)r->lock->locked_unix, "account_id",
                       (json_int_t)r->lock->account_id, "account_name",
                       r->lock->account_name, "text", r->lock->text);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:o, s:i, s:i, s:o}",
                            "period", r->period, "unit", r->unit,
                            "unit_name_zh", r->unit_name_zh, "unit_name_en",
                            r->unit_name_en, "locked", lock,
                            "units_reporting", (int)r->units_reporting,
                            "units_approved", (int)r->units_approved,
                            "indicators", rows);
    if (doc && r->as_approved) {
      json_t *approved = json_array();
      for (size_t i = 0; i < r->n_approved; i++)
        json_array_append_new(approved, approved_json(r->approved[i]));
      json_object_set_new(doc, "as_approved", json_true());
      json_object_set_new(doc, "at_unix",
                          r->at_unix ? json_integer(r->at_unix) : json_null());
      json_object_set_new(doc, "approved", approved);
    }
    dump(doc);
    return;
  }
  if (fmt == FORMAT_CSV) {
    tally_table *t = tally_table_new(CSV_COLS, csv_cols, NULL);
    for (size_t i = 0; t && i < r->n_rows; i++)
      add_row(t, r->rows[i], 1);
    if (t)
      tally_table_print_csv(t, stdout);
    tally_table_free(t);
    return;
  }
  printf("%s %s: indicators for %s\n", r->unit_name_zh, r->unit_name_en,
         r->period);
  if (r->as_approved)
    print_approved(r);
  else if (r->units_approved)
    printf("已审核 approved by the central office: %u of %u units' reports\n",
           r->units_approved, r->units_reporting);
  if (r->lock) {
    char when[32] = "(unknown)";
    if (r->lock->locked_unix) /* 0: an unreadable record */
      tally_cli_time(when, sizeof when, r->lock->locked_unix);
    printf("%s's figures approved: locked on %s by %s%s%s\n",
           r->period, when, r->lock->account_name,
           *r->lock->text ? ": " : "", r->lock->text);
  }
  /* One table per plan and category, in catalog order. */
  for (size_t i = 0; i < r->n_rows;) {
    const Tally__ReportRow *head = r->rows[i];
    size_t j = i;
    while (j < r->n_rows && strcmp(r->rows[j]->plan, head->plan) == 0 &&
           strcmp(r->rows[j]->category_zh, head->category_zh) == 0)
      j++;
    printf("\n[%s]%s%s%s%s\n", head->plan, *head->category_zh ? " " : "",
           head->category_zh, *head->category_en ? " " : "",
           head->category_en);
    tally_table *t = tally_table_new(REPORT_COLS, report_cols, report_right);
    for (size_t k = i; t && k < j; k++)
      add_row(t, r->rows[k], 0);
    if (t)
      tally_table_print(t, stdout);
    tally_table_free(t);
    i = j;
  }
  printf("\n");
  print_notes(r->rows, r->n_rows);
  printf("\nunits: reporting units counted / expected. Values are computed "
         "from the sums\nof the units' raw figures, never from unit rates. "
         "95%% CI: the value's confidence\ninterval (Wilson for a %%, "
         "Byar or exact Poisson for a rate, Chiang for a life\ntable); a "
         "change marked better or worse is more than chance explains.\n"
         "change: on the period before, over the units counted in both "
         "periods\n(how many, in brackets, when fewer). Before a target's "
         "year: on track or off\ntrack against the path to it.\n");
}

int tally_cmd_report(int argc, char **argv, tally_cli *c) {
  opts o;
  int rc = parse(argc, argv, c, "report", tally_usage_report,
                 "period unit plan indicator missing as-approved at format "
                 "files output",
                 &o);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if ((rc = tally_cli_no_operands(argc, argv, "report")) != 0)
    return rc;
  if ((rc = tally_cli_need_period(o.period, "report")) != 0)
    return rc;
  int64_t at = 0;
  if (o.at && !o.as_approved) {
    fprintf(stderr, _("tally report: --at needs --as-approved (a report as "
            "approved at a time; the live figures have no past here: see "
            "tally history)\n"));
    return EXIT_USAGE;
  }
  if (o.at && tally_cli_parse_time("at", o.at, TALLY_WHEN_DAY_END, &at) != 0)
    return EXIT_USAGE;
  int file = c->format >= FORMAT_HTML;
  if (o.output && !file) {
    fprintf(stderr, _("tally report: --output is for --format html, pdf or "
            "xlsx (redirect the others)\n"));
    return EXIT_USAGE;
  }
  if (file && o.as_approved) {
    fprintf(stderr, _("tally report: --as-approved is not for html, pdf or "
            "xlsx yet: the unit matrix (tally explain) reads the live "
            "figures only\n"));
    return EXIT_USAGE;
  }
  Tally__ReportRequest q = TALLY__REPORT_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  q.period = (char *)o.period;
  q.unit = (char *)(o.unit ? o.unit : "");
  q.indicator = (char *)(o.indicator ? o.indicator : "");
  q.plan = (char *)(o.plan ? o.plan : "");
  q.name_missing = o.missing;
  q.as_approved = o.as_approved;
  q.at_unix = at;
  if (file)
    return tally_report_file(c, &q, o.output);
  req.body_case = TALLY__ENVELOPE__BODY_REPORT;
  req.report = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_REPORT_REPLY,
                           &reply)) == 0)
    print_report(reply->report_reply, c->format);
  tally_wire_free(reply);
  return rc;
}

int tally_cmd_explain(int argc, char **argv, tally_cli *c) {
  opts o;
  int rc = parse(argc, argv, c, "explain", tally_usage_explain,
                 "period unit format", &o);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if (optind + 1 != argc) {
    fputs(_("tally explain: give one INDICATOR\nTry 'tally help explain'.\n"),
          stderr);
    return EXIT_USAGE;
  }
  if ((rc = tally_cli_need_period(o.period, "explain")) != 0)
    return rc;
  Tally__ExplainRequest q = TALLY__EXPLAIN_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  q.indicator = argv[optind];
  q.period = (char *)o.period;
  q.unit = (char *)(o.unit ? o.unit : "");
  req.body_case = TALLY__ENVELOPE__BODY_EXPLAIN;
  req.explain = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_EXPLAIN_REPLY,
                           &reply)) != 0)
    goto out;
  const Tally__ExplainReply *x = reply->explain_reply;
  const Tally__ReportRow *tot = x->total;

  if (c->format == FORMAT_JSON) {
    json_t *units = json_array();
    for (size_t i = 0; i < x->n_units; i++)
      json_array_append_new(
          units, json_pack("{s:s, s:s, s:s, s:b, s:o, s:o}", "unit",
                           x->units[i]->unit, "name_zh", x->units[i]->name_zh,
                           "name_en", x->units[i]->name_en, "reported",
                           x->units[i]->reported, "figures",
                           row_json(x->units[i]->row), "compared",
                           compare_json(x->units[i]->compared)));
    dump(json_pack("{s:s, s:s, s:s, s:o, s:o}", "period", x->period, "unit",
                   x->unit, "formula", x->formula, "total", row_json(tot),
                   "units", units));
    goto out;
  }
  int csv = c->format == FORMAT_CSV;
  static const char *const cols[] = {"unit",   "name",     "numerator",
                                     "denominator", "value", "95% CI",
                                     "vs scope", "note"};
  static const char *const csv_cols9[] = {
      "unit",  "name",  "numerator", "denominator", "value",
      "lower", "upper", "compared",  "note"};
  static const int right[] = {0, 0, 1, 1, 1, 1, 0, 0};
  static const int right9[] = {0, 0, 1, 1, 1, 1, 1, 0, 0};
  tally_table *t = csv ? tally_table_new(9, csv_cols9, right9)
                       : tally_table_new(8, cols, right);
  for (size_t i = 0; t && i < x->n_units; i++) {
    const Tally__ReportRow *w = x->units[i]->row;
    char num[64] = "", den[64] = "", value[64];
    sum_cell(num, sizeof num, w->has_numerator, w->numerator,
             w->numerator_text, 1);
    sum_cell(den, sizeof den, w->has_denominator, w->denominator,
             w->denominator_text, 1);
    if (w->level && *w->level)
      snprintf(value, sizeof value, "%s", w->level);
    else if (c->format == FORMAT_CSV)
      computed(value, sizeof value, w->has_value, w->value, 0);
    else
      fixed(value, sizeof value, w->has_value, w->value, (int)w->decimals);
    const char *note =
        x->units[i]->reported ? w->note : "not counted: inputs missing";
    const char *vs = compare_text(x->units[i]->compared);
    if (csv) {
      char lower[64], upper[64];
      computed(lower, sizeof lower, w->has_interval, w->lower, 0);
      computed(upper, sizeof upper, w->has_interval, w->upper, 0);
      const char *row[] = {x->units[i]->unit, x->units[i]->name_zh, num, den,
                           value, lower, upper, vs, note};
      tally_table_add(t, row);
    } else {
      char ci[64];
      interval_text(ci, sizeof ci, w, (int)w->decimals);
      const char *row[] = {x->units[i]->unit, x->units[i]->name_zh, num, den,
                           value, ci, vs, note};
      tally_table_add(t, row);
    }
  }
  if (t && c->format == FORMAT_CSV) {
    tally_table_print_csv(t, stdout);
  } else if (t) {
    char value[64], num[64] = "", den[64] = "";
    if (tot->level && *tot->level)
      snprintf(value, sizeof value, "%s", tot->level);
    else
      fixed(value, sizeof value, tot->has_value, tot->value,
            (int)tot->decimals);
    sum_cell(num, sizeof num, tot->has_numerator, tot->numerator,
             tot->numerator_text, 1);
    sum_cell(den, sizeof den, tot->has_denominator, tot->denominator,
             tot->denominator_text, 1);
    printf("%s %s (%s), %s, %s\n", tot->code, tot->name_zh, tot->name_en,
           x->unit, x->period);
    printf("formula: %s\n", x->formula);
    printf("value: %s%s%s (numerator %s, denominator %s; %u of %u units); "
           "target %s: %s\n",
           *value ? value : "none", *value ? " " : "", *value ? tot->unit : "",
           *num ? num : "-",
           *den ? den : "-", tot->units_counted, tot->units_expected,
           *tot->target ? tot->target : "none", status_text(tot->status));
    if (tot->has_interval && tot->has_value) {
      char ci[64];
      interval_text(ci, sizeof ci, tot, (int)tot->decimals);
      printf("95%% confidence interval: %s (%s)\n", ci, tot->interval_method);
    }
    if (*tot->note)
      printf("note: %s\n", tot->note);
    printf("\n");
    tally_table_print(t, stdout);
    if (tot->has_interval)
      printf("\nvs scope: a unit is better or worse than %s when its 95%% "
             "interval lies\nwholly on one side of %s's value.\n",
             x->unit, x->unit);
  }
  tally_table_free(t);
out:
  tally_wire_free(reply);
  return rc;
}

int tally_cmd_completeness(int argc, char **argv, tally_cli *c) {
  opts o;
  int rc = parse(argc, argv, c, "completeness", tally_usage_completeness,
                 "period unit format", &o);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if ((rc = tally_cli_no_operands(argc, argv, "completeness")) != 0)
    return rc;
  if ((rc = tally_cli_need_period(o.period, "completeness")) != 0)
    return rc;
  Tally__CompletenessRequest q = TALLY__COMPLETENESS_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  q.period = (char *)o.period;
  q.unit = (char *)(o.unit ? o.unit : "");
  req.body_case = TALLY__ENVELOPE__BODY_COMPLETENESS;
  req.completeness = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_COMPLETENESS_REPLY,
                           &reply)) != 0)
    goto out;
  const Tally__CompletenessReply *x = reply->completeness_reply;

  if (c->format == FORMAT_JSON) {
    json_t *units = json_array();
    for (size_t i = 0; i < x->n_units; i++) {
      const Tally__UnitCompleteness *u = x->units[i];
      json_t *missing = json_array();
      for (size_t k = 0; k < u->n_missing; k++)
        json_array_append_new(missing, json_string(u->missing[k]));
      json_array_append_new(
          units, json_pack("{s:s, s:s, s:s, s:i, s:i, s:o, s:s, s:i, s:I}",
                           "unit", u->unit, "name_zh", u->name_zh, "name_en",
                           u->name_en, "expected", (int)u->expected,
                           "reported", (int)u->reported, "missing", missing,
                           "timeliness", u->timeliness, "days_late",
                           (int)u->days_late, "first_unix",
                           (json_int_t)u->first_unix));
    }
    dump(json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:o}", "period",
                   x->period, "unit", x->unit, "due", x->due, "complete",
                   (int)x->complete, "partial", (int)x->partial, "none",
                   (int)x->none, "approved", (int)x->approved, "units",
                   units));
    goto out;
  }
  static const char *const cols[] = {"unit", "name", "reported", "missing",
                                     "first reported", "timeliness",
                                     NULL};
  static const int right[] = {0, 0, 1, 0, 0, 0};
  tally_table *t = tally_table_new(6, cols, right);
  for (size_t i = 0; t && i < x->n_units; i++) {
    const Tally__UnitCompleteness *u = x->units[i];
    char count[32], missing[512] = "";
    snprintf(count, sizeof count, "%u/%u", u->reported, u->expected);
    for (size_t k = 0; k < u->n_missing; k++) {
      size_t len = strlen(missing);
      if (c->format == FORMAT_TABLE && k == 6) {
        snprintf(missing + len, sizeof missing - len, " and %zu more",
                 u->n_missing - k);
        break;
      }
      snprintf(missing + len, sizeof missing - len, "%s%s", k ? " " : "",
               u->missing[k]);
    }
    char first[32] = "", when[48];
    if (u->first_unix)
      tally_cli_time(first, sizeof first, u->first_unix);
    if (u->days_late > 0 && strcmp(u->timeliness, "late") == 0)
      snprintf(when, sizeof when, "late by %d day%s", u->days_late,
               u->days_late == 1 ? "" : "s");
    else if (u->days_late > 0)
      snprintf(when, sizeof when, "%s (reported %d day%s late)",
               u->timeliness, u->days_late, u->days_late == 1 ? "" : "s");
    else
      snprintf(when, sizeof when, "%s", u->timeliness);
    const char *row[] = {u->unit, u->name_zh, count, missing, first, when};
    tally_table_add(t, row);
  }
  if (t && c->format == FORMAT_CSV) {
    tally_table_print_csv(t, stdout);
  } else if (t) {
    printf("%s: %u unit%s complete, %u partial, %u with nothing; %u "
           "approved; due %s\n\n", x->period, x->complete,
           x->complete == 1 ? "" : "s", x->partial, x->none, x->approved,
           x->due);
    tally_table_print(t, stdout);
  }
  tally_table_free(t);
out:
  tally_wire_free(reply);
  return rc;
}

/* Fetches the server's catalog and loads it. */
static const char *element_type(const tally_element *e) {
  return e->type == TALLY_ELEMENT_COUNT    ? "count"
         : e->type == TALLY_ELEMENT_AMOUNT ? "amount"
                                           : "status";
}

/* The data elements an indicator reads, as "a, b". */
static void inputs_text(const tally_catalog *cat, const tally_indicator *in,
                        char *buf, size_t n) {
  int el[] = {in->numerator, in->denominator, in->element, in->weight,
              in->births};
  buf[0] = 0;
  for (size_t k = 0; k < sizeof el / sizeof el[0]; k++)
    if (el[k] >= 0) {
      size_t len = strlen(buf);
      snprintf(buf + len, n - len, "%s%s", len ? ", " : "",
               cat->elements[el[k]].code);
    }
  int groups[] = {in->numerator_groups, in->denominator_groups,
                  in->deaths_groups, in->population_groups};
  for (size_t k = 0; k < sizeof groups / sizeof groups[0]; k++)
    if (groups[k] >= 0) {
      size_t len = strlen(buf);
      snprintf(buf + len, n - len, "%s%s.*", len ? ", " : "",
               cat->age_groups[groups[k]].code);
    }
}

/* Adds unit u and those within it, depth first, to t or to the json
 * array a. */
static void unit_rows(const tally_catalog *cat, int u, int depth,
                      tally_table *t, json_t *a) {
  const tally_unit *x = &cat->units[u];
  const char *parent = x->parent >= 0 ? cat->units[x->parent].code : "";
  const char *does = x->is_leaf ? "reports" : "adds up";
  if (a) {
    json_array_append_new(
        a, json_pack("{s:s, s:s, s:s, s:s, s:s?, s:b}", "code", x->code,
                     "name_zh", x->name_zh ? x->name_zh : "", "name_en",
                     x->name_en ? x->name_en : "", "level",
                     x->level ? x->level : "", "parent",
                     x->parent >= 0 ? parent : NULL, "reports",
                     x->is_leaf));
  } else if (t) {
    char code[160];
    snprintf(code, sizeof code, "%*s%s", 2 * depth, "", x->code);
    const char *row[] = {code, x->name_zh ? x->name_zh : "",
                         x->name_en ? x->name_en : "",
                         x->level ? x->level : "", parent, does};
    tally_table_add(t, row);
  }
  for (int i = 0; i < x->n_children; i++)
    unit_rows(cat, x->children[i], depth + 1, t, a);
}

int tally_cmd_units(int argc, char **argv, tally_cli *c) {
  opts o;
  tally_catalog *cat;
  int rc = parse(argc, argv, c, "units", tally_usage_units, "format", &o);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if ((rc = tally_cli_no_operands(argc, argv, "units")) != 0)
    return rc;
  if ((rc = tally_catalog_cache_fetch(c, 0, &cat)) != 0)
    return rc;
  if (c->format == FORMAT_JSON) {
    json_t *a = json_array();
    unit_rows(cat, cat->root, 0, NULL, a);
    json_dumpf(a, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(a);
  } else {
    static const char *const cols[] = {"code", "name_zh", "name_en", "level",
                                       "within", "figures"};
    tally_table *t = tally_table_new(6, cols, NULL);
    unit_rows(cat, cat->root, 0, t, NULL);
    tally_table_print_as(t, c->format == FORMAT_CSV, stdout);
    tally_table_free(t);
  }
  tally_catalog_free(cat);
  return EXIT_OK;
}

int tally_cmd_catalog(int argc, char **argv, tally_cli *c) {
  opts o;
  tally_catalog *cat;
  int rc = parse(argc, argv, c, "catalog", tally_usage_catalog,
                 "elements format", &o);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if ((rc = tally_cli_no_operands(argc, argv, "catalog")) != 0)
    return rc;
  if ((rc = tally_catalog_cache_fetch(c, 0, &cat)) != 0)
    return rc;
  if (c->format == FORMAT_JSON) {
    json_dumpf(cat->doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    tally_catalog_free(cat);
    return EXIT_OK;
  }
  tally_table *t;
  if (o.elements) {
    static const char *const cols[] = {"code", "name_zh", "name_en", "unit",
                                       "type", "reported_by"};
    t = tally_table_new(6, cols, NULL);
    for (size_t i = 0; t && i < cat->n_elements; i++) {
      const tally_element *e = &cat->elements[i];
      const char *row[] = {e->code, e->name_zh, e->name_en, e->unit,
                           element_type(e),
                           e->district_only ? "district" : "unit"};
      tally_table_add(t, row);
    }
  } else {
    static const char *const cols[] = {"code", "name_zh", "name_en", "unit",
                                       "kind", "data elements", "direction",
                                       "targets"};
    t = tally_table_new(8, cols, NULL);
    for (size_t i = 0; t && i < cat->n_indicators; i++) {
      const tally_indicator *in = &cat->indicators[i];
      char inputs[256], targets[512] = "";
      inputs_text(cat, in, inputs, sizeof inputs);
      for (size_t k = 0; k < in->n_targets; k++) {
        char one[256];
        size_t len = strlen(targets);
        tally_target_text(cat, (int)i, &in->targets[k], one, sizeof one);
        snprintf(targets + len, sizeof targets - len, "%s%s", k ? "; " : "",
                 one);
      }
      const char *row[] = {in->code, in->name_zh, in->name_en, in->unit,
                           tally_kind_name(in->kind), inputs,
                           in->higher_is_better ? "up" : "down", targets};
      tally_table_add(t, row);
    }
  }
  tally_table_print_as(t, c->format == FORMAT_CSV, stdout);
  tally_table_free(t);
  tally_catalog_free(cat);
  return EXIT_OK;
}

/* A comment row of a form, its commas made semicolons: a spreadsheet
 * would split it over cells at each. */
__attribute__((format(printf, 2, 3))) static void comment_row(FILE *f,
                                                              const char *fmt,
                                                              ...) {
  char text[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  for (char *p = text; *p; p++)
    if (*p == ',')
      *p = ';';
  fprintf(f, "%s\n", text);
}

static void form_csv(FILE *f, const tally_catalog *cat, int u,
                     const char *period);

/* The unit's figures of last_period, as the server holds them, or NULL
 * (none, or not allowed to read them: the form is still made). */
static Tally__Envelope *last_year(tally_cli *c, const char *unit,
                                  const char *last_period) {
  Tally__ValuesRequest q = TALLY__VALUES_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  tally_client *cl;
  char err[256];
  q.unit = (char *)unit;
  q.period = (char *)last_period;
  req.body_case = TALLY__ENVELOPE__BODY_VALUES;
  req.values = &q;
  if (tally_cli_open(c, &cl, err, sizeof err) != 0)
    return NULL;
  if (tally_client_call(cl, &req, &reply, err, sizeof err) != 0)
    reply = NULL;
  tally_client_close(cl);
  if (reply && reply->body_case != TALLY__ENVELOPE__BODY_VALUES_REPLY) {
    tally_wire_free(reply);
    reply = NULL;
  }
  return reply;
}

/* Copies the file at path to f. Returns 0 or -1 after saying why. */
static int copy_to(const char *path, FILE *f) {
  int rc = tally_file_copy(path, f);
  if (rc == -1)
    fprintf(stderr, _("tally: cannot read %s: %s\n"), path, strerror(errno));
  else if (rc != 0)
    fprintf(stderr, _("tally: cannot write the workbook to standard output\n"));
  return rc ? -1 : 0;
}

/* The form as a workbook, into output or standard output. */
static int form_xlsx(tally_cli *c, const tally_catalog *cat, int u,
                     const char *period, const char *output) {
  tally_period p, last;
  char last_text[TALLY_PERIOD_STRLEN], tmp[4096] = "", err[512];
  tally_period_parse(period, &p);
  last = p;
  last.year--;
  tally_period_format(&last, last_text);
  if (output == NULL && isatty(STDOUT_FILENO)) {
    fputs(_("tally form: a workbook is not for a terminal: give --output "
          "FILE.xlsx, or redirect standard output into a file\n"), stderr);
    return EXIT_USAGE;
  }
  const char *path = output;
  if (path == NULL) {
    const char *dir = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/tally-form-XXXXXX.xlsx",
             dir && *dir ? dir : "/tmp");
    int fd = mkstemps(tmp, 5);
    if (fd < 0) {
      fprintf(stderr, _("tally: cannot make a temporary file: %s\n"),
              strerror(errno));
      return EXIT_REFUSED;
    }
    close(fd);
    path = tmp;
  }
  Tally__Envelope *was = last_year(c, cat->units[u].code, last_text);
  int rc = tally_form_xlsx_write(cat, u, period, last_text,
                                 was ? was->values_reply : NULL, path, err,
                                 sizeof err);
  tally_wire_free(was);
  if (rc != 0)
    fprintf(stderr, "tally: %s\n", err);
  else if (*tmp && copy_to(tmp, stdout) != 0)
    rc = -1;
  if (*tmp)
    unlink(tmp);
  return rc == 0 ? EXIT_OK : EXIT_REFUSED;
}

int tally_cmd_form(int argc, char **argv, tally_cli *c) {
  const char *unit = NULL, *period = NULL, *format = NULL, *output = NULL;
  tally_catalog *cat;
  const tally_cli_opt own[] = {{"unit", 'u', &unit, NULL, NULL},
                               {"period", 'p', &period, NULL, NULL},
                               {"format", 0, &format, NULL, NULL},
                               {"output", 'o', &output, NULL, NULL},
                               {NULL, 0, NULL, NULL, NULL}};
  int rc = tally_cli_parse(argc, argv, c, "form", tally_usage_form, own, 0);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if ((rc = tally_cli_no_operands(argc, argv, "form")) != 0)
    return rc;
  if ((rc = tally_cli_need(unit, "--unit", "form")) != 0 ||
      (rc = tally_cli_need_period(period, "form")) != 0)
    return rc;
  int xlsx = format && strcmp(format, "xlsx") == 0;
  if (format && !xlsx && strcmp(format, "csv") != 0) {
    fprintf(stderr, _("tally form: --format is csv or xlsx, not '%s'\n"), format);
    return EXIT_USAGE;
  }
  if ((rc = tally_catalog_cache_fetch(c, 0, &cat)) != 0)
    return rc;
  int u = tally_catalog_unit(cat, unit);
  if (u < 0 || !(cat->units[u].is_leaf || u == cat->root)) {
    fprintf(stderr, _("tally: %s is not a reporting unit of the catalog\n"),
            unit);
    tally_catalog_free(cat);
    return EXIT_REFUSED;
  }
  if (xlsx) {
    rc = form_xlsx(c, cat, u, period, output);
    tally_catalog_free(cat);
    return rc;
  }
  FILE *f = output ? fopen(output, "w") : stdout;
  if (f == NULL) {
    fprintf(stderr, _("tally: cannot write %s: %s\n"), output, strerror(errno));
    tally_catalog_free(cat);
    return EXIT_REFUSED;
  }
  form_csv(f, cat, u, period);
  int bad = ferror(f);
  if (output && fclose(f) != 0)
    bad = 1;
  tally_catalog_free(cat);
  if (bad) {
    fprintf(stderr, _("tally: cannot write the form%s%s\n"), output ? " to " : "",
            output ? output : "");
    return EXIT_REFUSED;
  }
  return EXIT_OK;
}

/* The form as CSV. */
static void form_csv(FILE *f, const tally_catalog *cat, int u,
                     const char *period) {
  int district = u == cat->root;
  /* Excel opens it as UTF-8 with the mark; its comment rows hold no
   * comma, so that each stays in one cell. */
  tally_output_csv_start(f);
  /* Whose form, for which period: tally submit checks it. */
  fprintf(f, "#form,%s,%s\n", cat->units[u].code, period);
  comment_row(f, "# tally form: %s %s (%s) period %s", cat->units[u].code,
              cat->units[u].name_zh, cat->units[u].name_en, period);
  comment_row(f, "# Fill in each value; leave it blank if the figure is not "
              "known.");
  comment_row(f, "# Send it with: tally submit --unit %s --period %s --file "
              "FILE", cat->units[u].code, period);
  fprintf(f, "data_element,value\n");
  for (size_t i = 0; i < cat->n_elements; i++) {
    const tally_element *e = &cat->elements[i];
    char levels[1024] = "";
    if (e->district_only != district)
      continue;
    if (e->type == TALLY_ELEMENT_STATUS) {
      size_t at = (size_t)snprintf(levels, sizeof levels, ": one of");
      for (size_t k = 0; k < e->n_levels && at < sizeof levels; k++)
        at += (size_t)snprintf(levels + at, sizeof levels - at,
                               " %d = %s %s%s", e->levels[k].value,
                               e->levels[k].zh, e->levels[k].en,
                               k + 1 < e->n_levels ? ";" : "");
    }
    comment_row(f, "# %s / %s (%s%s%s)%s", e->name_zh, e->name_en,
                e->unit_zh ? e->unit_zh : "", e->unit_zh ? " " : "", e->unit,
                levels);
    fprintf(f, "%s,\n", e->code);
  }
}

/* Parses "[OP]NUMBER" or "about NUMBER". */
static int parse_value(const char *text, int higher_is_better, char *op,
                       size_t n, double *value) {
  static const char *const ops[] = {">=",      "<=",      ">", "<",
                                    "about<=", "about>=", "about"};
  const char *p = text;
  snprintf(op, n, "%s", higher_is_better ? ">=" : "<=");
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
    if (strncmp(p, ops[k], strlen(ops[k])) == 0) {
      snprintf(op, n, "%s", ops[k]);
      p += strlen(ops[k]);
      break;
    }
  while (*p == ' ')
    p++;
  char *end;
  *value = strtod(p, &end);
  return *p && *end == 0 && isfinite(*value) ? 0 : -1;
}

static int target_list(tally_cli *c) {
  Tally__TargetListRequest q = TALLY__TARGET_LIST_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  int rc;
  req.body_case = TALLY__ENVELOPE__BODY_TARGET_LIST;
  req.target_list = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_TARGET_LIST_REPLY,
                           &reply)) != 0)
    goto out;
  const Tally__TargetListReply *x = reply->target_list_reply;
  if (c->format == FORMAT_JSON) {
    json_t *arr = json_array();
    for (size_t i = 0; i < x->n_targets; i++) {
      const Tally__TargetListEntry *e = x->targets[i];
      json_array_append_new(
          arr, json_pack("{s:s, s:i, s:s, s:s, s:b, s:b}", "indicator",
                         e->indicator, "year", e->year, "target", e->target,
                         "source", e->source, "assigned", e->assigned,
                         "entered", e->entered));
    }
    dump(json_pack("{s:o}", "targets", arr));
    goto out;
  }
  static const char *const cols[] = {"indicator", "year", "target", "source", NULL};
  tally_table *t = tally_table_new(4, cols, NULL);
  for (size_t i = 0; t && i < x->n_targets; i++) {
    const Tally__TargetListEntry *e = x->targets[i];
    char year[16];
    snprintf(year, sizeof year, "%d", e->year);
    const char *row[] = {e->indicator, year, e->target, e->source};
    tally_table_add(t, row);
  }
  tally_table_print_as(t, c->format == FORMAT_CSV, stdout);
  tally_table_free(t);
out:
  tally_wire_free(reply);
  return rc;
}

static int target_set(tally_cli *c, const char *indicator, const opts *o) {
  Tally__Target t = TALLY__TARGET__INIT;
  Tally__TargetSetRequest q = TALLY__TARGET_SET_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  tally_catalog *cat;
  char op[16], *end;
  int rc;

  if ((rc = tally_cli_need(o->year, "--year", "target")) != 0 ||
      (rc = tally_cli_need(o->value, "--value", "target")) != 0)
    return rc;
  long year = strtol(o->year, &end, 10);
  if (*end != 0 || year < 1900 || year > 2999) {
    fprintf(stderr, _("tally: --year takes a year, not '%s'\n"), o->year);
    return EXIT_USAGE;
  }
  if ((rc = tally_catalog_cache_fetch(c, 0, &cat)) != 0)
    return rc;
  int ind = tally_catalog_indicator(cat, indicator);
  int up = ind >= 0 ? cat->indicators[ind].higher_is_better : 1;
  tally_catalog_free(cat);
  if (parse_value(o->value, up, op, sizeof op, &t.value) != 0) {
    fprintf(stderr, _("tally: --value is [OP]NUMBER, e.g. \">=13.5\", not '%s'\n"),
            o->value);
    return EXIT_USAGE;
  }
  if (o->tolerance) {
    t.tolerance = strtod(o->tolerance, &end);
    if (*end != 0 || !(t.tolerance > 0)) {
      fprintf(stderr, _("tally: --tolerance takes a number above 0\n"));
      return EXIT_USAGE;
    }
  }
  t.indicator = (char *)indicator;
  t.year = (int32_t)year;
  t.op = op;
  t.text = (char *)(o->text ? o->text : "");
  q.target = &t;
  req.body_case = TALLY__ENVELOPE__BODY_TARGET_SET;
  req.target_set = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_TARGET_SET_REPLY,
                           &reply)) == 0)
    printf("%s %d: target %s %.15g stored on the server%s\n", indicator,
           (int)year, op, t.value,
           reply->target_set_reply->replaced ? " (replacing the one before)"
                                             : "");
  tally_wire_free(reply);
  return rc;
}

int tally_cmd_target(int argc, char **argv, tally_cli *c) {
  opts o;
  int rc = parse(argc, argv, c, "target", tally_usage_target,
                 "year value tolerance text format", &o);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if (optind < argc && strcmp(argv[optind], "list") == 0 &&
      optind + 1 == argc) {
    const char *set_only = o.year        ? "--year"
                           : o.value     ? "--value"
                           : o.tolerance ? "--tolerance"
                           : o.text      ? "--text"
                                         : NULL;
    if (set_only) {
      fprintf(stderr, _("tally target list: %s is for 'tally target set'\n"
              "Try 'tally help target'.\n"), set_only);
      return EXIT_USAGE;
    }
    return target_list(c);
  }
  if (optind + 2 == argc && strcmp(argv[optind], "set") == 0)
    return target_set(c, argv[optind + 1], &o);
  fputs(_("tally target: say 'list' or 'set INDICATOR'\nTry 'tally help "
        "target'.\n"),
        stderr);
  return EXIT_USAGE;
}
