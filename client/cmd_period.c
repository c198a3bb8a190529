/* cmd_period.c: period list, lock and unlock: the periods the central
 * office has approved and closed. */
#include "cli.h"
#include "i18n.h"
#include "output.h"
#include "utf8.h"
#include "wire.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The help says the limit as a number, for xgettext to read. */
_Static_assert(TALLY_UTF8_TEXT_MAX == 200, "tally_usage_period's 200");

const char tally_usage_period[] = N_(
    "usage: tally period list [--format FMT]\n"
    "       tally period lock PERIOD [--text TEXT]\n"
    "       tally period unlock PERIOD [--text TEXT]\n"
    "\n"
    "The central office locks a period once it has approved its figures:\n"
    "until it is unlocked, no unit's figures for it are stored, corrected or\n"
    "withdrawn (a submission is refused and set aside in the spool; send\n"
    "the file again after the unlock). Reports, checks and targets go on as\n"
    "before. A lock is for the period named: 2022 locks the year, not its\n"
    "quarters or months, nor 2021, which 2022's changes on the year before\n"
    "read (lock says which earlier periods its indicators read are still\n"
    "open). Locking and unlocking are in the audit trail.\n"
    "\n"
    "  list    every locked period: when, by whom, and why (anyone)\n"
    "  lock    closes PERIOD once it has ended (analysts and admins), and\n"
    "          tells of its figures still flagged to check (tally check)\n"
    "  unlock  opens it again, e.g. for a correction (analysts and admins)\n"
    "\n"
    "options:\n"
    "      --text TEXT      why, e.g. \"approved for the 2022 report\" (at\n"
    "                       most 200 bytes; kept with the lock and in the\n"
    "                       audit trail)\n"
    "      --format FMT     table (default), json or csv (list)\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n");

static void lock_when(char *buf, size_t n, const Tally__PeriodLock *l) {
  if (l->locked_unix == 0) /* an unreadable record */
    snprintf(buf, n, "(unknown)");
  else
    tally_cli_time(buf, n, l->locked_unix);
}

static int period_list(tally_cli *c) {
  Tally__LockListRequest q = TALLY__LOCK_LIST_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  req.body_case = TALLY__ENVELOPE__BODY_LOCK_LIST;
  req.lock_list = &q;
  int rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_LOCK_LIST_REPLY,
                          &reply);
  if (rc != 0)
    goto out;
  const Tally__LockListReply *l = reply->lock_list_reply;
  if (c->format == FORMAT_JSON) {
    json_t *arr = json_array();
    for (size_t i = 0; i < l->n_locks; i++) {
      const Tally__PeriodLock *k = l->locks[i];
      json_array_append_new(
          arr, json_pack("{s:s, s:I, s:I, s:s, s:s}", "period", k->period,
                         "locked_unix", (json_int_t)k->locked_unix,
                         "account_id", (json_int_t)k->account_id,
                         "account_name", k->account_name, "text", k->text));
    }
    json_t *doc = json_pack("{s:o}", "locked", arr);
    json_dumpf(doc, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(doc);
    goto out;
  }
  static const char *const cols[] = {"period", "locked", "by", "why"};
  static const int right[] = {0, 0, 0, 0};
  tally_table *t = tally_table_new(4, cols, right);
  for (size_t i = 0; t && i < l->n_locks; i++) {
    const Tally__PeriodLock *k = l->locks[i];
    char when[32], by[160];
    lock_when(when, sizeof when, k);
    snprintf(by, sizeof by, "%llu %s", (unsigned long long)k->account_id,
             k->account_name);
    const char *row[] = {k->period, when, by, k->text};
    tally_table_add(t, row);
  }
  if (t == NULL)
    rc = EXIT_REFUSED;
  else if (c->format == FORMAT_CSV)
    tally_table_print_csv(t, stdout);
  else if (l->n_locks == 0)
    printf("no period is locked\n");
  else
    tally_table_print(t, stdout);
  tally_table_free(t);
out:
  tally_wire_free(reply);
  return rc;
}

static int period_lock(tally_cli *c, const char *period, const char *text,
                       int unlock) {
  Tally__LockRequest q = TALLY__LOCK_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  q.period = (char *)period;
  q.unlock = unlock;
  q.text = (char *)(text ? text : "");
  req.body_case = TALLY__ENVELOPE__BODY_LOCK;
  req.lock = &q;
  int rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_LOCK_REPLY, &reply);
  if (rc != 0)
    goto out;
  const Tally__LockReply *r = reply->lock_reply;
  char when[32] = "";
  if (r->lock)
    lock_when(when, sizeof when, r->lock);
  if (unlock && !r->changed) {
    printf("%s was not locked: nothing to do\n", period);
  } else if (r->lock == NULL) { /* a server that says nothing of it */
    printf("%s %s\n", period, unlock ? "unlocked" : "locked");
  } else if (unlock) {
    printf("%s unlocked%s%s%s: its figures may be submitted and corrected "
           "again (it was locked on %s by %s)\n",
           r->lock->period, text && *text ? " (" : "", text ? text : "",
           text && *text ? ")" : "", when, r->lock->account_name);
  } else {
    printf("%s %s on %s by %s%s%s\n", r->lock->period,
           r->changed ? "locked" : "was locked already", when,
           r->lock->account_name, *r->lock->text ? ": " : "",
           r->lock->text);
    if (*r->note)
      printf("note: %s\n", r->note);
  }
out:
  tally_wire_free(reply);
  return rc;
}

int tally_cmd_period(int argc, char **argv, tally_cli *c) {
  const char *text = NULL;
  const tally_cli_opt own[] = {{"text", 0, &text, NULL, NULL},
                               {NULL, 0, NULL, NULL, NULL}};
  int rc = tally_cli_parse(argc, argv, c, "period", tally_usage_period, own, 1);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  const char *sub = optind < argc ? argv[optind] : "";
  int args = argc - optind - 1; /* operands after the subcommand */
  if (strcmp(sub, "list") == 0 && args == 0) {
    if (text) {
      fputs(_("tally period list: --text is for lock and unlock\n"
            "Try 'tally help period'.\n"), stderr);
      return EXIT_USAGE;
    }
    return period_list(c);
  }
  if (strcmp(sub, "lock") == 0 || strcmp(sub, "unlock") == 0) {
    if (args != 1) {
      fprintf(stderr, _("tally period %s: give one PERIOD\n"
              "Try 'tally help period'.\n"), sub);
      return EXIT_USAGE;
    }
    if (c->format != FORMAT_TABLE) {
      fprintf(stderr, _("tally period %s: --format is for 'tally period "
              "list'\nTry 'tally help period'.\n"), sub);
      return EXIT_USAGE;
    }
    char command[16];
    snprintf(command, sizeof command, "period %s", sub);
    if ((rc = tally_cli_need_period(argv[optind + 1], command)) != 0)
      return rc;
    return period_lock(c, argv[optind + 1], text, sub[0] == 'u');
  }
  fputs(_("tally period: say 'list', 'lock PERIOD' or 'unlock PERIOD'\n"
        "Try 'tally help period'.\n"), stderr);
  return EXIT_USAGE;
}
