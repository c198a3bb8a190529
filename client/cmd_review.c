/* cmd_review.c: tally review (the central office's review of units'
 * reports) and tally status (a unit's own periods, for its clerk). */
#include "cli.h"
#include "i18n.h"
#include "output.h"
#include "review.h"
#include "wire.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char tally_usage_review[] =
    N_("usage: tally review list --period PERIOD [--format FMT]\n"
    "       tally review approve --unit UNIT --period PERIOD --revision N\n"
    "       tally review return --unit UNIT --period PERIOD --reason TEXT\n"
    "       tally review reopen --unit UNIT --period PERIOD --reason TEXT\n"
    "\n"
    "The central office's review (审核) of each unit's report (analysts and\n"
    "admins). 'list' is the queue of a period: each unit's revision, when\n"
    "it last changed, its review, the error rules its figures break, its\n"
    "warnings with the office's explanations, and its figures that moved\n"
    "sharply on a year before (tally check). 'return' sends a report\n"
    "back for correction (退回): the office is told the reason when it next\n"
    "submits, looks at its figures or its status; its next submission makes\n"
    "it 'submitted again'. 'approve' names the revision reviewed (refused\n"
    "if the report has changed since), and is refused while the figures\n"
    "break an error rule or hold none; an approved report takes no\n"
    "submission, correction or withdrawal until it is reopened, with a\n"
    "reason. Every change is in the audit trail.\n"
    "\n"
    "options:\n"
    "  -u, --unit UNIT      a reporting unit\n"
    "  -p, --period PERIOD  2022, 2022Q3 or 2022-07\n"
    "      --reason TEXT    why (a return and a reopening need one)\n"
    "      --revision N     approve: the revision reviewed (review list)\n"
    "      --format FMT     for list: table (default), csv or json\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n");

const char tally_usage_status[] =
    N_("usage: tally status [--unit UNIT] [--format FMT]\n"
    "\n"
    "Each period a unit has reported, newest first: its revision, when it\n"
    "last changed, and the central office's review: returned (with the\n"
    "reason: correct the figures and submit again), submitted again,\n"
    "approved (no more changes until it is reopened), reopened. A\n"
    "reporter sees its own unit (no --unit needed).\n"
    "\n"
    "options:\n"
    "  -u, --unit UNIT      the unit (analysts: any)\n"
    "      --format FMT     table (default), csv or json\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n");

/* A review's state in JSON (a program's), and in a table or CSV (a
 * person's: in Chinese too, the words of the web pages). */
static const char *const state_words[] = {
    "submitted", "returned 退回", "submitted again", "approved 已审核",
    "reopened"};
static const char *const state_table_words[] = {
    "submitted 已报送", "returned 退回", "submitted again 退回后重新报送",
    "approved 已审核", "reopened 已重新打开"};

/* The rows of a queue or a status, as the format says. */
static void print_rows(const tally_cli *c, Tally__ReviewRow *const *rows,
                       size_t n, const char *title) {
  if (c->format == FORMAT_JSON) {
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
      const Tally__ReviewRow *r = rows[i];
      json_t *w = json_array();
      char text[600];
      for (size_t k = 0; k < r->n_warnings; k++)
        json_array_append_new(
            w, json_pack("{s:s, s:s, s:s}", "rule", r->warnings[k]->rule,
                         "message", r->warnings[k]->message, "explanation",
                         r->warnings[k]->explanation));
      tally_review_text_local(r->review, text, sizeof text);
      json_t *m = json_array();
      for (size_t k = 0; k < r->n_moved; k++)
        json_array_append_new(
            m, json_pack("{s:s, s:f, s:f}", "element", r->moved[k]->element,
                         "value", r->moved[k]->value, "previous",
                         r->moved[k]->previous));
      json_array_append_new(
          arr, json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:i, s:o, s:o}",
                         "unit",
                         r->unit, "period", r->period, "due", r->due, "revision",
                         (json_int_t)r->revision, "submitted_unix",
                         (json_int_t)r->submitted_unix, "state",
                         r->revision == 0 ? "not reported"
                         : r->review      ? state_words[r->review->state % 5]
                                          : state_words[0],
                         "review", text, "errors", (int)r->errors, "warnings",
                         w, "moved", m));
    }
    json_dumpf(arr, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(arr);
    return;
  }
  static const char *const cols[] = {"unit", "period", "revision",
                                     "changed", "state", "errors",
                                     "warnings", "moved", "review"};
  static const int right[] = {0, 0, 1, 0, 0, 1, 0, 0, 0};
  tally_table *t = tally_table_new(9, cols, right);
  for (size_t i = 0; t && i < n; i++) {
    const Tally__ReviewRow *r = rows[i];
    char rev[24], when[32] = "", errors[16], warnings[800] = "", text[600],
        moved[400] = "";
    size_t at = 0;
    snprintf(rev, sizeof rev, "%llu", (unsigned long long)r->revision);
    if (r->revision)
      tally_cli_time(when, sizeof when, r->submitted_unix);
    snprintf(errors, sizeof errors, "%u", r->errors);
    for (size_t k = 0; k < r->n_warnings && at + 2 < sizeof warnings; k++)
      at += (size_t)snprintf(warnings + at, sizeof warnings - at, "%s%s%s%s%s",
                             k ? "; " : "", r->warnings[k]->rule,
                             *r->warnings[k]->explanation ? " (" : "",
                             r->warnings[k]->explanation,
                             *r->warnings[k]->explanation ? ")" : "");
    at = 0;
    for (size_t k = 0; k < r->n_moved && at + 2 < sizeof moved; k++)
      at += (size_t)snprintf(moved + at, sizeof moved - at, "%s%s",
                             k ? ", " : "", r->moved[k]->element);
    tally_review_text_local(r->review, text, sizeof text);
    const char *row[] = {r->unit, r->period, rev, when,
                         r->revision == 0 ? "not reported 未报送"
                         : r->review ? state_table_words[r->review->state % 5]
                                     : state_table_words[0],
                         errors, warnings, moved, r->review ? text : ""};
    tally_table_add(t, row);
  }
  if (t && c->format == FORMAT_CSV) {
    tally_table_print_csv(t, stdout);
  } else if (t) {
    printf("%s\n", title);
    if (n)
      tally_table_print(t, stdout);
  }
  tally_table_free(t);
}

int tally_cmd_review(int argc, char **argv, tally_cli *c) {
  const char *unit = NULL, *period = NULL, *reason = NULL, *rev = NULL;
  const tally_cli_opt own[] = {{"unit", 'u', &unit, NULL, NULL},
                               {"period", 'p', &period, NULL, NULL},
                               {"reason", 0, &reason, NULL, NULL},
                               {"revision", 0, &rev, NULL, NULL},
                               {NULL, 0, NULL, NULL, NULL}};
  int rc = tally_cli_parse(argc, argv, c, "review", tally_usage_review, own, 1);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  const char *sub = optind < argc ? argv[optind] : "";
  if (optind + 1 < argc) {
    fprintf(stderr, _("tally review: unexpected argument '%s'\nTry 'tally help "
            "review'.\n"), argv[optind + 1]);
    return EXIT_USAGE;
  }
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  if (strcmp(sub, "list") == 0) {
    if ((rc = tally_cli_need_period(period, "review list")) != 0)
      return rc;
    Tally__ReviewListRequest q = TALLY__REVIEW_LIST_REQUEST__INIT;
    q.period = (char *)period;
    req.body_case = TALLY__ENVELOPE__BODY_REVIEW_LIST;
    req.review_list = &q;
    if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_REVIEW_LIST_REPLY,
                             &reply)) == 0) {
      const Tally__ReviewListReply *l = reply->review_list_reply;
      char title[64];
      snprintf(title, sizeof title, "%s: %zu units", l->period, l->n_rows);
      print_rows(c, l->rows, l->n_rows, title);
    }
    tally_wire_free(reply);
    return rc;
  }
  if (strcmp(sub, "approve") && strcmp(sub, "return") && strcmp(sub, "reopen")) {
    fputs(_("tally review: say 'list', 'approve', 'return' or 'reopen'\n"
          "Try 'tally help review'.\n"), stderr);
    return EXIT_USAGE;
  }
  char command[32];
  snprintf(command, sizeof command, "review %s", sub);
  if ((rc = tally_cli_need(unit, "--unit", command)) != 0 ||
      (rc = tally_cli_need_period(period, command)) != 0)
    return rc;
  if (strcmp(sub, "approve") != 0 &&
      (rc = tally_cli_need(reason, "--reason", command)) != 0)
    return rc;
  unsigned long long revision = 0;
  if (strcmp(sub, "approve") == 0) {
    char *end;
    if ((rc = tally_cli_need(rev, "--revision", command)) != 0)
      return rc;
    revision = strtoull(rev, &end, 10);
    if (*rev < '0' || *rev > '9' || *end || revision == 0) {
      fprintf(stderr, _("tally review approve: --revision is the report's "
              "revision, a number from 1 (not '%s')\n"), rev);
      return EXIT_USAGE;
    }
  }
  Tally__ReviewRequest q = TALLY__REVIEW_REQUEST__INIT;
  q.unit = (char *)unit;
  q.period = (char *)period;
  q.action = (char *)sub;
  q.reason = (char *)(reason ? reason : "");
  q.revision = revision;
  req.body_case = TALLY__ENVELOPE__BODY_REVIEW;
  req.review = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_REVIEW_REPLY,
                           &reply)) == 0) {
    char text[600];
    tally_review_text_local(reply->review_reply->review, text, sizeof text);
    printf("%s %s: %s (was: %s)\n", unit, period, text,
           reply->review_reply->before);
  }
  tally_wire_free(reply);
  return rc;
}

int tally_cmd_status(int argc, char **argv, tally_cli *c) {
  const char *unit = NULL;
  const tally_cli_opt own[] = {{"unit", 'u', &unit, NULL, NULL},
                               {NULL, 0, NULL, NULL, NULL}};
  int rc = tally_cli_parse(argc, argv, c, "status", tally_usage_status, own, 1);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if ((rc = tally_cli_no_operands(argc, argv, "status")) != 0)
    return rc;
  Tally__Envelope *who = NULL, *reply = NULL;
  if ((rc = tally_cli_own_unit(c, &unit, &who)) != 0)
    return rc;
  if ((rc = tally_cli_need(unit, "--unit", "status")) != 0) {
    tally_wire_free(who);
    return rc;
  }
  Tally__StatusRequest q = TALLY__STATUS_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  q.unit = (char *)unit;
  req.body_case = TALLY__ENVELOPE__BODY_STATUS;
  req.status = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_STATUS_REPLY,
                           &reply)) == 0) {
    char title[128];
    snprintf(title, sizeof title, "%s: %zu period%s reported", unit,
             reply->status_reply->n_rows,
             reply->status_reply->n_rows == 1 ? "" : "s");
    print_rows(c, reply->status_reply->rows, reply->status_reply->n_rows,
               title);
  }
  tally_wire_free(reply);
  tally_wire_free(who);
  return rc;
}
