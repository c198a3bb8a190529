/* cmd_read.c: values, report and history: reading what the server holds. */
#include "cli.h"
#include "output.h"
#include "wire.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char tally_usage_values[] =
    "usage: tally values --unit UNIT --period PERIOD [--format FMT]\n"
    "\n"
    "Shows the figures the server holds for one unit and period.\n"
    "\n"
    "options:\n"
    "  -u, --unit UNIT      the org unit code\n"
    "  -p, --period PERIOD  2022, 2022Q3 or 2022-07\n"
    "      --format FMT     table (default), json or csv\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n"
    "\n"
    "The revision counts the changes to this unit's report for the period;\n"
    "give it to 'tally submit --base-revision' to refuse a stale correction.\n";

const char tally_usage_report[] =
    "usage: tally report --period PERIOD [--unit UNIT] [--indicator CODE]\n"
    "                    [--format FMT]\n"
    "\n"
    "The indicator report of a period: for each indicator its value, the sums\n"
    "of the raw figures it is computed from (over the units that reported\n"
    "them), how many units those are, the target that applies to the period,\n"
    "and whether it is met. District values come from the sums of the units'\n"
    "figures, never from an average of unit rates.\n"
    "\n"
    "options:\n"
    "  -p, --period PERIOD     2022, 2022Q3 or 2022-07\n"
    "  -u, --unit UNIT         one unit (default: the whole district)\n"
    "  -i, --indicator CODE    one indicator, e.g. H02\n"
    "      --format FMT        table (default), json or csv\n"
    "  -s, --server, --timeout as for every command (tally --help)\n";

const char tally_usage_history[] =
    "usage: tally history --unit UNIT --period PERIOD [--format FMT]\n"
    "\n"
    "Every change to a unit's figures for a period, oldest first: which\n"
    "submission made it, when, from which address, and each figure before\n"
    "and after (a removed figure has no 'after').\n"
    "\n"
    "options:\n"
    "  -u, --unit UNIT      the org unit code\n"
    "  -p, --period PERIOD  2022, 2022Q3 or 2022-07\n"
    "      --format FMT     table (default), json or csv\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n";

int tally_cmd_values(int argc, char **argv, tally_cli *c) {
  static const struct option opts[] = {
      {"unit", required_argument, NULL, 'u'},
      {"period", required_argument, NULL, 'p'},
      {"format", required_argument, NULL, OPT_FORMAT},
      TALLY_CLI_COMMON_OPTIONS,
      {NULL, 0, NULL, 0}};
  const char *unit = NULL, *period = NULL;
  int ch, rc;

  while ((ch = getopt_long(argc, argv, "u:p:s:h", opts, NULL)) != -1) {
    switch (ch) {
    case 'u': unit = optarg; break;
    case 'p': period = optarg; break;
    case 'h': fputs(tally_usage_values, stdout); return EXIT_OK;
    case '?': fputs("Try 'tally help values'.\n", stderr); return EXIT_USAGE;
    default:
      if ((rc = tally_cli_option(c, ch, optarg)) != 0)
        return rc;
    }
  }
  if ((rc = tally_cli_need(unit, "--unit", "values")) || (rc = tally_cli_need(period, "--period", "values")))
    return rc;

  Tally__ValuesRequest q = TALLY__VALUES_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  q.unit = (char *)unit;
  q.period = (char *)period;
  req.body_case = TALLY__ENVELOPE__BODY_VALUES;
  req.values = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_VALUES_REPLY,
                           &reply)) != 0)
    goto out;
  const Tally__ValuesReply *v = reply->values_reply;

  if (c->format == FORMAT_JSON) {
    json_t *arr = json_array();
    for (size_t i = 0; i < v->n_values; i++) {
      const Tally__StoredValue *s = v->values[i];
      json_array_append_new(
          arr, json_pack("{s:s, s:f, s:s, s:s, s:s, s:I}", "element",
                         s->element, "value", s->value, "name_zh", s->name_zh,
                         "name_en", s->name_en, "unit", s->unit, "updated_unix",
                         (json_int_t)s->updated_unix));
    }
    json_t *doc = json_pack("{s:s, s:s, s:I, s:o}", "unit", v->unit, "period",
                            v->period, "revision", (json_int_t)v->revision,
                            "values", arr);
    json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    fputc('\n', stdout);
    json_decref(doc);
    goto out;
  }

  static const char *const cols[] = {"element", "value", "name_zh", "name_en",
                                     "unit", "updated (UTC)"};
  static const int right[] = {0, 1, 0, 0, 0, 0};
  tally_table *t = tally_table_new(6, cols, right);
  for (size_t i = 0; t && i < v->n_values; i++) {
    const Tally__StoredValue *s = v->values[i];
    char num[64], when[32];
    tally_cli_time(when, sizeof when, s->updated_unix);
    tally_cli_number(num, sizeof num, s->value);
    const char *row[] = {s->element, num, s->name_zh, s->name_en, s->unit, when};
    tally_table_add(t, row);
  }
  if (t == NULL) {
    rc = EXIT_REFUSED;
    goto out;
  }
  if (c->format == FORMAT_CSV) {
    tally_table_print_csv(t, stdout);
  } else {
    printf("%s %s: %zu value%s, revision %llu\n", v->unit, v->period,
           v->n_values, v->n_values == 1 ? "" : "s",
           (unsigned long long)v->revision);
    if (v->n_values)
      tally_table_print(t, stdout);
  }
  tally_table_free(t);
out:
  tally_wire_free(reply);
  return rc;
}

static const char *status_text(Tally__Status s) {
  switch (s) {
  case TALLY__STATUS__STATUS_MET: return "met";
  case TALLY__STATUS__STATUS_NOT_MET: return "not met";
  case TALLY__STATUS__STATUS_NO_TARGET: return "no target";
  case TALLY__STATUS__STATUS_INSUFFICIENT_DATA: return "insufficient data";
  case TALLY__STATUS__STATUS_UNDEFINED: return "undefined";
  default: return "unknown";
  }
}

static json_t *report_json(const Tally__ReportReply *r) {
  json_t *rows = json_array();
  for (size_t i = 0; i < r->n_rows; i++) {
    const Tally__ReportRow *w = r->rows[i];
    json_array_append_new(
        rows,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:i, s:i, "
                  "s:s, s:s, s:s}",
                  "code", w->code, "name_zh", w->name_zh, "name_en",
                  w->name_en, "unit", w->unit, "plan", w->plan, "kind",
                  w->kind, "value",
                  w->has_value ? json_real(w->value) : json_null(),
                  "numerator",
                  w->has_numerator ? json_real(w->numerator) : json_null(),
                  "denominator",
                  w->has_denominator ? json_real(w->denominator) : json_null(),
                  "units_counted", (int)w->units_counted, "units_expected",
                  (int)w->units_expected, "target", w->target, "status",
                  status_text(w->status), "note", w->note));
  }
  return json_pack("{s:s, s:s, s:s, s:s, s:o}", "period", r->period, "unit",
                   r->unit, "unit_name_zh", r->unit_name_zh, "unit_name_en",
                   r->unit_name_en, "indicators", rows);
}

static void print_report(const Tally__ReportReply *r, enum tally_format fmt) {
  if (fmt == FORMAT_JSON) {
    json_t *doc = report_json(r);
    json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    fputc('\n', stdout);
    json_decref(doc);
    return;
  }
  static const char *const table_cols[] = {
      "code", "indicator", "unit", "value", "numerator", "denominator",
      "units", "target", "status"};
  static const int table_right[] = {0, 0, 0, 1, 1, 1, 1, 0, 0};
  static const char *const csv_cols[] = {
      "code", "name_zh", "name_en", "unit", "plan", "kind", "value",
      "numerator", "denominator", "units_counted", "units_expected", "target",
      "status", "note"};
  int csv = fmt == FORMAT_CSV;
  tally_table *t = csv ? tally_table_new(14, csv_cols, NULL)
                       : tally_table_new(9, table_cols, table_right);
  if (t == NULL)
    return;
  for (size_t i = 0; i < r->n_rows; i++) {
    const Tally__ReportRow *w = r->rows[i];
    char value[64] = "", num[64] = "", den[64] = "", units[32], counted[16],
         expected[16];
    if (w->has_value)
      snprintf(value, sizeof value, "%.*f", csv ? 15 : (int)w->decimals,
               w->value);
    if (csv && w->has_value)
      tally_cli_number(value, sizeof value, w->value);
    if (w->has_numerator)
      tally_cli_number(num, sizeof num, w->numerator);
    if (w->has_denominator)
      tally_cli_number(den, sizeof den, w->denominator);
    snprintf(units, sizeof units, "%u/%u", w->units_counted, w->units_expected);
    snprintf(counted, sizeof counted, "%u", w->units_counted);
    snprintf(expected, sizeof expected, "%u", w->units_expected);
    if (csv) {
      const char *row[] = {w->code, w->name_zh, w->name_en, w->unit, w->plan,
                           w->kind, value, num, den, counted, expected,
                           w->target, status_text(w->status), w->note};
      tally_table_add(t, row);
    } else {
      const char *row[] = {w->code, w->name_zh, w->unit, value, num, den,
                           units, w->target, status_text(w->status)};
      tally_table_add(t, row);
    }
  }
  if (csv) {
    tally_table_print_csv(t, stdout);
  } else {
    printf("%s %s: indicators for %s\n\n", r->unit_name_zh, r->unit_name_en,
           r->period);
    tally_table_print(t, stdout);
    int notes = 0;
    for (size_t i = 0; i < r->n_rows; i++)
      if (r->rows[i]->note && *r->rows[i]->note)
        printf("%s  %s: %s\n", notes++ ? "" : "\nnotes:\n", r->rows[i]->code,
               r->rows[i]->note);
    printf("\nunits: reporting units counted / expected. Values are computed "
           "from the sums\nof the units' raw figures (numerator / "
           "denominator), never from unit rates.\n");
  }
  tally_table_free(t);
}

int tally_cmd_report(int argc, char **argv, tally_cli *c) {
  static const struct option opts[] = {
      {"period", required_argument, NULL, 'p'},
      {"unit", required_argument, NULL, 'u'},
      {"indicator", required_argument, NULL, 'i'},
      {"format", required_argument, NULL, OPT_FORMAT},
      TALLY_CLI_COMMON_OPTIONS,
      {NULL, 0, NULL, 0}};
  const char *unit = "", *period = NULL, *indicator = "";
  int ch, rc;

  while ((ch = getopt_long(argc, argv, "p:u:i:s:h", opts, NULL)) != -1) {
    switch (ch) {
    case 'p': period = optarg; break;
    case 'u': unit = optarg; break;
    case 'i': indicator = optarg; break;
    case 'h': fputs(tally_usage_report, stdout); return EXIT_OK;
    case '?': fputs("Try 'tally help report'.\n", stderr); return EXIT_USAGE;
    default:
      if ((rc = tally_cli_option(c, ch, optarg)) != 0)
        return rc;
    }
  }
  if ((rc = tally_cli_need(period, "--period", "report")) != 0)
    return rc;

  Tally__ReportRequest q = TALLY__REPORT_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  q.period = (char *)period;
  q.unit = (char *)unit;
  q.indicator = (char *)indicator;
  req.body_case = TALLY__ENVELOPE__BODY_REPORT;
  req.report = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_REPORT_REPLY,
                           &reply)) == 0)
    print_report(reply->report_reply, c->format);
  tally_wire_free(reply);
  return rc;
}

static json_t *changes_json(const Tally__ChangeSet *cs) {
  json_t *arr = json_array();
  for (size_t i = 0; i < cs->n_changes; i++) {
    const Tally__Change *ch = cs->changes[i];
    json_array_append_new(
        arr, json_pack("{s:s, s:o, s:o}", "element", ch->element, "before",
                       ch->had_old ? json_real(ch->old_value) : json_null(),
                       "after",
                       ch->has_new ? json_real(ch->new_value) : json_null()));
  }
  return json_pack("{s:I, s:s, s:I, s:s, s:o}", "revision",
                   (json_int_t)cs->revision, "submission_id", cs->submission_id,
                   "time_unix", (json_int_t)cs->time_unix, "peer", cs->peer,
                   "changes", arr);
}

int tally_cmd_history(int argc, char **argv, tally_cli *c) {
  static const struct option opts[] = {
      {"unit", required_argument, NULL, 'u'},
      {"period", required_argument, NULL, 'p'},
      {"format", required_argument, NULL, OPT_FORMAT},
      TALLY_CLI_COMMON_OPTIONS,
      {NULL, 0, NULL, 0}};
  const char *unit = NULL, *period = NULL;
  int ch, rc;

  while ((ch = getopt_long(argc, argv, "u:p:s:h", opts, NULL)) != -1) {
    switch (ch) {
    case 'u': unit = optarg; break;
    case 'p': period = optarg; break;
    case 'h': fputs(tally_usage_history, stdout); return EXIT_OK;
    case '?': fputs("Try 'tally help history'.\n", stderr); return EXIT_USAGE;
    default:
      if ((rc = tally_cli_option(c, ch, optarg)) != 0)
        return rc;
    }
  }
  if ((rc = tally_cli_need(unit, "--unit", "history")) ||
      (rc = tally_cli_need(period, "--period", "history")))
    return rc;

  Tally__HistoryRequest q = TALLY__HISTORY_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  q.unit = (char *)unit;
  q.period = (char *)period;
  req.body_case = TALLY__ENVELOPE__BODY_HISTORY;
  req.history = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_HISTORY_REPLY,
                           &reply)) != 0)
    goto out;
  const Tally__HistoryReply *h = reply->history_reply;

  if (c->format == FORMAT_JSON) {
    json_t *arr = json_array();
    for (size_t i = 0; i < h->n_changes; i++)
      json_array_append_new(arr, changes_json(h->changes[i]));
    json_t *doc = json_pack("{s:s, s:s, s:o}", "unit", h->unit, "period",
                            h->period, "history", arr);
    json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    fputc('\n', stdout);
    json_decref(doc);
    goto out;
  }
  static const char *const cols[] = {"revision", "time (UTC)", "element",
                                     "before", "after", "submission", "from"};
  static const int right[] = {1, 0, 0, 1, 1, 0, 0};
  tally_table *t = tally_table_new(7, cols, right);
  for (size_t i = 0; t && i < h->n_changes; i++) {
    const Tally__ChangeSet *cs = h->changes[i];
    char rev[24], when[32];
    snprintf(rev, sizeof rev, "%llu", (unsigned long long)cs->revision);
    tally_cli_time(when, sizeof when, cs->time_unix);
    for (size_t k = 0; k < cs->n_changes; k++) {
      const Tally__Change *chg = cs->changes[k];
      char before[64] = "", after[64] = "(removed)";
      if (chg->had_old)
        tally_cli_number(before, sizeof before, chg->old_value);
      if (chg->has_new)
        tally_cli_number(after, sizeof after, chg->new_value);
      const char *row[] = {rev, when, chg->element, before, after,
                           cs->submission_id, cs->peer};
      tally_table_add(t, row);
    }
  }
  if (t && c->format == FORMAT_CSV) {
    tally_table_print_csv(t, stdout);
  } else if (t) {
    printf("%s %s: %zu change%s\n", h->unit, h->period, h->n_changes,
           h->n_changes == 1 ? "" : "s");
    if (h->n_changes)
      tally_table_print(t, stdout);
  }
  tally_table_free(t);
out:
  tally_wire_free(reply);
  return rc;
}

