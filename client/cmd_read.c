/* cmd_read.c: values, history and check: the figures the server holds. */
#include "cli.h"
#include "i18n.h"
#include "output.h"
#include "review.h"
#include "wire.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char tally_usage_values[] =
    N_("usage: tally values --unit UNIT --period PERIOD [--format FMT]\n"
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
    "give it to 'tally submit --base-revision' to refuse a stale correction.\n");

const char tally_usage_history[] =
    N_("usage: tally history --unit UNIT --period PERIOD [--format FMT]\n"
    "\n"
    "Every change to a unit's figures for a period, oldest first: which\n"
    "submission made it, when, by which account, from which address, and\n"
    "each figure before and after (a removed figure has no 'after').\n"
    "\n"
    "options:\n"
    "  -u, --unit UNIT      the org unit code\n"
    "  -p, --period PERIOD  2022, 2022Q3 or 2022-07\n"
    "      --format FMT     table (default), json or csv\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n");

/* The options of values and history: --unit, --period, --format and
 * those every command takes. Returns 0 to go on, -1 after printing the
 * help, or the exit status. */
static int unit_and_period(int argc, char **argv, tally_cli *c,
                           const char *command, const char *usage,
                           const char **unit, const char **period) {
  const tally_cli_opt own[] = {{"unit", 'u', unit, NULL, NULL},
                               {"period", 'p', period, NULL, NULL},
                               {NULL, 0, NULL, NULL, NULL}};
  int rc = tally_cli_parse(argc, argv, c, command, usage, own, 1);
  if (rc || (rc = tally_cli_no_operands(argc, argv, command)) != 0)
    return rc;
  if ((rc = tally_cli_need(*unit, "--unit", command)) ||
      (rc = tally_cli_need_period(*period, command)))
    return rc;
  return 0;
}

int tally_cmd_values(int argc, char **argv, tally_cli *c) {
  const char *unit = NULL, *period = NULL;
  int rc = unit_and_period(argc, argv, c, "values", tally_usage_values, &unit,
                           &period);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;

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
          arr, json_pack("{s:s, s:f, s:s, s:s, s:s, s:I, s:s}", "element",
                         s->element, "value", s->value, "name_zh", s->name_zh,
                         "name_en", s->name_en, "unit", s->unit, "updated_unix",
                         (json_int_t)s->updated_unix, "level", s->level));
    }
    json_t *ex = json_array();
    for (size_t i = 0; i < v->n_explanations; i++) {
      const Tally__Explanation *e = v->explanations[i];
      json_array_append_new(
          ex, json_pack("{s:s, s:s, s:I, s:s}", "rule", e->rule, "text",
                        e->text, "time_unix", (json_int_t)e->time_unix,
                        "account_name", e->account_name));
    }
    json_t *doc = json_pack("{s:s, s:s, s:I, s:o, s:o}", "unit", v->unit,
                            "period", v->period, "revision",
                            (json_int_t)v->revision, "values", arr,
                            "explanations", ex);
    json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    fputc('\n', stdout);
    json_decref(doc);
    goto out;
  }

  static const char *const cols[] = {"element", "value", "name_zh", "name_en",
                                     "unit", "updated"};
  static const int right[] = {0, 1, 0, 0, 0, 0};
  tally_table *t = tally_table_new(6, cols, right);
  for (size_t i = 0; t && i < v->n_values; i++) {
    const Tally__StoredValue *s = v->values[i];
    char num[160], when[32];
    tally_cli_time(when, sizeof when, s->updated_unix);
    tally_cli_number(num, sizeof num, s->value);
    if (*s->level && c->format != FORMAT_CSV) {
      size_t used = strlen(num);
      snprintf(num + used, sizeof num - used, " %s", s->level);
    }
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
    if (v->review && v->review->state != TALLY__REVIEW_STATE__REVIEW_NONE) {
      char text[600];
      tally_review_text_local(v->review, text, sizeof text);
      printf("review: %s\n", text);
    }
    /* Why figures that break warning rules are right (上报说明). */
    for (size_t i = 0; i < v->n_explanations; i++) {
      const Tally__Explanation *e = v->explanations[i];
      char when[32];
      tally_cli_time(when, sizeof when, e->time_unix);
      printf("explained, rule %s (%s, %s): %s\n", e->rule, e->account_name,
             when, e->text);
    }
  }
  tally_table_free(t);
out:
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
  json_t *ex = json_object();
  for (size_t i = 0; i < cs->n_explanations; i++)
    json_object_set_new(ex, cs->explanations[i]->rule,
                        json_string(cs->explanations[i]->text));
  return json_pack("{s:I, s:s, s:I, s:s, s:I, s:s, s:o, s:o, s:s}",
                   "revision", (json_int_t)cs->revision, "submission_id",
                   cs->submission_id, "time_unix", (json_int_t)cs->time_unix,
                   "peer", cs->peer, "account_id", (json_int_t)cs->account_id,
                   "account_name", cs->account_name, "changes", arr,
                   "explanations", ex, "how", cs->how);
}

/* The next page of a history: after the last revision of this one. */
static int history_turn(Tally__Envelope *req, const Tally__Envelope *reply) {
  const Tally__HistoryReply *h = reply->history_reply;
  if (!h->more)
    return 0;
  if (h->next <= req->history->after)
    return -1;
  req->history->after = h->next;
  return 1;
}

int tally_cmd_history(int argc, char **argv, tally_cli *c) {
  const char *unit = NULL, *period = NULL;
  int rc = unit_and_period(argc, argv, c, "history", tally_usage_history,
                           &unit, &period);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;

  Tally__HistoryRequest q = TALLY__HISTORY_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, **pages = NULL;
  size_t n_pages = 0;
  q.unit = (char *)unit;
  q.period = (char *)period;
  req.body_case = TALLY__ENVELOPE__BODY_HISTORY;
  req.history = &q;
  if ((rc = tally_cli_pages(c, &req, TALLY__ENVELOPE__BODY_HISTORY_REPLY,
                            history_turn, &pages, &n_pages)) != 0)
    return rc;
  /* The pages, as one history. */
  Tally__HistoryReply all = *pages[0]->history_reply, *h = &all;
  size_t total = 0;
  for (size_t i = 0; i < n_pages; i++)
    total += pages[i]->history_reply->n_changes;
  all.n_changes = 0;
  all.changes = malloc((total ? total : 1) * sizeof *all.changes);
  if (all.changes == NULL) {
    fputs(_("tally: out of memory\n"), stderr);
    rc = EXIT_REFUSED;
    goto out;
  }
  for (size_t i = 0; i < n_pages; i++)
    for (size_t k = 0; k < pages[i]->history_reply->n_changes; k++)
      all.changes[all.n_changes++] = pages[i]->history_reply->changes[k];

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
  static const char *const cols[] = {"revision", "time", "element",
                                     "before",   "after",      "submission",
                                     "by",       "from"};
  static const int right[] = {1, 0, 0, 1, 1, 0, 0, 0};
  tally_table *t = tally_table_new(8, cols, right);
  for (size_t i = 0; t && i < h->n_changes; i++) {
    const Tally__ChangeSet *cs = h->changes[i];
    char rev[24], when[32], by[160];
    snprintf(rev, sizeof rev, "%llu", (unsigned long long)cs->revision);
    snprintf(by, sizeof by, "%llu %s", (unsigned long long)cs->account_id,
             cs->account_name);
    tally_cli_time(when, sizeof when, cs->time_unix);
    for (size_t k = 0; k < cs->n_changes; k++) {
      const Tally__Change *chg = cs->changes[k];
      char before[64] = "", after[64] = "(removed)";
      if (chg->had_old)
        tally_cli_number(before, sizeof before, chg->old_value);
      if (chg->has_new)
        tally_cli_number(after, sizeof after, chg->new_value);
      const char *row[] = {rev, when, chg->element, before, after,
                           cs->submission_id, by, cs->peer};
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
    for (size_t i = 0; i < h->n_changes; i++)
      if (*h->changes[i]->how)
        printf("revision %llu was %s\n",
               (unsigned long long)h->changes[i]->revision,
               h->changes[i]->how);
    for (size_t i = 0; i < h->n_changes; i++)
      for (size_t k = 0; k < h->changes[i]->n_explanations; k++)
        printf("revision %llu explained rule %s: %s\n",
               (unsigned long long)h->changes[i]->revision,
               h->changes[i]->explanations[k]->rule,
               h->changes[i]->explanations[k]->text);
  }
  tally_table_free(t);
out:
  free(all.changes);
  for (size_t i = 0; i < n_pages; i++)
    tally_wire_free(pages[i]);
  free(pages);
  return rc;
}


const char tally_usage_check[] =
    /* xgettext:no-c-format */ N_("usage: tally check --period PERIOD [--unit UNIT] [--format FMT]\n"
    "\n"
    "The figures of a period that moved sharply against the same unit's\n"
    "figures for the same period a year before (2022 against 2021, 2022Q3\n"
    "against 2021Q3): more than 30% up or down and, for a count, more than\n"
    "chance explains (the difference is over 3 times the square root of\n"
    "the two counts' sum, so 1 infant death after 3 is not flagged, 40 after\n"
    "13 is). Such figures are stored as sent and shown here (and to the\n"
    "office that submits them) for someone to check: a slipped digit, a\n"
    "figure of another period. Statuses are not compared.\n"
    "\n"
    "options:\n"
    "  -p, --period PERIOD  2022, 2022Q3 or 2022-07\n"
    "  -u, --unit UNIT      only the units under UNIT (default: the\n"
    "                       district; for a reporter its own unit, whose own\n"
    "                       figures alone are checked)\n"
    "      --format FMT     table (default), json or csv\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n");

int tally_cmd_check(int argc, char **argv, tally_cli *c) {
  const char *unit = NULL, *period = NULL;
  const tally_cli_opt own[] = {{"unit", 'u', &unit, NULL, NULL},
                               {"period", 'p', &period, NULL, NULL},
                               {NULL, 0, NULL, NULL, NULL}};
  int rc = tally_cli_parse(argc, argv, c, "check", tally_usage_check, own, 1);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if ((rc = tally_cli_no_operands(argc, argv, "check")) != 0 ||
      (rc = tally_cli_need_period(period, "check")) != 0)
    return rc;

  Tally__Envelope *who = NULL;
  if ((rc = tally_cli_own_unit(c, &unit, &who)) != 0)
    return rc;
  Tally__CheckRequest q = TALLY__CHECK_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  q.period = (char *)period;
  q.unit = (char *)(unit ? unit : "");
  req.body_case = TALLY__ENVELOPE__BODY_CHECK;
  req.check = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_CHECK_REPLY,
                           &reply)) != 0)
    goto out;
  const Tally__CheckReply *k = reply->check_reply;

  if (c->format == FORMAT_JSON) {
    json_t *arr = json_array();
    for (size_t i = 0; i < k->n_flags; i++) {
      const Tally__Flag *f = k->flags[i];
      json_array_append_new(
          arr, json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:o}", "unit",
                         f->unit, "element", f->element, "name_zh", f->name_zh,
                         "name_en", f->name_en, "value", f->value, "previous",
                         f->previous, "change_percent",
                         f->previous ? json_real((f->value / f->previous - 1) *
                                                 100)
                                     : json_null()));
    }
    json_t *doc = json_pack("{s:s, s:s, s:s, s:b, s:i, s:o}", "unit", k->unit,
                            "period", k->period, "base_period", k->base_period,
                            "own", k->own, "compared", (int)k->compared,
                            "flags", arr);
    json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    fputc('\n', stdout);
    json_decref(doc);
    goto out;
  }
  /* A table heads the figures with their periods; csv keeps fixed names. */
  const int csv = c->format == FORMAT_CSV;
  const char *const cols[] = {"unit", "element", "name_zh", "name_en",
                              csv ? "previous" : k->base_period,
                              csv ? "value" : k->period, "change"};
  static const int right[] = {0, 0, 0, 0, 1, 1, 1};
  tally_table *t = tally_table_new(7, cols, right);
  for (size_t i = 0; t && i < k->n_flags; i++) {
    const Tally__Flag *f = k->flags[i];
    char now[64], before[64], change[32];
    tally_cli_number(now, sizeof now, f->value);
    tally_cli_number(before, sizeof before, f->previous);
    tally_cli_change(change, sizeof change, f->previous, f->value);
    const char *row[] = {f->unit, f->element, f->name_zh, f->name_en, before,
                         now, change};
    tally_table_add(t, row);
  }
  if (t == NULL) {
    rc = EXIT_REFUSED;
  } else if (csv) {
    tally_table_print_csv(t, stdout);
  } else if (*k->base_period == 0) {
    printf("%s %s: no year before to compare with\n", k->unit, k->period);
  } else if (k->compared == 0) {
    printf("%s %s against %s%s: no figure reported in both periods, nothing "
           "to compare\n", k->unit, k->period, k->base_period,
           k->own ? " (its own figures)" : "");
  } else {
    printf("%s %s against %s%s: %u figure%s compared, %zu to check%s\n",
           k->unit, k->period, k->base_period,
           k->own ? " (its own figures)" : "", k->compared,
           k->compared == 1 ? "" : "s", k->n_flags, k->n_flags ? ":" : "");
    if (k->n_flags)
      tally_table_print(t, stdout);
  }
  tally_table_free(t);
out:
  tally_wire_free(reply);
  tally_wire_free(who);
  return rc;
}

const char tally_usage_validate[] =
    N_("usage: tally validate --period PERIOD [--unit UNIT] [--format FMT]\n"
    "\n"
    "Runs every rule of the catalog (审核公式) over the figures stored for a\n"
    "period, and lists each one broken: for figures stored before a rule\n"
    "existed, or sent in several files. An error (逻辑性) means figures that\n"
    "cannot be right; a warning (合理性), figures to look at again, shown with\n"
    "the explanation the office gave, if any. Without --unit: every\n"
    "reporting unit (a reporter: its own unit); a unit above others: each\n"
    "unit below it.\n"
    "\n"
    "options:\n"
    "  -p, --period PERIOD  2022, 2022Q3 or 2022-07\n"
    "  -u, --unit UNIT      one unit, or the units below it\n"
    "      --format FMT     table (default), csv or json\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n"
    "\n"
    "exit status: 0 when no error rule is broken, 1 when one is (warnings\n"
    "alone do not change it), or as for every command.\n");

int tally_cmd_validate(int argc, char **argv, tally_cli *c) {
  const char *unit = NULL, *period = NULL;
  const tally_cli_opt own[] = {{"unit", 'u', &unit, NULL, NULL},
                               {"period", 'p', &period, NULL, NULL},
                               {NULL, 0, NULL, NULL, NULL}};
  int rc = tally_cli_parse(argc, argv, c, "validate", tally_usage_validate,
                           own, 1);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if ((rc = tally_cli_no_operands(argc, argv, "validate")) != 0 ||
      (rc = tally_cli_need_period(period, "validate")) != 0)
    return rc;
  Tally__Envelope *who = NULL, *reply = NULL;
  if ((rc = tally_cli_own_unit(c, &unit, &who)) != 0)
    return rc;
  Tally__ValidateRequest q = TALLY__VALIDATE_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  q.period = (char *)period;
  q.unit = (char *)(unit ? unit : "");
  req.body_case = TALLY__ENVELOPE__BODY_VALIDATE;
  req.validate = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_VALIDATE_REPLY,
                           &reply)) != 0)
    goto out;
  const Tally__ValidateReply *v = reply->validate_reply;
  size_t errors = 0;
  for (size_t i = 0; i < v->n_violations; i++)
    errors += !v->violations[i]->warning;

  if (c->format == FORMAT_JSON) {
    json_t *arr = json_array();
    for (size_t i = 0; i < v->n_violations; i++) {
      const Tally__Violation *x = v->violations[i];
      json_array_append_new(
          arr, json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:s}", "unit",
                         x->unit, "rule", x->rule, "severity",
                         x->warning ? "warning" : "error", "message",
                         x->message, "left", x->left, "right", x->right,
                         "explanation", x->explanation));
    }
    json_t *doc = json_pack("{s:s, s:i, s:i, s:o}", "period", v->period,
                            "units", (int)v->units, "rules", (int)v->rules,
                            "violations", arr);
    json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    fputc('\n', stdout);
    json_decref(doc);
  } else {
    static const char *const cols[] = {"unit", "rule", "severity", "what",
                                       "explanation"};
    static const int right[] = {0, 0, 0, 0, 0};
    tally_table *t = tally_table_new(5, cols, right);
    for (size_t i = 0; t && i < v->n_violations; i++) {
      const Tally__Violation *x = v->violations[i];
      const char *row[] = {x->unit, x->rule,
                           x->warning ? "warning 合理性" : "error 逻辑性",
                           x->message, x->explanation};
      tally_table_add(t, row);
    }
    if (t == NULL) {
      rc = EXIT_REFUSED;
    } else if (c->format == FORMAT_CSV) {
      tally_table_print_csv(t, stdout);
    } else {
      printf("%s: %u unit%s checked against %u rules: %zu error%s, %zu "
             "warning%s%s\n", v->period, v->units, v->units == 1 ? "" : "s",
             v->rules, errors, errors == 1 ? "" : "s",
             v->n_violations - errors, v->n_violations - errors == 1 ? "" : "s",
             v->n_violations ? ":" : "");
      if (v->n_violations)
        tally_table_print(t, stdout);
    }
    tally_table_free(t);
  }
  if (rc == 0 && errors)
    rc = EXIT_REFUSED;
out:
  tally_wire_free(reply);
  tally_wire_free(who);
  return rc;
}
