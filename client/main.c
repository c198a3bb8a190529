/* main.c: tally, the command-line client. */
#include "client.h"
#include "error.h"
#include "figures.h"
#include "output.h"
#include "wire.h"

#include <getopt.h>
#include <jansson.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Exit statuses. */
enum {
  EXIT_OK = 0,
  EXIT_REFUSED = 1,     /* the server or the input said no */
  EXIT_USAGE = 2,       /* the command line is wrong */
  EXIT_UNREACHABLE = 3  /* no answer from the server */
};

enum format { FORMAT_TABLE, FORMAT_JSON, FORMAT_CSV };

static const char usage[] =
    "usage: tally [--server HOST:PORT] COMMAND [options]\n"
    "\n"
    "The tally client: units submit their figures; the central office reads\n"
    "values and indicator reports.\n"
    "\n"
    "commands:\n"
    "  submit   send one unit's figures for one period from a CSV file\n"
    "  values   show the figures the server holds for a unit and period\n"
    "  report   the indicator report of a period, for the district or a unit\n"
    "  help     help on a command: tally help submit\n"
    "\n"
    "options (before or after the command):\n"
    "  -s, --server HOST:PORT  the tallyd to talk to; default $TALLY_SERVER,\n"
    "                          else " TALLY_CLIENT_DEFAULT_SERVER "\n"
    "      --timeout SECONDS   how long to wait for the server (default 30)\n"
    "  -h, --help              help\n"
    "  -V, --version           the version\n"
    "\n"
    "exit status: 0 done; 1 refused (bad input, or the server said no);\n"
    "2 bad command line; 3 the server could not be reached or did not answer.\n";

static const char usage_submit[] =
    "usage: tally submit --unit UNIT --period PERIOD --file FILE\n"
    "\n"
    "Sends one unit's figures for one period. FILE is CSV in UTF-8 (a BOM is\n"
    "fine), one figure a row: data_element,value. An optional first row\n"
    "'data_element,value' is a header; rows starting with # are comments; a\n"
    "row with an empty value is skipped (not reported). FILE - reads standard\n"
    "input.\n"
    "\n"
    "A figure already stored for the same unit, period and data element is\n"
    "replaced: that is how a figure is corrected. Either every figure of the\n"
    "file is stored or none is; the server answers only once they are on disk.\n"
    "\n"
    "options:\n"
    "  -u, --unit UNIT      the org unit code, e.g. wenchang\n"
    "  -p, --period PERIOD  2022, 2022Q3 or 2022-07\n"
    "  -f, --file FILE      the figures\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n"
    "\n"
    "example:\n"
    "  tally submit --unit wenchang --period 2022 --file figures.csv\n";

static const char usage_values[] =
    "usage: tally values --unit UNIT --period PERIOD [--format FMT]\n"
    "\n"
    "Shows the figures the server holds for one unit and period.\n"
    "\n"
    "options:\n"
    "  -u, --unit UNIT      the org unit code\n"
    "  -p, --period PERIOD  2022, 2022Q3 or 2022-07\n"
    "      --format FMT     table (default), json or csv\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n";

static const char usage_report[] =
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

struct common {
  const char *server;
  int timeout_s;
  enum format format;
};

/* Options every command takes. */
enum { OPT_TIMEOUT = 256, OPT_FORMAT };

static int common_option(int ch, struct common *c) {
  char *end;
  switch (ch) {
  case 's':
    c->server = optarg;
    return 0;
  case OPT_TIMEOUT:
    c->timeout_s = (int)strtol(optarg, &end, 10);
    if (*optarg == 0 || *end != 0 || c->timeout_s < 1 || c->timeout_s > 3600) {
      fprintf(stderr, "tally: --timeout takes seconds from 1 to 3600, not "
              "'%s'\n", optarg);
      return EXIT_USAGE;
    }
    return 0;
  case OPT_FORMAT:
    if (strcmp(optarg, "table") == 0)
      c->format = FORMAT_TABLE;
    else if (strcmp(optarg, "json") == 0)
      c->format = FORMAT_JSON;
    else if (strcmp(optarg, "csv") == 0)
      c->format = FORMAT_CSV;
    else {
      fprintf(stderr, "tally: --format is table, json or csv, not '%s'\n",
              optarg);
      return EXIT_USAGE;
    }
    return 0;
  }
  return EXIT_USAGE;
}

static int need(const char *value, const char *option, const char *command) {
  if (value && *value)
    return 0;
  fprintf(stderr, "tally %s: %s is required\nTry 'tally help %s'.\n", command,
          option, command);
  return EXIT_USAGE;
}

static int connect_or_say(const struct common *c, tally_client **out) {
  char err[256];
  int rc = tally_client_connect(c->server, c->timeout_s * 1000, out, err,
                                sizeof err);
  if (rc == 0)
    return 0;
  fprintf(stderr, "tally: %s\n", err);
  return rc == TALLY_EUSAGE ? EXIT_USAGE : EXIT_UNREACHABLE;
}

/* Sends req; on success *reply is the non-error reply. On failure says
 * why and returns the exit status. */
static int call_or_say(const struct common *c, Tally__Envelope *req,
                       Tally__Envelope **reply) {
  tally_client *cl;
  char err[256];
  int rc = connect_or_say(c, &cl);
  if (rc != 0)
    return rc;
  rc = tally_client_call(cl, req, reply, err, sizeof err);
  tally_client_close(cl);
  if (rc != 0) {
    fprintf(stderr, "tally: %s\n", err);
    return EXIT_UNREACHABLE;
  }
  if ((*reply)->body_case == TALLY__ENVELOPE__BODY_ERROR) {
    fprintf(stderr, "tally: %s\n", (*reply)->error->message);
    return EXIT_REFUSED;
  }
  return 0;
}

static int cmd_submit(int argc, char **argv, struct common *c) {
  static const struct option opts[] = {
      {"unit", required_argument, NULL, 'u'},
      {"period", required_argument, NULL, 'p'},
      {"file", required_argument, NULL, 'f'},
      {"server", required_argument, NULL, 's'},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *unit = NULL, *period = NULL, *file = NULL;
  int ch, rc;

  while ((ch = getopt_long(argc, argv, "u:p:f:s:h", opts, NULL)) != -1) {
    switch (ch) {
    case 'u': unit = optarg; break;
    case 'p': period = optarg; break;
    case 'f': file = optarg; break;
    case 'h': fputs(usage_submit, stdout); return EXIT_OK;
    case '?': fputs("Try 'tally help submit'.\n", stderr); return EXIT_USAGE;
    default:
      if ((rc = common_option(ch, c)) != 0)
        return rc;
    }
  }
  if ((rc = need(unit, "--unit", "submit")) || (rc = need(period, "--period", "submit")) ||
      (rc = need(file, "--file", "submit")))
    return rc;

  tally_figure_list figs;
  char err[512];
  if ((rc = tally_figures_read(file, &figs, err, sizeof err)) != 0) {
    fprintf(stderr, "tally: %s\nNothing was sent.\n", err);
    return EXIT_REFUSED;
  }

  Tally__Value *values = calloc(figs.n, sizeof *values);
  Tally__Value **ptrs = calloc(figs.n, sizeof *ptrs);
  Tally__SubmitRequest sub = TALLY__SUBMIT_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  if (values == NULL || ptrs == NULL) {
    fputs("tally: out of memory\n", stderr);
    rc = EXIT_REFUSED;
    goto out;
  }
  for (size_t i = 0; i < figs.n; i++) {
    tally__value__init(&values[i]);
    values[i].element = figs.items[i].element;
    values[i].value = figs.items[i].value;
    ptrs[i] = &values[i];
  }
  sub.unit = (char *)unit;
  sub.period = (char *)period;
  sub.n_values = figs.n;
  sub.values = ptrs;
  req.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
  req.submit = &sub;

  rc = call_or_say(c, &req, &reply);
  if (rc == EXIT_REFUSED) {
    /* Each detail names an item of the request: give its line. */
    for (size_t i = 0; i < reply->error->n_details; i++) {
      const Tally__ErrorDetail *d = reply->error->details[i];
      if (d->index >= 1 && d->index <= figs.n)
        fprintf(stderr, "  %s line %d: %s\n", file,
                figs.items[d->index - 1].line, d->text);
      else
        fprintf(stderr, "  %s\n", d->text);
    }
  } else if (rc == 0) {
    const Tally__SubmitReply *ok = reply->submit_reply;
    if (reply->body_case != TALLY__ENVELOPE__BODY_SUBMIT_REPLY) {
      fputs("tally: the server sent an unexpected reply\n", stderr);
      rc = EXIT_REFUSED;
      goto out;
    }
    printf("%s %s: %u value%s stored from %s (%u new, %u replaced, %u "
           "unchanged)\n",
           unit, period, ok->accepted, ok->accepted == 1 ? "" : "s", file,
           ok->accepted - ok->replaced - ok->unchanged, ok->replaced,
           ok->unchanged);
    if (figs.blank)
      printf("%zu row%s with an empty value skipped (first on line %d): not "
             "reported\n",
             figs.blank, figs.blank == 1 ? "" : "s", figs.first_blank);
  }
out:
  tally_wire_free(reply);
  free(values);
  free(ptrs);
  tally_figures_release(&figs);
  return rc;
}

static void format_number(char *buf, size_t n, double v) {
  snprintf(buf, n, "%.15g", v);
}

static int cmd_values(int argc, char **argv, struct common *c) {
  static const struct option opts[] = {
      {"unit", required_argument, NULL, 'u'},
      {"period", required_argument, NULL, 'p'},
      {"format", required_argument, NULL, OPT_FORMAT},
      {"server", required_argument, NULL, 's'},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *unit = NULL, *period = NULL;
  int ch, rc;

  while ((ch = getopt_long(argc, argv, "u:p:s:h", opts, NULL)) != -1) {
    switch (ch) {
    case 'u': unit = optarg; break;
    case 'p': period = optarg; break;
    case 'h': fputs(usage_values, stdout); return EXIT_OK;
    case '?': fputs("Try 'tally help values'.\n", stderr); return EXIT_USAGE;
    default:
      if ((rc = common_option(ch, c)) != 0)
        return rc;
    }
  }
  if ((rc = need(unit, "--unit", "values")) || (rc = need(period, "--period", "values")))
    return rc;

  Tally__ValuesRequest q = TALLY__VALUES_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  q.unit = (char *)unit;
  q.period = (char *)period;
  req.body_case = TALLY__ENVELOPE__BODY_VALUES;
  req.values = &q;
  if ((rc = call_or_say(c, &req, &reply)) != 0)
    goto out;
  const Tally__ValuesReply *v = reply->values_reply;
  if (reply->body_case != TALLY__ENVELOPE__BODY_VALUES_REPLY) {
    fputs("tally: the server sent an unexpected reply\n", stderr);
    rc = EXIT_REFUSED;
    goto out;
  }

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
    json_t *doc = json_pack("{s:s, s:s, s:o}", "unit", v->unit, "period",
                            v->period, "values", arr);
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
    time_t tt = (time_t)s->updated_unix;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    format_number(num, sizeof num, s->value);
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
    printf("%s %s: %zu value%s\n", v->unit, v->period, v->n_values,
           v->n_values == 1 ? "" : "s");
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

static void print_report(const Tally__ReportReply *r, enum format fmt) {
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
      format_number(value, sizeof value, w->value);
    if (w->has_numerator)
      format_number(num, sizeof num, w->numerator);
    if (w->has_denominator)
      format_number(den, sizeof den, w->denominator);
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

static int cmd_report(int argc, char **argv, struct common *c) {
  static const struct option opts[] = {
      {"period", required_argument, NULL, 'p'},
      {"unit", required_argument, NULL, 'u'},
      {"indicator", required_argument, NULL, 'i'},
      {"format", required_argument, NULL, OPT_FORMAT},
      {"server", required_argument, NULL, 's'},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *unit = "", *period = NULL, *indicator = "";
  int ch, rc;

  while ((ch = getopt_long(argc, argv, "p:u:i:s:h", opts, NULL)) != -1) {
    switch (ch) {
    case 'p': period = optarg; break;
    case 'u': unit = optarg; break;
    case 'i': indicator = optarg; break;
    case 'h': fputs(usage_report, stdout); return EXIT_OK;
    case '?': fputs("Try 'tally help report'.\n", stderr); return EXIT_USAGE;
    default:
      if ((rc = common_option(ch, c)) != 0)
        return rc;
    }
  }
  if ((rc = need(period, "--period", "report")) != 0)
    return rc;

  Tally__ReportRequest q = TALLY__REPORT_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  q.period = (char *)period;
  q.unit = (char *)unit;
  q.indicator = (char *)indicator;
  req.body_case = TALLY__ENVELOPE__BODY_REPORT;
  req.report = &q;
  if ((rc = call_or_say(c, &req, &reply)) == 0) {
    if (reply->body_case == TALLY__ENVELOPE__BODY_REPORT_REPLY)
      print_report(reply->report_reply, c->format);
    else {
      fputs("tally: the server sent an unexpected reply\n", stderr);
      rc = EXIT_REFUSED;
    }
  }
  tally_wire_free(reply);
  return rc;
}

static const struct {
  const char *name;
  int (*run)(int argc, char **argv, struct common *c);
  const char *usage;
} commands[] = {
    {"submit", cmd_submit, usage_submit},
    {"values", cmd_values, usage_values},
    {"report", cmd_report, usage_report},
};

static int find_command(const char *name) {
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(commands[i].name, name) == 0)
      return (int)i;
  return -1;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"server", required_argument, NULL, 's'},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  struct common c = {NULL, 30, FORMAT_TABLE};
  int ch, rc;

  /* Display widths of Chinese text need a UTF-8 locale. */
  if (setlocale(LC_CTYPE, "") == NULL || MB_CUR_MAX == 1)
    setlocale(LC_CTYPE, "C.UTF-8");
  c.server = getenv("TALLY_SERVER");
  if (c.server == NULL || *c.server == 0)
    c.server = TALLY_CLIENT_DEFAULT_SERVER;

  /* "+": stop at the command; its options are parsed by the command. */
  while ((ch = getopt_long(argc, argv, "+s:hV", opts, NULL)) != -1) {
    switch (ch) {
    case 'h': fputs(usage, stdout); return EXIT_OK;
    case 'V': puts("tally " TALLY_VERSION); return EXIT_OK;
    case '?': fputs("Try 'tally --help'.\n", stderr); return EXIT_USAGE;
    default:
      if ((rc = common_option(ch, &c)) != 0)
        return rc;
    }
  }
  if (optind >= argc) {
    fputs(usage, stderr);
    return EXIT_USAGE;
  }
  const char *name = argv[optind];
  if (strcmp(name, "help") == 0) {
    int i = optind + 1 < argc ? find_command(argv[optind + 1]) : -1;
    if (optind + 1 < argc && i < 0) {
      fprintf(stderr, "tally: no command '%s'\n", argv[optind + 1]);
      return EXIT_USAGE;
    }
    fputs(i >= 0 ? commands[i].usage : usage, stdout);
    return EXIT_OK;
  }
  int i = find_command(name);
  if (i < 0) {
    fprintf(stderr, "tally: no command '%s'\nTry 'tally --help'.\n", name);
    return EXIT_USAGE;
  }
  argc -= optind;
  argv += optind;
  optind = 1;
  return commands[i].run(argc, argv, &c);
}
