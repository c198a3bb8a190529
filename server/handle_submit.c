/* handle_submit.c: a unit's figures for one period, into the store.
 *
 * The happy path: every value is checked against the catalog at once
 * (all problems in one reply), the submission is copied out of the
 * request and handed to the writer thread, and the reply is built on the
 * loop once the transaction that holds it has committed. The failure
 * modes are the store's refusals (a conflict, a reused id, a broken
 * bounded pair, a locked period) and its errors, each said in words.
 */
#include "handlers.h"

#include "error.h"
#include "hash.h"
#include "indicator.h"
#include "log.h"
#include "period.h"
#include "reply.h"
#include "utf8.h"
#include "store_figures.h"

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

/* v as it was most likely written: the fewest digits (up to 17) that
 * read back as v, never in e-notation below 1e17, so that
 * 10000001000000 shows as such, not as 1e+13. Returns buf. */
static const char *figure_text(char *buf, size_t n, double v) {
  for (int digits = 15; digits <= 17; digits++) {
    if (fabs(v) < 1e17 && v == floor(v))
      snprintf(buf, n, "%.0f", v);
    else
      snprintf(buf, n, "%.*g", digits, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  return buf;
}

/* Checks every value of a submission against the catalog, in one pass.
 * Returns NULL when all are good, else an error reply listing each
 * problem (the first MAX_DETAILS); NULL with *no_memory set when there
 * was no memory to check or to say so. */
static Tally__Envelope *check_values(tally_request *r, uint64_t id, int unit,
                                     const Tally__SubmitRequest *s,
                                     tally_store_item *items, int *no_memory) {
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
  for (size_t i = 0; i < s->n_values; i++) {
    const Tally__Value *v = s->values[i];
    const char *code = v->element ? v->element : "";
    int e = tally_catalog_element(cat, code);
    Tally__ErrorCode kind = TALLY__ERROR_CODE__ERROR_BAD_VALUE;
    char why[400] = "", shown[SHOWN_MAX], fig[40];

    if (e < 0) {
      int named = element_named(cat, code);
      kind = TALLY__ERROR_CODE__ERROR_UNKNOWN_ELEMENT;
      snprintf(why, sizeof why, "unknown data element '%s'%s%s%s%s%s",
               tally_reply_show(code, shown),
               named < 0 ? "" : "; did you mean ",
               named < 0 ? "" : cat->elements[named].code,
               named < 0 ? "" : " (",
               named < 0 ? "" : cat->elements[named].name_zh,
               named < 0 ? "" : ")?");
    } else if (!isfinite(v->value)) {
      snprintf(why, sizeof why, "%s: value is not a finite number", code);
    } else if (v->value < 0) {
      snprintf(why, sizeof why, "%s: %s is negative; figures are never "
               "negative", code, figure_text(fig, sizeof fig, v->value));
    } else if (v->value > TALLY_FIGURE_MAX) {
      snprintf(why, sizeof why, "%s: %s is over the largest figure allowed, "
               "%.0f", code, figure_text(fig, sizeof fig, v->value),
               TALLY_FIGURE_MAX);
    } else if (cat->elements[e].type == TALLY_ELEMENT_COUNT &&
               v->value != floor(v->value)) {
      snprintf(why, sizeof why, "%s: %s is not a whole number of %s", code,
               figure_text(fig, sizeof fig, v->value), cat->elements[e].unit);
    } else if (cat->elements[e].type == TALLY_ELEMENT_STATUS &&
               (v->value != floor(v->value) || v->value > INT32_MAX ||
                tally_element_level(&cat->elements[e], (int)v->value) ==
                    NULL)) {
      snprintf(why, sizeof why, "%s: %g is not one of its levels (%d-%d)",
               code, v->value, cat->elements[e].levels[0].value,
               cat->elements[e].levels[cat->elements[e].n_levels - 1].value);
    } else if (cat->elements[e].district_only != (unit == cat->root)) {
      snprintf(why, sizeof why, "%s is reported by %s, not by %s", code,
               cat->elements[e].district_only ? "the district office alone"
                                              : "each reporting unit",
               cat->units[unit].code);
    } else if (seen[e]) {
      snprintf(why, sizeof why, "%s appears twice (also item %zu)", code,
               seen[e]);
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
  size_t n;
  tally_store_bound *bounds;  /* bounded pairs the submission touches */
  const char **bound_of;      /* the indicator of each pair */
  size_t n_bounds;
};

static void submit_free(tally_job *a) {
  struct submit_job *j = (struct submit_job *)a;
  free(j->items);
  free(j->bounds);
  free(j->bound_of);
  free(j);
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
  case TALLY_EBOUND: {
    const tally_store_bound *b = &j->bounds[res->bound];
    reply = tally_reply_error(
        r, j->id, TALLY__ERROR_CODE__ERROR_BAD_VALUE,
        "%s %s would be %.15g, more than %s (%.15g), which %s divides it by; "
        "nothing was stored",
        unit, b->numerator, res->bound_numerator, b->denominator,
        res->bound_denominator, j->bound_of[res->bound]);
    uint32_t a = item_of(j, b->numerator), d = item_of(j, b->denominator);
    if (reply)
      tally_reply_detail(r, reply, a ? a : d, "%s %.15g is more than %s %.15g%s",
                 b->numerator, res->bound_numerator, b->denominator,
                 res->bound_denominator, a && d ? "" : " (stored before)");
    tally_log("submit refused: unit=%s period=%s from %s: %s above %s", unit,
              j->period, j->peer, b->numerator, b->denominator);
    return reply;
  }
  case -ENOSPC: /* the store's disk has no room: say where */
    tally_log("submit failed: unit=%s period=%s from %s: the disk holding "
              "%s is full; nothing was stored", unit, j->period, j->peer,
              tally_store_dir(r->store));
    return tally_reply_error(r, j->id, TALLY__ERROR_CODE__ERROR_STORE,
                             "the disk holding %s is full; nothing was "
                             "stored", tally_store_dir(r->store));
  default:
    tally_log("submit failed: unit=%s period=%s from %s: %s", unit, j->period,
              j->peer, tally_strerror(j->job.write.code));
    return tally_reply_error(r, j->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the store could not write (%s); nothing was "
                                "stored",
                                tally_strerror(j->job.write.code));
  }
  tally_log("submit%s: unit=%s period=%s values=%u replaced=%u unchanged=%u "
            "removed=%u revision=%llu id=%s from %s",
            res->duplicate ? " (duplicate, answered from the record)" : "",
            unit, j->period, res->written, res->replaced, res->unchanged,
            res->removed, (unsigned long long)res->revision,
            *j->sid ? j->sid : "-", j->peer);
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
  reply->body_case = TALLY__ENVELOPE__BODY_SUBMIT_REPLY;
  reply->submit_reply = ok;
  return ok->submission_id ? reply : NULL;
}

/* The bounded pairs of the catalog that the submission touches. Returns
 * 0 or -ENOMEM. */
static int find_bounds(const tally_catalog *cat, struct submit_job *j) {
  unsigned char *present = calloc(cat->n_elements + 1, 1);
  j->bounds = calloc(cat->n_indicators + 1, sizeof *j->bounds);
  j->bound_of = calloc(cat->n_indicators + 1, sizeof *j->bound_of);
  if (present == NULL || j->bounds == NULL || j->bound_of == NULL) {
    free(present);
    return -ENOMEM;
  }
  for (size_t i = 0; i < j->n; i++)
    present[tally_catalog_element(cat, j->items[i].element)] = 1;
  for (size_t k = 0; k < cat->n_indicators; k++) {
    const tally_indicator *in = &cat->indicators[k];
    if (!in->bounded || (!present[in->numerator] && !present[in->denominator]))
      continue;
    j->bounds[j->n_bounds].numerator = cat->elements[in->numerator].code;
    j->bounds[j->n_bounds].denominator = cat->elements[in->denominator].code;
    j->bound_of[j->n_bounds++] = in->code;
  }
  free(present);
  return 0;
}

/* FNV-1a over the submission as sent: the same id with other figures is
 * not the same submission. */
static uint64_t digest(tally_request *r, const Tally__SubmitRequest *s) {
  size_t n = tally__submit_request__get_packed_size(s);
  uint8_t *buf = tally_arena_alloc(r->arena, n + 1);
  if (buf == NULL)
    return 0;
  tally__submit_request__pack(s, buf);
  return tally_hash_fnv1a(buf, n);
}

Tally__Envelope *tally_handle_submit(tally_request *r,
                                      const Tally__Envelope *req) {
  const Tally__SubmitRequest *s = req->submit;
  Tally__Envelope *reply = NULL;
  tally_period p;
  int unit;

  if ((unit = tally_reply_want_unit(r, req->id, s->unit, &reply)) < 0 ||
      tally_reply_want_period(r, req->id, s->period, &p, &reply) != 0)
    return reply;
  if (*s->submission_id && !tally_utf8_is_printable_ascii(s->submission_id, TALLY_STORE_MAX_ID))
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "a submission id is 1-%d printable ASCII "
                                "characters",
                                TALLY_STORE_MAX_ID);
  time_t now = time(NULL);
  if (tally_period_start_day(&p) > (long)(now / 86400))
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_PERIOD,
                                "period %s has not begun yet", s->period);
  if (s->n_values == 0 && !s->replace)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "the submission holds no values");
  if (!r->cat->units[unit].is_leaf && unit != r->cat->root)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "%s is not a reporting unit: the units under "
                                "it report their own figures",
                                s->unit);

  struct submit_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return NULL;
  j->items = calloc(s->n_values + 1, sizeof *j->items);
  if (j->items == NULL)
    goto err_no_memory;
  int no_memory;
  reply = check_values(r, req->id, unit, s, j->items, &no_memory);
  if (no_memory)
    goto err_no_memory;
  if (reply != NULL) {
    tally_log("submit refused: unit=%s period=%s values=%zu from %s: %s",
              s->unit, s->period, s->n_values, r->peer, reply->error->message);
    submit_free(&j->job);
    return reply;
  }
  j->n = s->n_values;
  if (find_bounds(r->cat, j) != 0)
    goto err_no_memory;
  j->job.finish = submit_finish;
  j->job.free = submit_free;
  j->job.write.apply = submit_apply;
  j->store = r->store;
  j->id = req->id;
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
      .check_revision = s->check_revision,
      .base_revision = s->base_revision,
      .replace = s->replace,
      .now = (int64_t)now,
      .peer = j->peer,
      .digest = *s->submission_id ? digest(r, s) : 0,
      .bounds = j->bounds,
      .n_bounds = j->n_bounds,
      .account_id = r->account->id,
      .account_name = j->account_name,
  };

  /* Committed with whatever else is waiting; answered from finish. */
  return tally_job_write(r, &j->job);

err_no_memory:
  submit_free(&j->job);
  return NULL;
}

