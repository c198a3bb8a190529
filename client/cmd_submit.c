/* cmd_submit.c: submit, sync and pending: getting figures to the server
 * exactly once.
 *
 * The happy path: submit reads the file, gives the submission a new id,
 * writes it to the spool, sends everything in the spool oldest first,
 * and removes each entry once the server has acknowledged it.
 * The failure modes: the server cannot be reached, closes without a
 * reply, or says it is busy or its store failed: the entry stays in the
 * spool and the exit status is 3; sending it again later is safe, since
 * the server answers a known id from its record. The server refuses the
 * figures (bad unit, bad value, conflict): the entry is set aside in
 * spool/refused/ and the exit status is 1. This account may not send an
 * entry (another unit's): it stays for an account that may, or until
 * 'tally pending --drop' sets it aside. The server answers with what
 * cannot be the acknowledgement of this request (another id, another
 * submission's, a reply of another kind): the entry stays, exit 3. submit's exit status is its own
 * submission's; the other entries it sends on the way are told of.
 */
#include "catalog_cache.h"
#include "i18n.h"
#include "cli.h"
#include "error.h"
#include "figfile.h"
#include "precheck.h"
#include "frame.h"
#include "output.h"
#include "period.h"
#include "spool.h"
#include "wire.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

const char tally_usage_submit[] =
    N_("usage: tally submit --unit UNIT --period PERIOD --file FILE [options]\n"
    "\n"
    "Sends one unit's figures for one period. FILE is CSV as Excel or WPS\n"
    "saves it: UTF-8 (a BOM is fine) or, on Chinese Windows, GB18030/GBK\n"
    "(read as such when it is not UTF-8). One figure a row:\n"
    "data_element,value; an element by its code or its Chinese name\n"
    "(活产数); a value with thousands separators (\"1,255\") or full-width\n"
    "digits is fine, a percentage is not (figures are counts and amounts).\n"
    "An optional first row 'data_element,value' (or 数据元素,数值) is a\n"
    "header; rows starting with # are comments; empty columns after the\n"
    "value are ignored; a row with an empty value is skipped (not\n"
    "reported). FILE - reads standard input.\n"
    "\n"
    "A figure already stored for the same unit, period and data element is\n"
    "replaced: that is how a figure is corrected. Either every figure of the\n"
    "file is stored or none is; the server answers only once they are on disk.\n"
    "\n"    "The server checks the figures, as they stand with those stored before,\n"
    "against the catalog's rules (审核公式) and lists every rule they break,\n"
    "with its lines. An error rule (逻辑性: infant deaths above live births)\n"
    "refuses them: correct the file. A warning (合理性: figures that are\n"
    "unusual) refuses them unless they come with an explanation (上报说明):\n"
    "--explain RULE=TEXT, or a row explain:RULE,TEXT in FILE. The\n"
    "explanation is kept with the figures and shown with them.\n"
    "What can be checked without the server (known unit and elements, whole\n"
    "counts, no negatives, an element once, the error rules whose figures\n"
    "are all in the file) is checked first, against the server's catalog as\n"
    "it last sent it (a copy kept beside the spool whenever tally talks to\n"
    "the server, so also while it is away): a file refused there is not\n"
    "spooled, and nothing is pending.\n"
    "\n"
    "Nothing is lost: the submission is first written to the spool (see\n"
    "--spool) with a new id, and leaves it only when the server has\n"
    "acknowledged it. If the server cannot be reached it stays there (exit\n"
    "status 3): send it later with 'tally sync'. Sending it twice is safe: the\n"
    "server stores a submission once. Older pending submissions are sent\n"
    "first, so figures arrive in the order they were submitted.\n"
    "\n"
    "options:\n"
    "  -u, --unit UNIT          the org unit code, e.g. wenchang\n"
    "  -p, --period PERIOD      2022, 2022Q3 or 2022-07\n"
    "  -f, --file FILE          the figures\n"
    "      --replace            FILE is the unit's whole report for the period:\n"
    "                           stored figures it leaves out are removed\n"
    "      --base-revision N    refuse (a conflict) unless the stored report is\n"
    "                           still at revision N (see 'tally values')\n"
    "  -e, --explain RULE=TEXT  why figures that break warning rule RULE are\n"
    "                           right (again for each rule)\n"
    "      --force              send a form (tally form) for another unit or\n"
    "                           period than the one it was made for\n"
    "  -n, --dry-run            check the figures on the server as it would\n"
    "                           check them now (rules, outlier tests, locks,\n"
    "                           review) and store nothing; not spooled\n"
    "      --encoding ENC       FILE's encoding: utf-8, gb18030 or gbk\n"
    "                           (default: UTF-8 if it is valid, else GB18030)\n"
    "      --spool DIR          the spool (default $TALLY_SPOOL, else\n"
    "                           $XDG_STATE_HOME/tally/spool, else\n"
    "                           ~/.local/state/tally/spool)\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n"
    "\n"
    "example:\n"
    "  tally submit --unit wenchang --period 2022 --file figures.csv\n"
    "\n"
    "exit status: that of this submission (tally --help); older pending\n"
    "submissions sent on the way are reported on standard error.\n");

const char tally_usage_withdraw[] =
    N_("usage: tally withdraw --unit UNIT --period PERIOD [options]\n"
    "\n"
    "Removes every figure a unit holds for a period: for a report sent for\n"
    "the wrong period or unit. The figures stay in 'tally history' and\n"
    "'tally audit'; submitting the period again brings a report back. It\n"
    "travels through the spool like a submission (tally help submit).\n"
    "\n"
    "options:\n"
    "  -u, --unit UNIT          the org unit code, e.g. wenchang\n"
    "  -p, --period PERIOD      2022, 2022Q3 or 2022-07\n"
    "      --base-revision N    refuse (a conflict) unless the stored report is\n"
    "                           still at revision N (see 'tally values')\n"
    "      --spool DIR          the spool (tally help submit)\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n"
    "\n"
    "example:\n"
    "  tally withdraw --unit wenchang --period 1999\n");

const char tally_usage_sync[] =
    N_("usage: tally sync [--tries N] [--spool DIR]\n"
    "       tally sync --resend-since DATE [--spool DIR]\n"
    "\n"
    "Sends every pending submission in the spool, oldest first. When the\n"
    "server cannot be reached it retries, waiting longer each time (0.5 s,\n"
    "1 s, 2 s, ... at most 30 s, with random jitter), up to N tries; then it\n"
    "stops, keeps what is left, and exits with status 3. A submission the\n"
    "server refuses is moved to the spool's refused/ folder (exit status 1).\n"
    "\n"
    "An acknowledged submission is kept in the spool's acknowledged/ folder\n"
    "for --keep-acknowledged (30 days by default). When the central office\n"
    "has restored the server from a backup, --resend-since DATE sends again\n"
    "those acknowledged since DATE (local time: 2026-12-01 from its start,\n"
    "2026-12-01 08:30; or with an offset: 2026-12-01T08:30:00+08:00, Z for\n"
    "UTC), with their ids: the server stores those it does not have and\n"
    "answers the others from its record, so nothing is stored twice.\n"
    "\n"
    "options:\n"
    "      --tries N        attempts per submission (default 5)\n"
    "      --resend-since DATE  send again what was acknowledged since DATE\n"
    "      --spool DIR      the spool (see tally help submit)\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n");

const char tally_usage_pending[] =
    N_("usage: tally pending [--refused [--clear] | --drop ID] [--format FMT]\n"
    "                     [--spool DIR]\n"
    "\n"
    "Lists the submissions in the spool that the server has not yet\n"
    "acknowledged, oldest first. 'tally sync' sends them.\n"
    "\n"
    "options:\n"
    "      --refused        list instead those set aside in the spool's\n"
    "                       refused/ folder (refused by the server, or\n"
    "                       dropped)\n"
    "      --clear          with --refused: delete them, once you no longer\n"
    "                       need them (each was refused, or dropped: none\n"
    "                       will be sent)\n"
    "      --drop ID        set the pending submission ID aside into\n"
    "                       refused/ instead of sending it (one this\n"
    "                       account may not send, say)\n"
    "      --format FMT     table (default), json or csv\n"
    "      --spool DIR      the spool (see tally help submit)\n");

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 30000

enum outcome {
  SENT,       /* acknowledged (acknowledges()): removed from the spool */
  REFUSED,    /* the server said no: set aside */
  NO_ANSWER,  /* unreachable, no reply, busy, the store failed, or an
                 answer that makes no sense: kept */
  NOT_SIGNED_IN, /* the token or TLS was refused: kept, for when they are
                   mended */
  NOT_ALLOWED /* this account may not send it: kept, for the unit's own */
};

/* A server error that may pass: the same submission may be accepted
 * later, so it stays in the spool. */
static int transient(Tally__ErrorCode code) {
  return code == TALLY__ERROR_CODE__ERROR_BUSY ||
         code == TALLY__ERROR_CODE__ERROR_STORE ||
         code == TALLY__ERROR_CODE__ERROR_TIMEOUT ||
         code == TALLY__ERROR_CODE__ERROR_INTERNAL;
}

/* Whether reply, to the request of this id, acknowledges req: a submit
 * reply for that request and that submission. Otherwise says, in why,
 * what made no sense. */
static int acknowledges(const Tally__Envelope *reply, uint64_t id,
                        const Tally__SubmitRequest *req, const char *server,
                        char *why, size_t n) {
  const char *wrong = NULL;
  if (reply->body_case != TALLY__ENVELOPE__BODY_SUBMIT_REPLY)
    wrong = "a reply of another kind";
  else if (reply->id != id)
    wrong = "a reply to another request";
  else if (strcmp(reply->submit_reply->submission_id, req->submission_id))
    wrong = "the acknowledgement of another submission";
  if (wrong == NULL)
    return 1;
  snprintf(why, n, "the server at %s answered submission %s with %s: that "
           "makes no sense, so it is not taken as stored", server,
           req->submission_id, wrong);
  return 0;
}

/* Sends one spooled submission once, on *conn (connecting if NULL).
 * Sets *reply to the server's answer when there is one. */
static enum outcome send_once(const tally_cli *c, tally_client **conn,
                              Tally__SubmitRequest *req,
                              Tally__Envelope **reply, char *why, size_t n) {
  Tally__Envelope env = TALLY__ENVELOPE__INIT;
  int rc;

  *reply = NULL;
  if (*conn == NULL) {
    int rc_open = tally_cli_open(c, conn, why, n);
    if (rc_open != 0) {
      *conn = NULL;
      return rc_open == TALLY_ETLS || rc_open == TALLY_EUSAGE ? NOT_SIGNED_IN
                                                              : NO_ANSWER;
    }
  }
  env.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
  env.submit = req;
  rc = tally_client_call(*conn, &env, reply, why, n);
  env.submit = NULL;
  if (rc == TALLY_EFRAME2BIG)
    return REFUSED; /* it can never be sent: *reply is NULL, why says so */
  if (rc != 0) {
    tally_client_close(*conn);
    *conn = NULL;
    return NO_ANSWER;
  }
  if ((*reply)->body_case != TALLY__ENVELOPE__BODY_ERROR) {
    if (acknowledges(*reply, env.id, req, c->server, why, n))
      return SENT;
    tally_client_close(*conn); /* what else it sends is not to be trusted */
    *conn = NULL;
    return NO_ANSWER; /* kept: it may not be stored */
  }
  if ((*reply)->error->code == TALLY__ERROR_CODE__ERROR_PERMISSION_DENIED)
    return NOT_ALLOWED; /* the figures may be fine; the account is not */
  if ((*reply)->error->code == TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED) {
    snprintf(why, n, "%s", (*reply)->error->message);
    tally_client_close(*conn); /* the server closes it too */
    *conn = NULL;
    return NOT_SIGNED_IN;
  }
  if (transient((*reply)->error->code)) {
    snprintf(why, n, "%s", (*reply)->error->message);
    tally_client_close(*conn); /* a busy server closes the connection */
    *conn = NULL;
    return NO_ANSWER;
  }
  return REFUSED;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* The wait before try number k (k >= 1): exponential, capped, plus
 * random jitter of up to half of it. */
static long backoff_ms(int k) {
  long d = BACKOFF_FIRST_MS;
  for (int i = 1; i < k && d < BACKOFF_MAX_MS; i++)
    d *= 2;
  if (d > BACKOFF_MAX_MS)
    d = BACKOFF_MAX_MS;
  unsigned r = 0;
  if (getrandom(&r, sizeof r, 0) != sizeof r)
    r = (unsigned)time(NULL);
  return d + (long)(r % (unsigned)(d / 2 + 1));
}

/* What send_pending reports about the caller's own submission. */
typedef struct {
  const char *name;                /* its spool entry, or NULL */
  const tally_figfile *figs;   /* for line numbers in messages */
  const char *file;
  enum outcome outcome;
  int seen;
} own_submission;

static void print_ack(const Tally__SubmitRequest *req,
                      const Tally__SubmitReply *ok, const char *from) {
  unsigned fresh = ok->accepted - ok->replaced - ok->unchanged;
  if (req->replace && req->n_values == 0 && ok->removed == 0) {
    printf("%s %s: no figures stored, nothing to withdraw\n", req->unit,
           req->period);
    return;
  }
  if (req->replace && req->n_values == 0) {
    printf("%s %s: withdrawn, %u value%s removed; revision %llu\n", req->unit,
           req->period, ok->removed, ok->removed == 1 ? "" : "s",
           (unsigned long long)ok->revision);
    return;
  }
  if (from)
    printf(ngettext("%s %s: %u value stored from %s",
                    "%s %s: %u values stored from %s", ok->accepted),
           req->unit, req->period, ok->accepted, from);
  else
    printf(ngettext("%s %s: %u value stored", "%s %s: %u values stored",
                    ok->accepted),
           req->unit, req->period, ok->accepted);
  printf(_(" (%u new, %u replaced, %u unchanged"), fresh, ok->replaced,
         ok->unchanged);
  if (ok->removed)
    printf(_(", %u removed"), ok->removed);
  printf(_("); revision %llu%s\n"), (unsigned long long)ok->revision,
         ok->duplicate ? _("; already stored before: answered from the "
                           "server's record")
                       : "");
  if (ok->returned) {
    char day[32];
    tally_cli_time(day, sizeof day, ok->returned->time_unix);
    printf("  退回后重新上报 / this submits %s again: the central office "
           "returned it on %s (%s): %s\n", req->period, day,
           ok->returned->account_name, ok->returned->reason);
  }
  for (size_t i = 0; i < ok->n_warnings; i++) {
    const Tally__Violation *v = ok->warnings[i];
    printf("  warning %s, explained%s%s%s: %s\n", v->rule,
           *v->explanation ? " as \"" : " before",
           *v->explanation ? v->explanation : "",
           *v->explanation ? "\"" : "", v->message);
  }
}

/* Whether req sent element. */
static int sent(const Tally__SubmitRequest *req, const char *element) {
  for (size_t i = 0; i < req->n_values; i++)
    if (strcmp(req->values[i]->element, element) == 0)
      return 1;
  return 0;
}

/* Tells, on standard error, the figures req sent that moved sharply
 * against a year before: stored, for someone to check. Asked of the
 * server on conn after the acknowledgement; when it cannot say (an
 * older server, a broken connection), nothing is told. */
static void tell_flags(tally_client **conn, const Tally__SubmitRequest *req) {
  Tally__CheckRequest q = TALLY__CHECK_REQUEST__INIT;
  Tally__Envelope env = TALLY__ENVELOPE__INIT, *reply = NULL;
  char err[256];
  if (req->n_values == 0)
    return; /* a withdrawal */
  q.period = req->period;
  q.unit = req->unit;
  env.body_case = TALLY__ENVELOPE__BODY_CHECK;
  env.check = &q;
  if (tally_client_call(*conn, &env, &reply, err, sizeof err) != 0) {
    tally_client_close(*conn); /* the next send opens another */
    *conn = NULL;
    return;
  }
  const Tally__CheckReply *k =
      reply->body_case == TALLY__ENVELOPE__BODY_CHECK_REPLY
          ? reply->check_reply
          : NULL;
  size_t n = 0;
  for (size_t i = 0; k && i < k->n_flags; i++)
    n += sent(req, k->flags[i]->element);
  if (n > 0)
    fprintf(stderr, _("tally: %s %s: check against %s (stored as sent; if a "
            "figure is wrong, submit it again corrected):\n"), req->unit,
            req->period, k->base_period);
  for (size_t i = 0; n > 0 && i < k->n_flags; i++) {
    const Tally__Flag *f = k->flags[i];
    char now[64], before[64], change[32];
    if (!sent(req, f->element))
      continue;
    tally_cli_number(now, sizeof now, f->value);
    tally_cli_number(before, sizeof before, f->previous);
    tally_cli_change(change, sizeof change, f->previous, f->value);
    fprintf(stderr, _("  %s (%s): %s, was %s in %s%s%s%s\n"), f->element,
            f->name_zh, now, before, f->base_period,
            f->previous ? " (" : "", f->previous ? change : "",
            f->previous ? ")" : "");
  }
  tally_wire_free(reply);
}

static void print_refusal(const Tally__SubmitRequest *req,
                          const Tally__ErrorReply *err, const char *why,
                          const own_submission *own, int is_own) {
  if (err == NULL) {
    fprintf(stderr, "tally: %s %s: %s\n", req->unit, req->period, why);
    return;
  }
  fprintf(stderr, "tally: %s %s: %s\n", req->unit, req->period, err->message);
  for (size_t i = 0; i < err->n_details; i++) {
    const Tally__ErrorDetail *d = err->details[i];
    if (is_own && own->figs && d->index >= 1 && d->index <= own->figs->n) {
      char lines[160] = "";
      size_t at = 0;
      for (size_t k = 0; k < d->n_also && at + 16 < sizeof lines; k++)
        if (d->also[k] >= 1 && d->also[k] <= own->figs->n)
          at += (size_t)snprintf(lines + at, sizeof lines - at, "%s%d",
                                 at ? ", " : " (and ",
                                 own->figs->items[d->also[k] - 1].line);
      fprintf(stderr, "  %s %s %d%s%s: %s\n", own->file,
              own->figs->line_word, own->figs->items[d->index - 1].line, lines, at ? ")" : "",
              d->text);
    }
    else if (d->index)
      fprintf(stderr, _("  item %u: %s\n"), d->index, d->text);
    else
      fprintf(stderr, "  %s\n", d->text);
  }
}

/* Sends every spool entry, oldest first, trying each up to tries times
 * when there is no answer. Returns the exit status: with own, that of
 * own's submission alone. */
static int send_pending(const tally_cli *c, int tries, own_submission *own,
                        int verbose) {
  tally_spool_entry *list;
  size_t n;
  tally_client *conn = NULL;
  char err[512] = "";
  int status = EXIT_OK, rc, stopped = 0, stopped_signed_out = 0, talked = 0;
  size_t not_allowed = 0; /* others' entries this account may not send */

  rc = tally_spool_list(c->spool, &list, &n, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "tally: %s\n", err);
    return own ? EXIT_UNREACHABLE : EXIT_REFUSED; /* own waits in it */
  }
  if (*err)
    fprintf(stderr, "tally: %s\n", err);

  size_t i;
  for (i = 0; i < n; i++) {
    tally_spool_entry *e = &list[i];
    int is_own = own && own->name && strcmp(own->name, e->name) == 0;
    Tally__Envelope *reply = NULL;
    enum outcome out = NO_ANSWER;
    char why[512] = "";

    for (int k = 0; k < tries; k++) {
      if (k > 0) {
        long ms = backoff_ms(k);
        fprintf(stderr, _("tally: %s; trying again in %.1f s\n"), why, ms / 1e3);
        sleep_ms(ms);
      }
      out = send_once(c, &conn, e->req, &reply, why, sizeof why);
      if (out != NO_ANSWER)
        break; /* NOT_SIGNED_IN too: trying again would not help */
      tally_wire_free(reply);
      reply = NULL;
    }
    if (is_own) {
      own->outcome = out;
      own->seen = 1;
    }
    if (out == NO_ANSWER || out == NOT_SIGNED_IN) {
      stopped = 1;
      stopped_signed_out = out == NOT_SIGNED_IN;
      fprintf(stderr, "tally: %s\n", why);
      tally_wire_free(reply);
      break;
    }
    if (out == NOT_ALLOWED && own && !is_own) {
      not_allowed++; /* told of once, below */
    } else if (out == NOT_ALLOWED) {
      print_refusal(e->req, reply->error, why, own, is_own);
      fprintf(stderr, _("  kept in the spool as %s: send it with an account "
              "of %s ('tally sync --token-file FILE'), or set it aside with "
              "'tally pending --drop %s'\n"), e->req->submission_id,
              e->req->unit, e->req->submission_id);
      status = EXIT_REFUSED;
    } else if (out == SENT) {
      talked = 1;
      /* Kept a while, to be sent again after a restore. */
      rc = c->keep_acknowledged_s > 0
               ? tally_spool_acknowledge(c->spool, e->name)
               : tally_spool_remove(c->spool, e->name);
      if (rc != 0)
        fprintf(stderr, _("tally: cannot remove %s from the spool: %s\n"),
                e->name, strerror(-rc));
      if (is_own || verbose)
        print_ack(e->req, reply->submit_reply, is_own ? own->file : NULL);
      tell_flags(&conn, e->req);
    } else {
      print_refusal(e->req,
                    reply && reply->body_case == TALLY__ENVELOPE__BODY_ERROR
                        ? reply->error
                        : NULL,
                    why, own, is_own);
      talked = 1;
      if ((rc = tally_spool_set_aside(c->spool, e->name)) != 0)
        fprintf(stderr, _("tally: cannot move %s aside: %s\n"), e->name,
                strerror(-rc));
      else
        /* An error reply means the request changed nothing (proto/). */
        fprintf(stderr, _("  the submission was not stored; it was moved to "
                "%s/refused/%s\n"), c->spool, e->name);
      if (!own || is_own)
        status = EXIT_REFUSED;
    }
    tally_wire_free(reply);
    if (is_own)
      break; /* newer entries are another submit's, under way */
  }
  tally_spool_forget_acknowledged(c->spool,
                                  (int64_t)time(NULL) - c->keep_acknowledged_s);
  /* The server answered: the next file is checked before it is spooled
   * with its catalog as it is now. */
  if (conn && talked)
    tally_catalog_cache_refresh(c, conn);
  tally_client_close(conn);
  if (own && !own->seen && !stopped)
    status = EXIT_UNREACHABLE; /* not in the listing: it waits, unsent */
  if (not_allowed)
    fprintf(stderr, _("tally: %zu older submission%s in the spool for a "
            "unit this account may not send: 'tally pending' lists %s\n"),
            not_allowed, not_allowed == 1 ? " is" : "s are",
            not_allowed == 1 ? "it" : "them");

  if (stopped) {
    size_t left = n - i;
    fprintf(stderr, _("tally: %zu submission%s kept in the spool %s; send %s "
            "later with 'tally sync'%s\n"),
            left, left == 1 ? "" : "s", c->spool, left == 1 ? "it" : "them",
            stopped_signed_out ? " once the token or TLS settings are mended "
                                 "(tally help login)"
                               : "");
    status = stopped_signed_out ? EXIT_REFUSED : EXIT_UNREACHABLE;
  }
  tally_spool_list_free(list, n);
  return status;
}

static int parse_count(const char *arg, const char *option, unsigned long long max,
                       unsigned long long *out) {
  char *end;
  if (*arg == 0 || *arg == '-') {
    fprintf(stderr, _("tally: %s takes a whole number, not '%s'\n"), option, arg);
    return EXIT_USAGE;
  }
  *out = strtoull(arg, &end, 10);
  if (*end != 0 || *out > max) {
    fprintf(stderr, _("tally: %s takes a whole number up to %llu, not '%s'\n"),
            option, max, arg);
    return EXIT_USAGE;
  }
  return 0;
}

/* Checks what submit and withdraw share before anything is spooled.
 * Returns 0 or EXIT_USAGE after saying why. */
static int check_unit_period(const char *command, const char *unit,
                             const char *period) {
  int rc;
  if ((rc = tally_cli_need(unit, "--unit", command)) ||
      (rc = tally_cli_need_period(period, command)))
    return rc;
  return 0;
}

/* Spools one submission of figs (none: a withdrawal) and sends the
 * spool. Returns the exit status. */
/* The '=' of --explain RULE=TEXT, or NULL after saying what it takes. */
static const char *explain_split(const char *given) {
  const char *eq = strchr(given, '=');
  if (eq && eq != given && eq[1] != 0)
    return eq;
  fprintf(stderr, _("tally submit: --explain takes RULE=TEXT, the code of a "
          "warning rule and why the figures are right, e.g. --explain "
          "midyear_population=\"普查后调整\" (not '%s')\n"), given);
  return NULL;
}

/* The explanations of the file's rows and of --explain RULE=TEXT, into
 * out (room for both lists). Returns how many, or -1 after saying why
 * one is refused. */
static long explanations(const tally_figfile *figs, const tally_cli_list *given,
                         Tally__Explanation *out, char **texts) {
  size_t n = 0;
  for (size_t i = 0; figs && i < figs->n_explanations; i++) {
    tally__explanation__init(&out[n]);
    out[n].rule = figs->explanations[i].rule;
    out[n++].text = figs->explanations[i].text;
  }
  for (size_t i = 0; given && i < given->n; i++) {
    const char *eq = explain_split(given->values[i]);
    if (eq == NULL)
      return -1;
    size_t len = (size_t)(eq - given->values[i]);
    if ((texts[i] = strndup(given->values[i], len)) == NULL)
      return -1;
    for (size_t k = 0; k < n; k++)
      if (strcmp(out[k].rule, texts[i]) == 0) {
        fprintf(stderr, _("tally submit: rule %s is explained twice (in the "
                "file or by --explain): give one explanation\n"), texts[i]);
        return -1;
      }
    tally__explanation__init(&out[n]);
    out[n].rule = texts[i];
    out[n++].text = (char *)eq + 1;
  }
  return (long)n;
}

/* Elements named by their Chinese or English names become their codes,
 * by the server's catalog: the copy kept, else the server's own, asked
 * for only when the file names one so. Without either, the names go as
 * they are, and the server's refusal suggests the codes. */
static void name_codes(const tally_cli *c, tally_figfile *figs) {
  if (!tally_precheck_has_names(figs))
    return;
  tally_catalog *cat = tally_catalog_cache_kept(c);
  if (cat)
    tally_precheck_codes(cat, figs);
  tally_catalog_free(cat);
  /* A name the copy does not know: the catalog may have changed since. */
  if (tally_precheck_has_names(figs) &&
      tally_catalog_cache_fetch(c, 1, &cat) == 0) {
    tally_precheck_codes(cat, figs);
    tally_catalog_free(cat);
  }
}

/* The file checked against the server's catalog before it is spooled,
 * as the copy kept says it is; a copy that finds a problem is asked for
 * again to make sure (the catalog may have changed since). Without a
 * copy the server checks it alone. Returns 0 or EXIT_REFUSED, having
 * said why. */
static int checked_here(const tally_cli *c, const Tally__SubmitRequest *sub,
                        const tally_figfile *figs,
                        const tally_cli_list *explain, const char *file) {
  const char *unit = sub->unit, *period = sub->period;
  int replace = sub->replace;
  size_t n = 0, cap = figs->n_explanations + explain->n + 1;
  const char **explained = calloc(cap, sizeof *explained);
  char **given = calloc(cap, sizeof *given);
  tally_catalog *cat = NULL, *fresh = NULL;
  int problems = 0;
  if (explained == NULL || given == NULL)
    goto out; /* the server checks it */
  for (size_t i = 0; i < figs->n_explanations; i++)
    explained[n++] = figs->explanations[i].rule;
  for (size_t i = 0; i < explain->n; i++) {
    const char *eq = strchr(explain->values[i], '=');
    if (eq && (given[i] = strndup(explain->values[i],
                                  (size_t)(eq - explain->values[i]))))
      explained[n++] = given[i];
  }
  if ((cat = tally_catalog_cache_kept(c)) == NULL)
    goto out; /* none yet: the server checks it, and sends a copy after */
  int asked = 0;
  if (tally_precheck(cat, unit, period, figs, explained, n, replace, file,
                     0) > 0 &&
      tally_catalog_cache_fetch(c, 1, &fresh) == 0) {
    tally_catalog_free(cat);
    cat = fresh;
    asked = 1;
  }
  problems = tally_precheck(cat, unit, period, figs, explained, n, replace,
                            file, 1);
  if (problems && asked) {
    fprintf(stderr, _("tally: checked against the server's catalog before "
            "sending: nothing was sent and nothing is pending; correct %s "
            "and submit it again\n"), file);
  } else if (problems) {
    char when[32] = "an unknown day";
    long long t = tally_catalog_cache_time(c);
    if (t)
      tally_cli_time(when, sizeof when, t);
    fprintf(stderr, _("tally: checked against the copy of the server's "
            "catalog kept on %s UTC (the server could not be asked for its "
            "own now): nothing was sent and nothing is pending; correct %s "
            "and submit it again, or send it when the server can be reached "
            "if its catalog has changed since\n"), when, file);
  }
out:
  tally_catalog_free(cat);
  for (size_t i = 0; given && i < explain->n; i++)
    free(given[i]);
  free(given);
  free(explained);
  return problems ? EXIT_REFUSED : 0;
}

/* Sends sub as a dry run, once, not spooled: says what the server
 * would do with it. Returns the exit status. */
static int dry_run(const tally_cli *c, Tally__SubmitRequest *sub,
                   const tally_figfile *figs, const char *file) {
  tally_client *conn = NULL;
  Tally__Envelope *reply = NULL;
  char why[1024] = "";
  sub->submission_id = (char *)"";
  enum outcome o = send_once(c, &conn, sub, &reply, why, sizeof why);
  own_submission own = {NULL, figs, file, o, 1};
  int rc;
  if (o == SENT && reply->submit_reply->dry_run) {
    printf("%s %s: checked, nothing stored (a dry run): %u value%s would "
           "be stored\n", sub->unit, sub->period,
           reply->submit_reply->accepted,
           reply->submit_reply->accepted == 1 ? "" : "s");
    for (size_t i = 0; i < reply->submit_reply->n_warnings; i++) {
      const Tally__Violation *v = reply->submit_reply->warnings[i];
      printf("  warning %s, explained: %s\n", v->rule, v->message);
    }
    rc = EXIT_OK;
  } else if (o == SENT) {
    /* An older tallyd reads no dry_run: the figures are in. */
    fprintf(stderr, "tally: the server at %s does not know dry runs (an "
            "older tallyd): it STORED the figures as a submission (revision "
            "%llu); see tally values, and correct them if they were not "
            "meant\n", c->server,
            (unsigned long long)reply->submit_reply->revision);
    rc = EXIT_REFUSED;
  } else {
    print_refusal(sub, reply ? reply->error : NULL, why, &own, 1);
    rc = o == NO_ANSWER ? EXIT_UNREACHABLE : EXIT_REFUSED;
  }
  if (reply)
    tally__envelope__free_unpacked(reply, NULL);
  if (conn)
    tally_client_close(conn);
  return rc;
}

static int spool_and_send(tally_cli *c, Tally__SubmitRequest *sub,
                          const tally_figfile *figs, const char *file,
                          const tally_cli_list *explain) {
  char err[512], id[37], name[TALLY_SPOOL_NAME_MAX];
  size_t n = figs ? figs->n : 0;
  size_t n_ex = (figs ? figs->n_explanations : 0) + (explain ? explain->n : 0);
  Tally__Value *values = calloc(n ? n : 1, sizeof *values);
  Tally__Value **ptrs = calloc(n ? n : 1, sizeof *ptrs);
  Tally__Explanation *ex = calloc(n_ex + 1, sizeof *ex);
  Tally__Explanation **ex_ptrs = calloc(n_ex + 1, sizeof *ex_ptrs);
  char **ex_rules = calloc(n_ex + 1, sizeof *ex_rules);
  int rc = EXIT_REFUSED;
  long got;
  if (values == NULL || ptrs == NULL || ex == NULL || ex_ptrs == NULL ||
      ex_rules == NULL || tally_spool_new_id(id) != 0) {
    fputs(_("tally: out of memory or of randomness\n"), stderr);
    goto out;
  }
  if ((got = explanations(figs, explain, ex, ex_rules)) < 0) {
    rc = EXIT_USAGE;
    goto out;
  }
  for (long i = 0; i < got; i++)
    ex_ptrs[i] = &ex[i];
  sub->n_explanations = (size_t)got;
  sub->explanations = ex_ptrs;
  for (size_t i = 0; i < n; i++) {
    tally__value__init(&values[i]);
    values[i].element = figs->items[i].element;
    values[i].value = figs->items[i].value;
    ptrs[i] = &values[i];
  }
  sub->n_values = n;
  sub->values = ptrs;
  sub->submission_id = id;

  /* A submission that cannot travel in one frame is refused before it
   * is kept: it would never leave the spool. */
  Tally__Envelope probe = TALLY__ENVELOPE__INIT;
  probe.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
  probe.submit = sub;
  size_t size = tally__envelope__get_packed_size(&probe);
  if (size > TALLY_FRAME_DEFAULT_MAX) {
    fprintf(stderr, _("tally: %s holds too many figures for one submission "
            "(%zu bytes, over the %u-byte limit): split it in two\n"
            "Nothing was sent.\n"), file, size, TALLY_FRAME_DEFAULT_MAX);
    goto out;
  }
  if (figs && checked_here(c, sub, figs, explain, file) != 0)
    goto out;
  if (sub->dry_run) {
    rc = dry_run(c, sub, figs, file);
    goto out;
  }
  if (tally_spool_init(c->spool, err, sizeof err) != 0 ||
      tally_spool_add(c->spool, sub, name, err, sizeof err) != 0) {
    fprintf(stderr, _("tally: %s\nNothing was sent.\n"), err);
    goto out;
  }
  own_submission own = {name, figs, file, NO_ANSWER, 0};
  rc = send_pending(c, 1, &own, 0);
  if (own.seen && own.outcome == SENT && figs && figs->blank)
    printf(strcmp(figs->line_word, "row") == 0
               ? ngettext("%zu row with an empty value skipped (first on row "
                          "%d): not reported\n",
                          "%zu rows with an empty value skipped (first on row "
                          "%d): not reported\n", figs->blank)
               : ngettext("%zu row with an empty value skipped (first on line "
                          "%d): not reported\n",
                          "%zu rows with an empty value skipped (first on "
                          "line %d): not reported\n", figs->blank),
           figs->blank, figs->first_blank);
  if (!own.seen || own.outcome == NO_ANSWER || own.outcome == NOT_SIGNED_IN)
    fprintf(stderr, _("tally: %s %s%s%s is kept in the spool as %s\n"),
            sub->unit, sub->period, figs ? " from " : " (withdrawal)",
            figs ? file : "", id);
out:
  sub->values = NULL;
  sub->submission_id = NULL;
  sub->explanations = NULL;
  sub->n_explanations = 0;
  free(values);
  free(ptrs);
  free(ex);
  free(ex_ptrs);
  for (size_t i = 0; ex_rules && i < n_ex; i++)
    free(ex_rules[i]);
  free(ex_rules);
  return rc;
}

/* A form (tally form) names its unit and period: sent for another,
 * it is refused unless --force says that is meant. Returns 0 or the
 * exit status, having said why. */
static int form_matches(const tally_figfile *figs, const char *file,
                        const char *unit, const char *period, int force) {
  tally_period a, b;
  if (figs->form_line == 0 || force)
    return 0;
  int same_period = tally_period_parse(figs->form_period, &a) == 0 &&
                    tally_period_parse(period, &b) == 0 &&
                    tally_period_key(&a) == tally_period_key(&b);
  if (strcmp(figs->form_unit, unit) == 0 && same_period)
    return 0;
  fprintf(stderr, _("tally: %s %s %d: this is the form of %s for %s, sent "
          "as %s's figures for %s. Nothing was sent. If that is meant (the "
          "form was copied for another unit or period), give --force.\n"),
          file, figs->line_word, figs->form_line, figs->form_unit,
          figs->form_period, unit,
          period);
  return EXIT_REFUSED;
}

int tally_cmd_submit(int argc, char **argv, tally_cli *c) {
  const char *unit = NULL, *period = NULL, *file = NULL, *base_text = NULL,
             *encoding = NULL;
  int rc, replace = 0, check = 0;
  unsigned long long base = 0;
  static tally_cli_list explain;
  int force = 0, dry = 0;
  const tally_cli_opt options[] = {{"unit", 'u', &unit, NULL, NULL},
                                   {"period", 'p', &period, NULL, NULL},
                                   {"file", 'f', &file, NULL, NULL},
                                   {"replace", 0, NULL, &replace, NULL},
                                   {"base-revision", 0, &base_text, NULL, NULL},
                                   {"explain", 'e', NULL, NULL, &explain},
                                   {"force", 0, NULL, &force, NULL},
                                   {"dry-run", 'n', NULL, &dry, NULL},
                                   {"encoding", 0, &encoding, NULL, NULL},
                                   {NULL, 0, NULL, NULL, NULL}};

  if ((rc = tally_cli_parse(argc, argv, c, "submit", tally_usage_submit,
                            options, 0)))
    return rc < 0 ? EXIT_OK : rc;
  if ((rc = tally_cli_no_operands(argc, argv, "submit")) != 0)
    return rc;
  if (base_text) {
    if ((rc = parse_count(base_text, "--base-revision", UINT64_MAX, &base)))
      return rc;
    check = 1;
  }
  if ((rc = check_unit_period("submit", unit, period)) ||
      (rc = tally_cli_need(file, "--file", "submit")))
    return rc;
  if (strcmp(file, "-") == 0 && c->token_stdin) {
    fputs(_("tally submit: --file - and --token-file - both read standard "
          "input: give one of them a file\n"), stderr);
    return EXIT_USAGE;
  }

  for (size_t i = 0; i < explain.n; i++)
    if (explain_split(explain.values[i]) == NULL)
      return EXIT_USAGE;

  tally_figfile figs;
  char err[4096]; /* every problem of the file, a line each */
  if ((rc = tally_figfile_read(file, encoding, &figs, err, sizeof err)) != 0) {
    fprintf(stderr, _("tally: %s\nNothing was sent.\n"), err);
    return rc == TALLY_EUSAGE ? EXIT_USAGE : EXIT_REFUSED;
  }
  if ((rc = form_matches(&figs, file, unit, period, force)) != 0) {
    tally_figfile_release(&figs);
    return rc;
  }
  name_codes(c, &figs);
  Tally__SubmitRequest sub = TALLY__SUBMIT_REQUEST__INIT;
  sub.unit = (char *)unit;
  sub.period = (char *)period;
  sub.replace = replace;
  sub.check_revision = check;
  sub.base_revision = base;
  sub.dry_run = dry;
  rc = spool_and_send(c, &sub, &figs, file, &explain);
  tally_figfile_release(&figs);
  return rc;
}

int tally_cmd_withdraw(int argc, char **argv, tally_cli *c) {
  const char *unit = NULL, *period = NULL, *base_text = NULL;
  unsigned long long base = 0;
  const tally_cli_opt options[] = {{"unit", 'u', &unit, NULL, NULL},
                                   {"period", 'p', &period, NULL, NULL},
                                   {"base-revision", 0, &base_text, NULL, NULL},
                                   {NULL, 0, NULL, NULL, NULL}};
  int rc = tally_cli_parse(argc, argv, c, "withdraw", tally_usage_withdraw,
                           options, 0);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if ((rc = tally_cli_no_operands(argc, argv, "withdraw")) != 0 ||
      (base_text &&
       (rc = parse_count(base_text, "--base-revision", UINT64_MAX, &base))) ||
      (rc = check_unit_period("withdraw", unit, period)) != 0)
    return rc;
  Tally__SubmitRequest sub = TALLY__SUBMIT_REQUEST__INIT;
  sub.unit = (char *)unit;
  sub.period = (char *)period;
  sub.replace = 1; /* with no figures: every stored one goes */
  sub.check_revision = base_text != NULL;
  sub.base_revision = base;
  return spool_and_send(c, &sub, NULL, "withdraw", NULL);
}

/* Sends again, oldest first, the acknowledged submissions kept since
 * since: after the server restored an older backup. Returns the exit
 * status. */
static int resend(const tally_cli *c, int64_t since, const char *given) {
  tally_spool_entry *list;
  tally_client *conn = NULL;
  size_t n, stored = 0, had = 0, refused = 0, i;
  char err[512] = "";
  int status = EXIT_OK;

  if (tally_spool_list_acknowledged(c->spool, since, &list, &n, err,
                                    sizeof err) != 0) {
    fprintf(stderr, _("tally sync: %s\n"), err);
    return EXIT_REFUSED;
  }
  if (n == 0) {
    printf("nothing acknowledged since %s is kept in the spool %s (kept for "
           "--keep-acknowledged, 30 days by default)\n", given, c->spool);
    tally_spool_list_free(list, n);
    return EXIT_OK;
  }
  for (i = 0; i < n; i++) {
    Tally__Envelope *reply = NULL;
    char why[512] = "";
    enum outcome out = send_once(c, &conn, list[i].req, &reply, why,
                                 sizeof why);
    if (out == SENT) {
      if (reply->submit_reply->duplicate)
        had++;
      else
        stored++;
    } else if (out == NO_ANSWER || out == NOT_SIGNED_IN) {
      fprintf(stderr, _("tally sync: %s; %zu not resent (run it again)\n"), why,
              n - i);
      status = out == NO_ANSWER ? EXIT_UNREACHABLE : EXIT_REFUSED;
      tally_wire_free(reply);
      break;
    } else {
      print_refusal(list[i].req,
                    reply && reply->body_case == TALLY__ENVELOPE__BODY_ERROR
                        ? reply->error
                        : NULL,
                    why, NULL, 0);
      refused++;
      status = EXIT_REFUSED;
    }
    tally_wire_free(reply);
  }
  tally_client_close(conn);
  printf("resent %zu submission%s acknowledged since %s: %zu stored again, "
         "%zu the server had already, %zu refused\n", i, i == 1 ? "" : "s",
         given, stored, had, refused);
  tally_spool_list_free(list, n);
  return status;
}

int tally_cmd_sync(int argc, char **argv, tally_cli *c) {
  const char *tries_text = NULL, *since_text = NULL;
  unsigned long long tries = 5;
  const tally_cli_opt own[] = {{"tries", 0, &tries_text, NULL, NULL},
                               {"resend-since", 0, &since_text, NULL, NULL},
                               {NULL, 0, NULL, NULL, NULL}};
  int rc = tally_cli_parse(argc, argv, c, "sync", tally_usage_sync, own, 0);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if ((rc = tally_cli_no_operands(argc, argv, "sync")) != 0)
    return rc;
  if (tries_text &&
      (rc = parse_count(tries_text, "--tries", 100, &tries)) != 0)
    return rc;
  if (tries == 0)
    tries = 1;
  if (since_text) {
    int64_t since;
    if (tally_cli_parse_time("resend-since", since_text,
                             TALLY_WHEN_DAY_START, &since) != 0)
      return EXIT_USAGE;
    /* What waits goes first: it was never acknowledged. */
    rc = send_pending(c, (int)tries, NULL, 1);
    if (rc == EXIT_UNREACHABLE)
      return rc;
    int again = resend(c, since, since_text);
    return again ? again : rc;
  }
  return send_pending(c, (int)tries, NULL, 1);
}

/* Sets the pending entry with this submission id (or file name) aside.
 * Returns the exit status. */
static int drop_entry(const tally_cli *c, const tally_spool_entry *list,
                      size_t n, const char *id) {
  for (size_t i = 0; i < n; i++) {
    const tally_spool_entry *e = &list[i];
    if (strcmp(e->req->submission_id, id) != 0 && strcmp(e->name, id) != 0)
      continue;
    int rc = tally_spool_set_aside(c->spool, e->name);
    if (rc != 0) {
      fprintf(stderr, _("tally: cannot move %s aside: %s\n"), e->name,
              strerror(-rc));
      return EXIT_REFUSED;
    }
    printf("%s %s (%s) set aside: %s/refused/%s; it will not be sent\n",
           e->req->unit, e->req->period, e->req->submission_id, c->spool,
           e->name);
    return EXIT_OK;
  }
  fprintf(stderr, _("tally pending: no pending submission %s in %s\n"), id,
          c->spool);
  return EXIT_REFUSED;
}

int tally_cmd_pending(int argc, char **argv, tally_cli *c) {
  tally_spool_entry *list;
  size_t n, n_aside = 0;
  char err[512] = "", aside[4096 + 16];
  const char *drop = NULL;
  int refused = 0, clear = 0;
  const tally_cli_opt own[] = {{"refused", 0, NULL, &refused, NULL},
                               {"drop", 0, &drop, NULL, NULL},
                               {"clear", 0, NULL, &clear, NULL},
                               {NULL, 0, NULL, NULL, NULL}};
  int rc = tally_cli_parse(argc, argv, c, "pending", tally_usage_pending, own,
                           1);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if ((rc = tally_cli_no_operands(argc, argv, "pending")) != 0)
    return rc;
  if (refused && drop) {
    fputs(_("tally pending: --refused lists, --drop sets aside: one at a "
          "time\n"), stderr);
    return EXIT_USAGE;
  }
  if (clear && !refused) {
    fputs(_("tally pending: --clear deletes the submissions set aside, with "
          "--refused; pending ones are sent (tally sync) or set aside "
          "(--drop ID)\n"), stderr);
    return EXIT_USAGE;
  }
  snprintf(aside, sizeof aside, "%s/refused", c->spool);
  const char *dir = refused ? aside : c->spool;
  if ((rc = tally_spool_list(dir, &list, &n, err, sizeof err)) != 0) {
    fprintf(stderr, "tally: %s\n", err);
    return EXIT_REFUSED;
  }
  if (*err)
    fprintf(stderr, "tally: %s\n", err);
  if (drop) {
    rc = drop_entry(c, list, n, drop);
    tally_spool_list_free(list, n);
    return rc;
  }
  if (clear) {
    size_t gone = 0;
    for (size_t i = 0; i < n; i++) {
      if ((rc = tally_spool_remove(aside, list[i].name)) != 0) {
        fprintf(stderr, _("tally: cannot delete %s/%s: %s\n"), aside,
                list[i].name, strerror(-rc));
        break;
      }
      gone++;
    }
    tally_spool_list_free(list, n);
    printf("%zu submission%s set aside deleted from %s\n", gone,
           gone == 1 ? "" : "s", aside);
    return gone == n ? EXIT_OK : EXIT_REFUSED;
  }
  if (!refused) { /* how many wait in refused/, for the table's note */
    tally_spool_entry *other;
    if (tally_spool_list(aside, &other, &n_aside, err, sizeof err) == 0)
      tally_spool_list_free(other, n_aside);
  }

  if (c->format == FORMAT_JSON) {
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
      const Tally__SubmitRequest *r = list[i].req;
      json_array_append_new(
          arr, json_pack("{s:s, s:s, s:s, s:i, s:b, s:I, s:s}", "id",
                         r->submission_id, "unit", r->unit, "period",
                         r->period, "values", (int)r->n_values, "replace",
                         r->replace, "created_unix_ms",
                         (json_int_t)list[i].created_ms, "file",
                         list[i].name));
    }
    json_t *doc = json_pack("{s:s, s:o}", "spool", dir,
                            refused ? "refused" : "pending", arr);
    if (!refused)
      json_object_set_new(doc, "refused_count", json_integer((json_int_t)n_aside));
    json_dumpf(doc, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(doc);
  } else {
    static const char *const cols[] = {"submitted", "unit", "period",
                                       "values", "id"};
    static const int right[] = {0, 0, 0, 1, 0};
    tally_table *t = tally_table_new(5, cols, right);
    for (size_t i = 0; t && i < n; i++) {
      const Tally__SubmitRequest *r = list[i].req;
      char when[32], count[16];
      tally_cli_time(when, sizeof when, list[i].created_ms / 1000);
      if (r->replace && r->n_values == 0)
        snprintf(count, sizeof count, "withdraw");
      else
        snprintf(count, sizeof count, "%zu", r->n_values);
      const char *row[] = {when, r->unit, r->period, count, r->submission_id};
      tally_table_add(t, row);
    }
    if (t && c->format == FORMAT_CSV) {
      tally_table_print_csv(t, stdout);
    } else if (t) {
      struct stat st;
      printf("%zu submission%s %s in %s%s\n", n, n == 1 ? "" : "s",
             refused ? "set aside" : "pending", dir,
             stat(dir, &st) != 0 ? " (no such directory yet)" : "");
      if (n)
        tally_table_print(t, stdout);
      if (n_aside)
        printf("%zu more set aside in %s: 'tally pending --refused' lists "
               "them\n", n_aside, aside);
    }
    tally_table_free(t);
  }
  tally_spool_list_free(list, n);
  return EXIT_OK;
}
