/* handle_submit.c: a unit's figures for one period, into the store.
 *
 * The happy path: every value is checked against the catalog at once
 * (all problems in one reply), the submission is copied out of the
 * request and handed to the writer thread, and the reply is built on the
 * loop once the transaction that holds it has committed. In that
 * transaction the catalog's rules are checked on the unit's figures as
 * the submission leaves them (validate.h): an error rule broken, or a
 * warning broken without an explanation (sent now or kept from before),
 * refuses it, and every rule it breaks is listed. The failure modes are
 * the store's refusals (a conflict, a reused id, broken rules, a locked
 * period) and its errors, each said in words.
 */
#include "handlers.h"

#include "error.h"
#include "figure_check.h"
#include "indicator.h"
#include "log.h"
#include "period.h"
#include "reply.h"
#include "review.h"
#include "rows.h"
#include "rule.h"
#include "utf8.h"
#include "store_audit.h"
#include "store_figures.h"
#include "submit_bytes.h"
#include "validate.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The element a text names by its Chinese or English name, or by its
 * code in other letter case: for a hint. -1 when none. */
static int element_named(const tally_catalog *cat, const char *text) {
  for (size_t e = 0; e < cat->n_elements; e++) {
    const tally_element *el = &cat->elements[e];
    if (tally_reply_names(text, el->code, el->name_zh, el->name_en))
      return (int)e;
  }
  return -1;
}

/* Checks every value of a submission against the catalog, in one pass,
 * and puts the items' indexes in the order of their element codes into
 * order (for the store, which writes in that order). Returns NULL when
 * all are good, else an error reply listing each problem (the first
 * MAX_DETAILS); NULL with *no_memory set when there was no memory to
 * check or to say so. */
static Tally__Envelope *check_values(tally_request *r, uint64_t id, int unit,
                                     const Tally__SubmitRequest *s,
                                     tally_store_item *items, uint32_t *order,
                                     int *no_memory) {
  const tally_catalog *cat = r->cat;
  Tally__Envelope *err = NULL;
  Tally__ErrorCode first = TALLY__ERROR_CODE__ERROR_UNSPECIFIED;
  size_t problems = 0;
  /* Where each element was first seen (1-based item), to find repeats. */
  size_t *seen = tally_arena_alloc(r->arena, cat->n_elements * sizeof *seen);

  *no_memory = 0;
  if (seen == NULL) {
    *no_memory = 1;
    return NULL;
  }
  int e = -1; /* the element before: forms and imports send theirs in
                 catalog order, so the next one is tried first */
  for (size_t i = 0; i < s->n_values; i++) {
    const Tally__Value *v = s->values[i];
    const char *code = v->element ? v->element : "";
    e = tally_catalog_element_guess(cat, code, e + 1);
    Tally__ErrorCode kind = TALLY__ERROR_CODE__ERROR_BAD_VALUE;
    char why[600], shown[SHOWN_MAX];
    why[0] = 0; /* not = "": that clears all 600 bytes, for every value */

    if (e < 0) {
      int named = element_named(cat, code);
      kind = TALLY__ERROR_CODE__ERROR_UNKNOWN_ELEMENT;
      tally_reply_show(code, shown);
      snprintf(why, sizeof why, "未知的数据元素“%s” / unknown data element "
               "'%s'%s%s%s%s%s", shown, shown,
               named < 0 ? "" : "; did you mean ",
               named < 0 ? "" : cat->elements[named].code,
               named < 0 ? "" : " (",
               named < 0 ? "" : cat->elements[named].name_zh,
               named < 0 ? "" : ")?");
    } else if (!tally_figure_ok(cat, unit, e, v->value, why, sizeof why)) {
      /* why says it */
    } else if (seen[e]) {
      snprintf(why, sizeof why, "%s 重复出现（又见第 %zu 项） / %s appears "
               "twice (also item %zu)", cat->elements[e].name_zh, seen[e],
               code, seen[e]);
    }
    if (e >= 0 && !seen[e])
      seen[e] = i + 1;
    if (*why == 0) {
      items[i].element = cat->elements[e].code;
      items[i].value = v->value == 0 ? 0.0 : v->value; /* -0 is 0 */
      continue;
    }
    items[i].element = "";
    if (problems++ == 0) {
      first = kind;
      err = tally_reply_error(r, id, kind, "%s", why);
      if (err == NULL)
        return *no_memory = 1, NULL;
    }
    tally_reply_detail(r, err, (uint32_t)(i + 1), "%s", why);
  }
  /* Each element once (a repeat is refused): seen read in code order. */
  for (size_t k = 0, at = 0; err == NULL && k < cat->n_elements; k++) {
    size_t item = seen[cat->element_by_code[k]];
    if (item)
      order[at++] = (uint32_t)(item - 1);
  }
  if (err) {
    err->error->code = first;
    if (problems > 1)
      err->error->message = tally_arena_printf(
          r->arena, "%zu values were refused (the first: %s); nothing was "
          "stored", problems, err->error->message);
    else
      err->error->message = tally_arena_printf(
          r->arena, "%s; nothing was stored", err->error->message);
    if (err->error->message == NULL)
      return *no_memory = 1, NULL;
  }
  return err;
}

/* A submission on its way to the store: everything its reply needs,
 * copied out of the request envelope, which is freed before the
 * commit. */
struct submit_job {
  tally_job job;              /* first: the job is its tally_job */
  tally_store_submission sub; /* what the writer commits */
  tally_store_result res;     /* and what came of it */
  tally_store *store;
  uint64_t id;                /* the request's id */
  char period[TALLY_PERIOD_STRLEN];
  char sid[TALLY_STORE_MAX_ID + 1];
  char peer[64];
  char account_name[TALLY_ACCOUNT_NAME_MAX + 1];
  uint64_t base_revision;
  int replace;
  tally_store_item *items;    /* element codes are the catalog's */
  uint32_t *order;            /* their indexes in the codes' order */
  uint8_t *first_changes;     /* their history entry's changes, packed,
                                 for a report that held no figures */
  size_t first_changes_len;
  size_t n;
  /* For the rules, checked on the writer thread. */
  const tally_catalog *cat;
  int unit;
  tally_period p;
  unsigned char *touched;     /* the elements it names (n_elements) */
  Tally__Explanation *given;  /* explanations sent, texts copied */
  size_t n_given;
  tally_violation *broken;    /* the rules the figures break (n_rules) */
  size_t n_broken;
  unsigned char *explained;   /* of each: EXPLAINED_NOW or _BEFORE, or 0 */
  Tally__Explanation **kept;  /* the explanations kept now, for the history */
  size_t n_kept;
  char review[TALLY_REVIEW_TEXT_MAX];           /* the report's review, in words, when it
                                 refused the submission or was a return */
  int resubmits;              /* it answers a return: review says which */
  Tally__Review returned;     /* that return, for the reply */
  char returned_name[TALLY_ACCOUNT_NAME_MAX + 1];
  char returned_reason[TALLY_UTF8_TEXT_MAX + 1];
  int dry_run;                /* check it all, store nothing */
  tally_store_result dry;     /* on a dry run, what it would have written */
  char how[TALLY_SUBMIT_HOW_MAX + 1]; /* an import's words for the trail */
};

#define EXPLAINED_NOW 1
#define EXPLAINED_BEFORE 2

static void submit_free(tally_job *a) {
  struct submit_job *j = (struct submit_job *)a;
  for (size_t i = 0; i < j->n_given; i++)
    free(j->given[i].text);
  free(j->given);
  free(j->items);
  free(j->order);
  free(j->first_changes);
  free(j->touched);
  free(j->broken);
  free(j->explained);
  free(j->kept);
  free(j);
}

/* The explanation sent for rule, or NULL. */
static Tally__Explanation *given_for(const struct submit_job *j,
                                     const char *rule) {
  for (size_t i = 0; i < j->n_given; i++)
    if (strcmp(j->given[i].rule, rule) == 0)
      return &j->given[i];
  return NULL;
}

/* Forgets the explanations of the warnings checked that hold now: they
 * explained figures that are no longer there. */
static int forget_stale(struct submit_job *j, tally_store_txn *t) {
  for (size_t r = 0; r < j->cat->n_rules; r++) {
    const tally_rule *rule = &j->cat->rules[r];
    int rc, broken = 0;
    if (!rule->warning ||
        !tally_validate_checks(j->cat, (int)r, j->unit,
                               j->replace ? NULL : j->touched))
      continue;
    for (size_t i = 0; i < j->n_broken; i++)
      broken |= j->broken[i].rule == (int)r;
    if (broken)
      continue;
    if ((rc = tally_store_txn_explanation_del(t, j->sub.period_key,
                                              j->sub.unit, rule->code)) != 0)
      return rc;
  }
  return 0;
}

/* The report's review, read in t: an approved report takes nothing; a
 * returned one is submitted again (its new state written in t). Returns
 * 0, TALLY_EREVIEW or a store error. */
static int check_review(struct submit_job *j, tally_store_txn *t) {
  Tally__Review *rv = NULL;
  int rc = tally_review_get(t, j->sub.period_key, j->sub.unit, NULL, &rv);
  j->resubmits = 0;
  if (rc != 0 || rv == NULL)
    return rc;
  tally_review_text(rv, j->review, sizeof j->review);
  if (rv->state == TALLY__REVIEW_STATE__REVIEW_APPROVED) {
    tally__review__free_unpacked(rv, NULL);
    return TALLY_EREVIEW;
  }
  /* A withdrawal (no figures) does not answer a return: the report
   * stays returned until figures come. */
  if (rv->state == TALLY__REVIEW_STATE__REVIEW_RETURNED && j->n > 0) {
    Tally__Review again = TALLY__REVIEW__INIT;
    Tally__Return answers = TALLY__RETURN__INIT;
    char after[TALLY_REVIEW_TEXT_MAX];
    j->resubmits = 1;
    tally__review__init(&j->returned); /* its fields, not rv's pointers */
    j->returned.state = rv->state;
    j->returned.time_unix = rv->time_unix;
    j->returned.account_id = rv->account_id;
    j->returned.revision = rv->revision;
    snprintf(j->returned_name, sizeof j->returned_name, "%s",
             rv->account_name);
    snprintf(j->returned_reason, sizeof j->returned_reason, "%s", rv->reason);
    j->returned.account_name = j->returned_name;
    j->returned.reason = j->returned_reason;
    answers.time_unix = rv->time_unix;
    answers.account_id = rv->account_id;
    answers.account_name = j->returned_name;
    answers.reason = j->returned_reason;
    answers.revision = rv->revision;
    again.state = TALLY__REVIEW_STATE__REVIEW_RESUBMITTED;
    again.time_unix = j->sub.now;
    again.account_id = j->sub.account_id;
    again.account_name = j->account_name;
    again.reason = "";
    again.answers = &answers; /* the office still reads why */
    tally_review_text(&again, after, sizeof after);
    size_t len = tally__review__get_packed_size(&again);
    uint8_t *packed = malloc(len + 1);
    tally_store_actor who = {j->sub.account_id, j->account_name, j->peer,
                             j->sub.now};
    rc = packed ? 0 : -ENOMEM;
    if (packed) {
      tally__review__pack(&again, packed);
      rc = tally_store_txn_review_put(t, j->sub.period_key, j->sub.unit,
                                      packed, len, j->review, after, &who);
      free(packed);
    }
  }
  tally__review__free_unpacked(rv, NULL);
  return rc;
}

/* On the writer thread, in the submission's transaction, with its
 * figures written: the review, then the rules (store_figures.h,
 * tally_store_check_fn). */
static int submit_check(void *arg, tally_store_txn *t,
                        Tally__Explanation ***kept, size_t *n_kept) {
  struct submit_job *j = arg;
  tally_rows rows;
  int rc, refuse = 0;

  if ((rc = check_review(j, t)) != 0)
    return rc;

  tally_rows_init(&rows, j->cat, t);
  rc = tally_validate(j->cat, &rows, j->unit, &j->p,
                      j->replace ? NULL : j->touched, j->broken, &j->n_broken);
  tally_rows_free(&rows);
  if (rc != 0)
    return rc;
  memset(j->explained, 0, j->cat->n_rules);
  j->n_kept = 0;
  /* Explained now, or before for these very figures. */
  for (size_t i = 0; i < j->n_broken; i++) {
    const char *kept_text;
    if (given_for(j, j->cat->rules[j->broken[i].rule].code)) {
      j->explained[i] = EXPLAINED_NOW;
      continue;
    }
    if (!j->cat->rules[j->broken[i].rule].warning)
      continue;
    if ((rc = tally_validate_explained(t, j->sub.period_key, j->sub.unit,
                                       j->cat, &j->broken[i], NULL,
                                       &kept_text)) != 0)
      return rc;
    if (kept_text)
      j->explained[i] = EXPLAINED_BEFORE;
  }
  for (size_t i = 0; i < j->n_broken; i++)
    if (!j->cat->rules[j->broken[i].rule].warning || !j->explained[i])
      refuse = 1;
  if (refuse)
    return TALLY_ERULES;
  if (j->dry_run) {
    j->dry = j->res; /* what the store wrote so far, undone with it */
    return TALLY_EDRYRUN;
  }
  if ((rc = forget_stale(j, t)) != 0)
    return rc;
  for (size_t i = 0; i < j->n_broken; i++) {
    if (j->explained[i] != EXPLAINED_NOW)
      continue;
    Tally__Explanation *e =
        given_for(j, j->cat->rules[j->broken[i].rule].code);
    e->time_unix = j->sub.now;
    e->account_name = j->account_name;
    e->left = j->broken[i].left; /* the figures it explains */
    e->right = j->broken[i].right;
    if ((rc = tally_store_txn_explanation_put(t, j->sub.period_key,
                                              j->sub.unit, e)) != 0)
      return rc;
    j->kept[j->n_kept++] = e;
  }
  *kept = j->kept;
  *n_kept = j->n_kept;
  return 0;
}

/* On the writer thread. */
static int submit_apply(tally_write *w, tally_store_txn *t) {
  struct submit_job *j = (struct submit_job *)tally_job_of(w);
  return tally_store_txn_submit(t, &j->sub, &j->res);
}

/* The 1-based position of element in the submission, or 0. */
static uint32_t item_of(const struct submit_job *j, const char *element) {
  for (size_t i = 0; i < j->n; i++)
    if (strcmp(j->items[i].element, element) == 0)
      return (uint32_t)(i + 1);
  return 0;
}

struct conflict_ctx {
  tally_request *r;
  const struct submit_job *j;
  Tally__Envelope *err;
};

/* Store visitor: lists each submitted value that differs from the
 * stored one. */
static int list_difference(void *arg, const char *unit, const char *element,
                           double value, int64_t updated) {
  struct conflict_ctx *cc = arg;
  uint32_t i = item_of(cc->j, element);
  if (i && cc->j->items[i - 1].value != value)
    tally_reply_detail(cc->r, cc->err, i, "%s: stored %.15g, submitted %.15g", element,
               value, cc->j->items[i - 1].value);
  return 0;
}

/* The reply to a submission based on a revision the report has left:
 * both revisions, and each figure that differs. */
static Tally__Envelope *conflict(tally_request *r, const struct submit_job *j,
                                 uint64_t current) {
  Tally__Envelope *err = tally_reply_error(
      r, j->id, TALLY__ERROR_CODE__ERROR_CONFLICT,
      "conflict: the report of %s for %s is at revision %llu, but the "
      "submission is based on revision %llu; nothing was stored (see the "
      "current figures with 'tally values')",
      j->sub.unit, j->period, (unsigned long long)current,
      (unsigned long long)j->base_revision);
  if (err == NULL)
    return NULL;
  struct conflict_ctx cc = {r, j, err};
  tally_store_scan(j->store, j->sub.period_key, j->sub.unit,
                   list_difference, &cc);
  tally_log("submit refused: unit=%s period=%s from %s: conflict at revision "
            "%llu, based on %llu",
            j->sub.unit, j->period, j->peer, (unsigned long long)current,
            (unsigned long long)j->base_revision);
  return err;
}

/* The 1-based positions in the submission of the elements rule reads:
 * the first into *first, the others into also. Returns how many. */
static size_t items_read(const struct submit_job *j, const tally_rule *rule,
                         uint32_t *first, uint32_t *also, size_t max) {
  size_t n = 0;
  *first = 0;
  for (size_t i = 0; i < j->n; i++) {
    int e = tally_catalog_element(j->cat, j->items[i].element);
    if (e < 0 || !tally_rule_reads(rule, e))
      continue;
    if (*first == 0)
      *first = (uint32_t)(i + 1);
    else if (n < max)
      also[n++] = (uint32_t)(i + 1);
  }
  return n;
}

/* The reply to a submission whose figures break rules: every rule, with
 * the items it reads; for a warning, how to explain it. */
static Tally__Envelope *rules_refusal(tally_request *r,
                                      const struct submit_job *j) {
  size_t errors = 0, unexplained = 0;
  for (size_t i = 0; i < j->n_broken; i++) {
    if (!j->cat->rules[j->broken[i].rule].warning)
      errors++;
    else if (!j->explained[i])
      unexplained++;
  }
  char words[600];
  tally_rules_refusal(j->sub.unit, j->period, errors + unexplained, errors,
                      words, sizeof words);
  Tally__Envelope *reply = tally_reply_error(
      r, j->id, TALLY__ERROR_CODE__ERROR_BAD_VALUE, "%s", words);
  if (reply == NULL)
    return NULL;
  for (size_t i = 0; i < j->n_broken; i++) {
    const tally_rule *rule = &j->cat->rules[j->broken[i].rule];
    char text[1200];
    uint32_t first, also[64];
    if (rule->warning && j->explained[i])
      continue;
    tally_violation_detail(j->cat, &j->broken[i], text, sizeof text);
    size_t n_also = items_read(j, rule, &first, also, 64);
    Tally__ErrorDetail *d = tally_reply_detail(r, reply, first, "%s", text);
    if (d == NULL)
      continue;
    d->rule = rule->code; /* the catalog's: outlives the reply */
    d->warning = rule->warning;
    if (n_also && (d->also = tally_arena_alloc(r->arena,
                                               n_also * sizeof *d->also))) {
      memcpy(d->also, also, n_also * sizeof *also);
      d->n_also = n_also;
    }
  }
  tally_log("submit refused: unit=%s period=%s from %s: %zu rules broken "
            "(%zu errors, %zu warnings without an explanation)", j->sub.unit,
            j->period, j->peer, errors + unexplained, errors, unexplained);
  return reply;
}

/* The warnings the accepted figures break, each explained, for the
 * reply. Returns 0 or -ENOMEM. */
static int explained_warnings(tally_request *r, const struct submit_job *j,
                              Tally__SubmitReply *ok) {
  if (j->n_broken == 0)
    return 0;
  ok->warnings = tally_arena_alloc(r->arena, j->n_broken * sizeof *ok->warnings);
  if (ok->warnings == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < j->n_broken; i++) {
    const tally_rule *rule = &j->cat->rules[j->broken[i].rule];
    Tally__Violation *v =
        tally_violation_message(j->cat, &j->broken[i], j->unit, r->arena);
    if (v == NULL)
      return -ENOMEM;
    const Tally__Explanation *e = given_for(j, rule->code);
    if (e && (v->explanation = tally_arena_strdup(r->arena, e->text)) == NULL)
      return -ENOMEM;
    ok->warnings[ok->n_warnings++] = v;
  }
  return 0;
}

/* The reply to a submission, once the store has had it. Runs on the
 * loop; builds in r's arena. */
static Tally__Envelope *submit_finish(tally_job *job, tally_request *r) {
  struct submit_job *j = (struct submit_job *)job;
  const tally_store_result *res = &j->res;
  const char *unit = j->sub.unit;
  tally_arena *arena = r->arena;
  Tally__Envelope *reply;

  switch (j->job.write.code) {
  case 0:
    break;
  case TALLY_EDRYRUN:
    j->res = j->dry;
    break;
  case TALLY_ECONFLICT:
    return conflict(r, j, res->revision);
  case TALLY_ELOCKED: {
    tally_period p;
    Tally__PeriodLock *lock = NULL;
    char how[512] = "locked";
    if (tally_period_from_key(j->sub.period_key, &p) == 0 &&
        tally_lock_find(r, NULL, &p, &lock) == 0 && lock)
      tally_lock_text(lock, how, sizeof how);
    tally_log("submit refused: unit=%s period=%s from %s: the period is "
              "locked", unit, j->period, j->peer);
    /* What to do first: the lock's own text may be long. */
    return tally_reply_error(r, j->id, TALLY__ERROR_CODE__ERROR_LOCKED,
                                "period %s is closed, nothing was stored: "
                                "the central office approved its figures. To "
                                "change them, ask it to unlock %s, then "
                                "submit the file again. (%s)",
                                j->period, j->period, how);
  }
  case TALLY_EIDREUSE:
    return tally_reply_error(r, j->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "submission id %s was already used for other "
                                "figures; nothing was stored",
                                j->sid);
  case TALLY_ERULES:
    return rules_refusal(r, j);
  case TALLY_EREVIEW:
    tally_log("submit refused: unit=%s period=%s from %s: the report is %s",
              unit, j->period, j->peer, j->review);
    return tally_reply_error(r, j->id, TALLY__ERROR_CODE__ERROR_LOCKED,
                             "%s %s 已审核，中心重新打开之前不能报送或修改 / "
                             "the report of %s for %s is %s: it takes no "
                             "submission, correction or withdrawal until the "
                             "central office reopens it; nothing was stored",
                             unit, j->period, unit, j->period, j->review);
  case -ENOSPC: /* the store's disk has no room: say where */
    tally_log_err("submit failed: unit=%s period=%s from %s: the disk holding "
              "%s is full; nothing was stored", unit, j->period, j->peer,
              tally_store_dir(r->store));
    return tally_reply_error(r, j->id, TALLY__ERROR_CODE__ERROR_STORE,
                             "the disk holding %s is full; nothing was "
                             "stored", tally_store_dir(r->store));
  default:
    tally_log_err("submit failed: unit=%s period=%s from %s: %s", unit, j->period,
              j->peer, tally_strerror(j->job.write.code));
    return tally_reply_error(r, j->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the store could not write (%s); nothing was "
                                "stored",
                                tally_strerror(j->job.write.code));
  }
  if (*j->how == 0) /* an import logs one line for all its reports */
    tally_log("submit%s: unit=%s period=%s values=%u replaced=%u "
              "unchanged=%u removed=%u revision=%llu id=%s from %s",
              res->duplicate ? " (duplicate, answered from the record)"
              : j->job.write.code == TALLY_EDRYRUN ? " (dry run: not stored)"
                                                   : "",
              unit, j->period, res->written, res->replaced, res->unchanged,
              res->removed, (unsigned long long)res->revision,
              *j->sid ? j->sid : "-", j->peer);
  if (!res->duplicate && r->health && j->job.write.code != TALLY_EDRYRUN)
    tally_health_submitted(r->health, (int64_t)time(NULL));
  Tally__SubmitReply *ok = tally_arena_alloc(arena, sizeof *ok);
  if (ok == NULL || (reply = tally_reply_new(r, j->id)) == NULL)
    return NULL;
  tally__submit_reply__init(ok);
  ok->accepted = res->written;
  ok->replaced = res->replaced;
  ok->unchanged = res->unchanged;
  ok->removed = res->removed;
  ok->revision = res->revision;
  ok->duplicate = res->duplicate;
  ok->submission_id = tally_arena_strdup(arena, j->sid);
  ok->dry_run = j->job.write.code == TALLY_EDRYRUN;
  if (!res->duplicate && explained_warnings(r, j, ok) != 0)
    return NULL;
  if (!res->duplicate && j->resubmits)
    ok->returned = &j->returned; /* the job outlives the reply's packing */
  reply->body_case = TALLY__ENVELOPE__BODY_SUBMIT_REPLY;
  reply->submit_reply = ok;
  return ok->submission_id ? reply : NULL;
}

/* Copies the submission's explanations, refusing those that explain
 * nothing: an unknown rule, an error rule (its figures must be fixed),
 * an empty or overlong text, a rule twice. Returns NULL, an error reply,
 * or NULL with *no_memory set. */
static Tally__Envelope *copy_explanations(tally_request *r, uint64_t id,
                                          const Tally__SubmitRequest *s,
                                          struct submit_job *j,
                                          int *no_memory) {
  *no_memory = 0;
  if (s->n_explanations == 0)
    return NULL;
  if ((j->given = calloc(s->n_explanations, sizeof *j->given)) == NULL)
    return *no_memory = 1, NULL;
  for (size_t i = 0; i < s->n_explanations; i++) {
    const Tally__Explanation *e = s->explanations[i];
    const char *code = e->rule ? e->rule : "";
    int k = tally_catalog_rule(r->cat, code);
    char shown[SHOWN_MAX];
    const char *why = tally_rule_unexplainable(r->cat, code);
    if (why == NULL && (!e->text || !*e->text ||
                        !tally_reply_showable(e->text, TALLY_EXPLANATION_MAX)))
      why = "needs an explanation of 1 to 600 bytes of text (200 Chinese "
            "characters)";
    else if (why == NULL && given_for(j, r->cat->rules[k].code))
      why = "is explained twice";
    if (why)
      return tally_reply_error(r, id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                               "the explanation for rule '%s' is refused: "
                               "the rule %s; nothing was stored",
                               tally_reply_show(code, shown), why);
    tally__explanation__init(&j->given[j->n_given]);
    j->given[j->n_given].rule = r->cat->rules[k].code;
    if ((j->given[j->n_given].text = strdup(e->text)) == NULL)
      return *no_memory = 1, NULL;
    j->n_given++;
  }
  return NULL;
}

/* What the rules need: the elements named, and room for what the check
 * finds. Returns 0 or -ENOMEM. */
static int prepare_rules(tally_request *r, int unit, const tally_period *p,
                         struct submit_job *j) {
  const tally_catalog *cat = r->cat;
  j->cat = cat;
  j->unit = unit;
  j->p = *p;
  j->touched = calloc(cat->n_elements + 1, 1);
  j->broken = calloc(cat->n_rules + 1, sizeof *j->broken);
  j->explained = calloc(cat->n_rules + 1, 1);
  j->kept = calloc(cat->n_rules + 1, sizeof *j->kept);
  if (!j->touched || !j->broken || !j->explained || !j->kept)
    return -ENOMEM;
  for (int i = 0, e = -1; (size_t)i < j->n; i++) { /* checked: all known */
    e = tally_catalog_element_guess(cat, j->items[i].element, e + 1);
    j->touched[e] = 1;
  }
  return 0;
}

/* The changes of the history entry the store writes if the report held
 * no figures (each item new), packed here on the loop thread rather
 * than on the writer's (server/submit_bytes.h). Returns 0 or -ENOMEM. */
static int pack_first_changes(struct submit_job *j) {
  j->first_changes_len = tally_first_changes_size(j->items, j->n);
  j->first_changes = malloc(j->first_changes_len + 1);
  if (j->first_changes == NULL)
    return -ENOMEM;
  tally_first_changes_pack(j->items, j->n, j->first_changes);
  return 0;
}

Tally__Envelope *tally_submit_prepare(tally_request *r, uint64_t id,
                                      const Tally__SubmitRequest *s,
                                      const char *how, int dry_run,
                                      tally_job **out) {
  Tally__Envelope *reply = NULL;
  tally_period p;
  int unit;

  *out = NULL;
  if ((unit = tally_reply_want_unit(r, id, s->unit, &reply)) < 0 ||
      tally_reply_want_period(r, id, s->period, &p, &reply) != 0)
    return reply;
  if (*s->submission_id && !tally_utf8_is_printable_ascii(s->submission_id, TALLY_STORE_MAX_ID))
    return tally_reply_error(r, id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "a submission id is 1-%d printable ASCII "
                                "characters",
                                TALLY_STORE_MAX_ID);
  time_t now = time(NULL);
  if (tally_period_start_day(&p) > (long)(now / 86400))
    return tally_reply_error(r, id, TALLY__ERROR_CODE__ERROR_BAD_PERIOD,
                                "period %s has not begun yet", s->period);
  if (s->n_values == 0 && !s->replace)
    return tally_reply_error(r, id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "the submission holds no values");
  if (!r->cat->units[unit].is_leaf && unit != r->cat->root)
    return tally_reply_error(r, id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "%s is not a reporting unit: the units under "
                                "it report their own figures",
                                s->unit);

  struct submit_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return NULL;
  j->items = calloc(s->n_values + 1, sizeof *j->items);
  j->order = calloc(s->n_values + 1, sizeof *j->order);
  if (j->items == NULL || j->order == NULL)
    goto err_no_memory;
  int no_memory;
  reply = check_values(r, id, unit, s, j->items, j->order, &no_memory);
  if (no_memory)
    goto err_no_memory;
  if (reply != NULL) {
    tally_log("submit refused: unit=%s period=%s values=%zu from %s: %s",
              s->unit, s->period, s->n_values, r->peer, reply->error->message);
    submit_free(&j->job);
    return reply;
  }
  j->n = s->n_values;
  if (pack_first_changes(j) != 0)
    goto err_no_memory;
  reply = copy_explanations(r, id, s, j, &no_memory);
  if (no_memory || (reply == NULL && prepare_rules(r, unit, &p, j) != 0))
    goto err_no_memory;
  if (reply != NULL) {
    submit_free(&j->job);
    return reply;
  }
  j->job.finish = submit_finish;
  j->job.free = submit_free;
  j->job.write.apply = submit_apply;
  j->store = r->store;
  j->id = id;
  j->dry_run = dry_run;
  snprintf(j->how, sizeof j->how, "%s", how ? how : "");
  tally_period_format(&p, j->period);
  snprintf(j->sid, sizeof j->sid, "%s", s->submission_id);
  snprintf(j->peer, sizeof j->peer, "%s", r->peer);
  snprintf(j->account_name, sizeof j->account_name, "%s", r->account->name);
  j->base_revision = s->base_revision;
  j->replace = s->replace;
  j->sub = (tally_store_submission){
      .id = j->sid,
      .unit = r->cat->units[unit].code,
      .period_key = tally_period_key(&p),
      .items = j->items,
      .n = j->n,
      .order = j->order,
      .first_changes = j->first_changes,
      .first_changes_len = j->first_changes_len,
      .check_revision = s->check_revision,
      .base_revision = s->base_revision,
      .replace = s->replace,
      .now = (int64_t)now,
      .peer = j->peer,
      /* The same id with other figures is not the same submission. */
      .digest = *s->submission_id ? tally_submit_digest(s) : 0,
      .check = submit_check,
      .check_arg = j,
      .account_id = r->account->id,
      .account_name = j->account_name,
      .how = *j->how ? j->how : NULL,
  };
  *out = &j->job;
  return NULL;

err_no_memory:
  submit_free(&j->job);
  return NULL;
}

Tally__Envelope *tally_handle_submit(tally_request *r,
                                      const Tally__Envelope *req) {
  tally_job *job;
  Tally__Envelope *reply =
      tally_submit_prepare(r, req->id, req->submit, NULL, req->submit->dry_run,
                           &job);
  if (job == NULL)
    return reply;
  /* Committed with whatever else is waiting; answered from finish. */
  return tally_job_write(r, job);
}
