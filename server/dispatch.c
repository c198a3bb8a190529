/* dispatch.c: the request table and the handlers. */
#include "dispatch.h"
#include "handlers.h"

#include "error.h"
#include "flags.h"
#include "indicator.h"
#include "log.h"
#include "period.h"
#include "report.h"
#include "rollup.h"
#include "utf8.h"
#include "wire.h"
#include "writer.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_DETAILS 50           /* problems listed in one error reply */
#define MAX_EXACT_COUNT 1e15     /* counts above this lose precision */


typedef Tally__Envelope *(*handler_fn)(tally_request *r,
                                       const Tally__Envelope *req);

/* A client's text made fit to echo in a message: at most 40 characters
 * of UTF-8; a byte that is not, or a control character, becomes '?'; a
 * longer text ends in '~'. Returns buf. */
const char *tally_dispatch_show(const char *s, char buf[SHOWN_MAX]) {
  const unsigned char *p = (const unsigned char *)s;
  size_t in = 0, out = 0, len = strlen(s);
  for (int chars = 0; in < len && chars < 40; chars++) {
    size_t k = tally_utf8_char(p + in, len - in);
    if (k == 0 || tally_utf8_is_control(p + in, k)) {
      buf[out++] = '?';
      in += k ? k : 1;
      continue;
    }
    memcpy(buf + out, p + in, k);
    out += k;
    in += k;
  }
  if (in < len)
    buf[out++] = '~';
  buf[out] = 0;
  return buf;
}

Tally__Envelope *tally_dispatch_reply(tally_request *r, uint64_t id) {
  Tally__Envelope *env = tally_arena_alloc(r->arena, sizeof *env);
  if (env == NULL)
    return NULL;
  tally__envelope__init(env);
  env->id = id;
  return env;
}

static Tally__Envelope *verror(tally_request *r, uint64_t id,
                               Tally__ErrorCode code, const char *fmt,
                               va_list ap) {
  Tally__Envelope *env = tally_dispatch_reply(r, id);
  Tally__ErrorReply *err = tally_arena_alloc(r->arena, sizeof *err);
  char msg[512];
  if (env == NULL || err == NULL)
    return NULL;
  tally__error_reply__init(err);
  vsnprintf(msg, sizeof msg, fmt, ap);
  tally_utf8_trim(msg);
  err->code = code;
  err->message = tally_arena_strdup(r->arena, msg);
  env->body_case = TALLY__ENVELOPE__BODY_ERROR;
  env->error = err;
  return err->message ? env : NULL;
}

Tally__Envelope *tally_dispatch_error(tally_request *r, uint64_t id,
                                      Tally__ErrorCode code, const char *fmt,
                                      ...) {
  va_list ap;
  va_start(ap, fmt);
  Tally__Envelope *env = verror(r, id, code, fmt, ap);
  va_end(ap);
  return env;
}

/* Parses a period field; on failure *err is the error reply. */
int tally_dispatch_want_period(tally_request *r, uint64_t id, const char *text,
                       tally_period *p, Tally__Envelope **err) {
  char shown[SHOWN_MAX];
  if (text == NULL || *text == 0) {
    *err = tally_dispatch_error(r, id, TALLY__ERROR_CODE__ERROR_BAD_PERIOD,
                                "a period is required (2022, 2022Q3 or "
                                "2022-07)");
    return -1;
  }
  if (tally_period_parse(text, p) != 0) {
    *err = tally_dispatch_error(r, id, TALLY__ERROR_CODE__ERROR_BAD_PERIOD,
                                "malformed period '%s': use 2022, 2022Q3 "
                                "or 2022-07 (years %d-%d)",
                                tally_dispatch_show(text, shown), TALLY_PERIOD_MIN_YEAR,
                                TALLY_PERIOD_MAX_YEAR);
    return -1;
  }
  return 0;
}

/* Whether text names a catalog entry by its code in any letter case,
 * its Chinese name, or its English name in any letter case: for the
 * "did you mean" of an unknown code. */
static int names(const char *text, const char *code, const char *name_zh,
                 const char *name_en) {
  return strcasecmp(code, text) == 0 || strcmp(name_zh, text) == 0 ||
         strcasecmp(name_en, text) == 0;
}

/* Looks up an indicator; on failure *err is the error reply, with the
 * code meant when the text is one in other letter case or a name. */
int tally_dispatch_want_indicator(tally_request *r, uint64_t id,
                                  const char *code, Tally__Envelope **err) {
  const tally_catalog *cat = r->cat;
  char shown[SHOWN_MAX];
  int ind = tally_catalog_indicator(cat, code ? code : "");
  if (ind >= 0)
    return ind;
  for (size_t i = 0; code && i < cat->n_indicators; i++) {
    const tally_indicator *in = &cat->indicators[i];
    if (names(code, in->code, in->name_zh, in->name_en)) {
      *err = tally_dispatch_error(r, id,
                                  TALLY__ERROR_CODE__ERROR_UNKNOWN_INDICATOR,
                                  "unknown indicator '%s'; did you mean %s?",
                                  tally_dispatch_show(code, shown), in->code);
      return -1;
    }
  }
  *err = tally_dispatch_error(r, id, TALLY__ERROR_CODE__ERROR_UNKNOWN_INDICATOR,
                              "unknown indicator '%s' (see 'tally catalog' "
                              "for the codes)",
                              tally_dispatch_show(code ? code : "", shown));
  return -1;
}

/* Looks up a unit; on failure *err is the error reply. */
int tally_dispatch_want_unit(tally_request *r, uint64_t id, const char *code,
                     Tally__Envelope **err) {
  char shown[SHOWN_MAX];
  int u = code && *code ? tally_catalog_unit(r->cat, code) : -1;
  if (u >= 0)
    return u;
  for (size_t i = 0; code && *code && i < r->cat->n_units; i++) {
    const tally_unit *un = &r->cat->units[i];
    if (names(code, un->code, un->name_zh, un->name_en)) {
      *err = tally_dispatch_error(r, id, TALLY__ERROR_CODE__ERROR_UNKNOWN_UNIT,
                                  "unknown unit '%s'; did you mean %s?",
                                  tally_dispatch_show(code, shown), un->code);
      return -1;
    }
  }
  if (code && *code)
    *err = tally_dispatch_error(r, id, TALLY__ERROR_CODE__ERROR_UNKNOWN_UNIT,
                                "unknown unit '%s' (see the catalog for the "
                                "unit codes)",
                                tally_dispatch_show(code, shown));
  else
    *err = tally_dispatch_error(r, id, TALLY__ERROR_CODE__ERROR_UNKNOWN_UNIT,
                                "a unit is required");
  return -1;
}

/* Adds one problem with item index (1-based) to an error reply. */
static void add_detail(tally_request *r, Tally__Envelope *env, uint32_t index,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add_detail(tally_request *r, Tally__Envelope *env, uint32_t index,
                       const char *fmt, ...) {
  Tally__ErrorReply *err = env->error;
  char text[512];
  va_list ap;

  if (err->n_details >= MAX_DETAILS)
    return;
  if (err->details == NULL) {
    err->details =
        tally_arena_alloc(r->arena, MAX_DETAILS * sizeof *err->details);
    if (err->details == NULL)
      return;
  }
  Tally__ErrorDetail *d = tally_arena_alloc(r->arena, sizeof *d);
  if (d == NULL)
    return;
  tally__error_detail__init(d);
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  tally_utf8_trim(text);
  d->index = index;
  d->text = tally_arena_strdup(r->arena, text);
  if (d->text)
    err->details[err->n_details++] = d;
}

/* The element a text names by its Chinese or English name, or by its
 * code in other letter case: for a hint. -1 when none. */
static int element_named(const tally_catalog *cat, const char *text) {
  for (size_t e = 0; e < cat->n_elements; e++) {
    const tally_element *el = &cat->elements[e];
    if (names(text, el->code, el->name_zh, el->name_en))
      return (int)e;
  }
  return -1;
}

/* Checks every value of a submission against the catalog, in one pass.
 * Returns NULL when all are good, else an error reply listing each
 * problem (the first MAX_DETAILS). */

static Tally__Envelope *check_values(tally_request *r, uint64_t id, int unit,
                                     const Tally__SubmitRequest *s,
                                     tally_store_item *items) {
  const tally_catalog *cat = r->cat;
  Tally__Envelope *err = NULL;
  Tally__ErrorCode first = TALLY__ERROR_CODE__ERROR_UNSPECIFIED;
  size_t problems = 0;
  /* Where each element was first seen (1-based item), to find repeats. */
  size_t *seen = tally_arena_alloc(r->arena, cat->n_elements * sizeof *seen);

  if (seen == NULL)
    return NULL;
  for (size_t i = 0; i < s->n_values; i++) {
    const Tally__Value *v = s->values[i];
    const char *code = v->element ? v->element : "";
    int e = tally_catalog_element(cat, code);
    Tally__ErrorCode kind = TALLY__ERROR_CODE__ERROR_BAD_VALUE;
    char why[400] = "", shown[SHOWN_MAX];

    if (e < 0) {
      int named = element_named(cat, code);
      kind = TALLY__ERROR_CODE__ERROR_UNKNOWN_ELEMENT;
      snprintf(why, sizeof why, "unknown data element '%s'%s%s%s%s%s",
               tally_dispatch_show(code, shown),
               named < 0 ? "" : "; did you mean ",
               named < 0 ? "" : cat->elements[named].code,
               named < 0 ? "" : " (",
               named < 0 ? "" : cat->elements[named].name_zh,
               named < 0 ? "" : ")?");
    } else if (!isfinite(v->value)) {
      snprintf(why, sizeof why, "%s: value is not a finite number", code);
    } else if (v->value < 0) {
      snprintf(why, sizeof why, "%s: %g is negative; figures are never "
               "negative", code, v->value);
    } else if (v->value > TALLY_FIGURE_MAX) {
      snprintf(why, sizeof why, "%s: %g is too large; figures are at most "
               "10,000,000,000,000 (1e13)", code, v->value);
    } else if (cat->elements[e].type == TALLY_ELEMENT_COUNT &&
               (v->value != floor(v->value) || v->value > MAX_EXACT_COUNT)) {
      snprintf(why, sizeof why, "%s: %g is not a whole number of %s", code,
               v->value, cat->elements[e].unit);
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
      err = tally_dispatch_error(r, id, kind, "%s", why);
      if (err == NULL)
        return NULL;
    }
    add_detail(r, err, (uint32_t)(i + 1), "%s", why);
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
  }
  return err;
}

/* A text for people (a target's wording): UTF-8 without control
 * characters, at most max bytes. */
int tally_dispatch_showable(const char *s, size_t max) {
  const unsigned char *p = (const unsigned char *)s;
  size_t len = strlen(s), k;
  if (len > max)
    return 0;
  for (size_t i = 0; i < len; i += k)
    if ((k = tally_utf8_char(p + i, len - i)) == 0 ||
        tally_utf8_is_control(p + i, k))
      return 0;
  return 1;
}

/* A code is printable ASCII of a sane length; anything else is not
 * echoed back in messages. */
static int printable(const char *s, size_t max) {
  size_t n = 0;
  for (; s[n]; n++)
    if (n >= max || s[n] < 0x21 || s[n] > 0x7e)
      return 0;
  return 1;
}

/* A submission on its way to the store: everything its reply needs,
 * copied out of the request, which is freed before the commit. */
struct submit_job {
  tally_async async;          /* first: the job is its async */
  tally_write_job write;      /* what the writer commits */
  tally_writer *writer;
  const tally_catalog *cat;
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

static void submit_free(tally_async *a) {
  struct submit_job *j = (struct submit_job *)a;
  free(j->items);
  free(j->bounds);
  free(j->bound_of);
  free(j);
}

static void submit_run(tally_async *a) {
  struct submit_job *j = (struct submit_job *)a;
  tally_writer_wait(j->writer, &j->write);
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
    add_detail(cc->r, cc->err, i, "%s: stored %.15g, submitted %.15g", element,
               value, cc->j->items[i - 1].value);
  return 0;
}

/* The reply to a submission based on a revision the report has left:
 * both revisions, and each figure that differs. */
static Tally__Envelope *conflict(tally_request *r, const struct submit_job *j,
                                 uint64_t current) {
  Tally__Envelope *err = tally_dispatch_error(
      r, j->id, TALLY__ERROR_CODE__ERROR_CONFLICT,
      "conflict: the report of %s for %s is at revision %llu, but the "
      "submission is based on revision %llu; nothing was stored (see the "
      "current figures with 'tally values')",
      j->write.sub.unit, j->period, (unsigned long long)current,
      (unsigned long long)j->base_revision);
  if (err == NULL)
    return NULL;
  struct conflict_ctx cc = {r, j, err};
  tally_store_scan(j->store, j->write.sub.period_key, j->write.sub.unit,
                   list_difference, &cc);
  tally_log("submit refused: unit=%s period=%s from %s: conflict at revision "
            "%llu, based on %llu",
            j->write.sub.unit, j->period, j->peer, (unsigned long long)current,
            (unsigned long long)j->base_revision);
  return err;
}

/* The reply to a submission, once the store has had it. Runs on the
 * loop; builds in arena. */
static Tally__Envelope *submit_outcome(struct submit_job *j,
                                       tally_arena *arena) {
  tally_request r = {.cat = j->cat, .store = j->store, .peer = j->peer,
                     .arena = arena};
  const tally_store_result *res = &j->write.res;
  const char *unit = j->write.sub.unit;
  Tally__Envelope *reply;

  switch (j->write.code) {
  case 0:
    break;
  case TALLY_ECONFLICT:
    return conflict(&r, j, res->revision);
  case TALLY_ELOCKED: {
    tally_period p;
    Tally__PeriodLock *lock = NULL;
    char how[512] = "locked";
    if (tally_period_from_key(j->write.sub.period_key, &p) == 0 &&
        tally_lock_find(&r, &p, &lock) == 0 && lock)
      tally_lock_text(lock, how, sizeof how);
    tally_log("submit refused: unit=%s period=%s from %s: the period is "
              "locked", unit, j->period, j->peer);
    /* What to do first: the lock's own text may be long. */
    return tally_dispatch_error(&r, j->id, TALLY__ERROR_CODE__ERROR_LOCKED,
                                "period %s is closed, nothing was stored: "
                                "the central office approved its figures. To "
                                "change them, ask it to unlock %s, then "
                                "submit the file again. (%s)",
                                j->period, j->period, how);
  }
  case TALLY_EIDREUSE:
    return tally_dispatch_error(&r, j->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "submission id %s was already used for other "
                                "figures; nothing was stored",
                                j->sid);
  case TALLY_EBOUND: {
    const tally_store_bound *b = &j->bounds[res->bound];
    reply = tally_dispatch_error(
        &r, j->id, TALLY__ERROR_CODE__ERROR_BAD_VALUE,
        "%s %s would be %.15g, more than %s (%.15g), which %s divides it by; "
        "nothing was stored",
        unit, b->numerator, res->bound_numerator, b->denominator,
        res->bound_denominator, j->bound_of[res->bound]);
    uint32_t a = item_of(j, b->numerator), d = item_of(j, b->denominator);
    if (reply)
      add_detail(&r, reply, a ? a : d, "%s %.15g is more than %s %.15g%s",
                 b->numerator, res->bound_numerator, b->denominator,
                 res->bound_denominator, a && d ? "" : " (stored before)");
    tally_log("submit refused: unit=%s period=%s from %s: %s above %s", unit,
              j->period, j->peer, b->numerator, b->denominator);
    return reply;
  }
  default:
    tally_log("submit failed: unit=%s period=%s from %s: %s", unit, j->period,
              j->peer, tally_strerror(j->write.code));
    return tally_dispatch_error(&r, j->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the store could not write (%s); nothing was "
                                "stored",
                                tally_strerror(j->write.code));
  }
  tally_log("submit%s: unit=%s period=%s values=%u replaced=%u unchanged=%u "
            "removed=%u revision=%llu id=%s from %s",
            res->duplicate ? " (duplicate, answered from the record)" : "",
            unit, j->period, res->written, res->replaced, res->unchanged,
            res->removed, (unsigned long long)res->revision,
            *j->sid ? j->sid : "-", j->peer);
  Tally__SubmitReply *ok = tally_arena_alloc(arena, sizeof *ok);
  if (ok == NULL || (reply = tally_dispatch_reply(&r, j->id)) == NULL)
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

static Tally__Envelope *submit_finish(tally_async *a, tally_arena *arena) {
  return submit_outcome((struct submit_job *)a, arena);
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
  uint64_t h = 1469598103934665603ull;
  if (buf == NULL)
    return 0;
  tally__submit_request__pack(s, buf);
  for (size_t i = 0; i < n; i++) {
    h ^= buf[i];
    h *= 1099511628211ull;
  }
  return h;
}

static Tally__Envelope *handle_submit(tally_request *r,
                                      const Tally__Envelope *req) {
  const Tally__SubmitRequest *s = req->submit;
  Tally__Envelope *reply = NULL;
  tally_period p;
  int unit;

  if ((unit = tally_dispatch_want_unit(r, req->id, s->unit, &reply)) < 0 ||
      tally_dispatch_want_period(r, req->id, s->period, &p, &reply) != 0)
    return reply;
  if (*s->submission_id && !printable(s->submission_id, TALLY_STORE_MAX_ID))
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "a submission id is 1-%d printable ASCII "
                                "characters",
                                TALLY_STORE_MAX_ID);
  time_t now = time(NULL);
  if (tally_period_start_day(&p) > (long)(now / 86400))
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_PERIOD,
                                "period %s has not begun yet", s->period);
  if (s->n_values == 0 && !s->replace)
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "the submission holds no values");
  if (!r->cat->units[unit].is_leaf && unit != r->cat->root)
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "%s is not a reporting unit: the units under "
                                "it report their own figures",
                                s->unit);

  struct submit_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return NULL;
  j->items = calloc(s->n_values + 1, sizeof *j->items);
  if (j->items == NULL)
    goto err_no_memory;
  if ((reply = check_values(r, req->id, unit, s, j->items)) != NULL) {
    tally_log("submit refused: unit=%s period=%s values=%zu from %s: %s",
              s->unit, s->period, s->n_values, r->peer, reply->error->message);
    submit_free(&j->async);
    return reply;
  }
  j->n = s->n_values;
  if (find_bounds(r->cat, j) != 0)
    goto err_no_memory;
  j->async.run = submit_run;
  j->async.finish = submit_finish;
  j->async.free = submit_free;
  j->writer = r->writer;
  j->cat = r->cat;
  j->store = r->store;
  j->id = req->id;
  tally_period_format(&p, j->period);
  snprintf(j->sid, sizeof j->sid, "%s", s->submission_id);
  snprintf(j->peer, sizeof j->peer, "%s", r->peer);
  snprintf(j->account_name, sizeof j->account_name, "%s", r->account->name);
  j->base_revision = s->base_revision;
  j->replace = s->replace;
  j->write.sub = (tally_store_submission){
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

  if (r->writer) {
    /* Committed with whatever else is waiting; answered from finish. */
    tally_writer_queue(r->writer, &j->write);
    r->async = &j->async;
    return NULL;
  }
  j->write.code = tally_store_submit(r->store, &j->write.sub, &j->write.res);
  reply = submit_outcome(j, r->arena);
  submit_free(&j->async);
  return reply;

err_no_memory:
  submit_free(&j->async);
  return NULL;
}

struct values_ctx {
  tally_request *r;
  Tally__ValuesReply *rep;
  size_t cap;
};

static int collect_value(void *arg, const char *unit, const char *element,
                         double value, int64_t updated) {
  struct values_ctx *vc = arg;
  tally_arena *a = vc->r->arena;
  Tally__ValuesReply *rep = vc->rep;

  if (tally_arena_reserve(a, &rep->values, rep->n_values, &vc->cap,
                          sizeof *rep->values) != 0)
    return -ENOMEM;
  Tally__StoredValue *sv = tally_arena_alloc(a, sizeof *sv);
  if (sv == NULL)
    return -ENOMEM;
  tally__stored_value__init(sv);
  sv->element = tally_arena_strdup(a, element);
  sv->value = value;
  sv->updated_unix = updated;
  int e = tally_catalog_element(vc->r->cat, element);
  if (e >= 0) {
    const tally_element *el = &vc->r->cat->elements[e];
    sv->name_zh = el->name_zh;
    sv->name_en = el->name_en;
    sv->unit = el->unit;
    const tally_level *l =
        el->type == TALLY_ELEMENT_STATUS && value == floor(value) &&
                fabs(value) <= INT32_MAX
            ? tally_element_level(el, (int)value)
            : NULL;
    if (l && (sv->level = tally_arena_printf(a, "%s (%s)", l->zh, l->en)) ==
                 NULL)
      return -ENOMEM;
  }
  if (sv->element == NULL)
    return -ENOMEM;
  rep->values[rep->n_values++] = sv;
  return 0;
}

static Tally__Envelope *handle_values(tally_request *r,
                                      const Tally__Envelope *req) {
  const Tally__ValuesRequest *q = req->values;
  Tally__Envelope *reply = NULL;
  tally_period p;
  char ptext[TALLY_PERIOD_STRLEN];

  if (tally_dispatch_want_unit(r, req->id, q->unit, &reply) < 0 ||
      tally_dispatch_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  Tally__ValuesReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  if (rep == NULL)
    return NULL;
  tally__values_reply__init(rep);
  rep->unit = q->unit;
  rep->period = tally_arena_strdup(r->arena, tally_period_format(&p, ptext));
  struct values_ctx vc = {r, rep, 0};
  int rc = tally_store_scan(r->store, tally_period_key(&p), q->unit,
                            collect_value, &vc);
  if (rc == -ENOMEM)
    return NULL;
  if (rc == 0)
    rc = tally_store_revision(r->store, tally_period_key(&p), q->unit,
                              &rep->revision);
  if (rc != 0)
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the store could not be read (%s)",
                                tally_strerror(rc));
  if ((reply = tally_dispatch_reply(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_VALUES_REPLY;
  reply->values_reply = rep;
  return reply;
}

/* protobuf-c allocations in an arena; the arena frees them all at once. */
static void *pb_alloc(void *arena, size_t n) {
  return tally_arena_alloc(arena, n);
}

static void pb_free(void *arena, void *p) {}

ProtobufCAllocator tally_dispatch_pb_arena(tally_arena *a) {
  ProtobufCAllocator alloc = {.alloc = pb_alloc, .free = pb_free,
                              .allocator_data = a};
  return alloc;
}

/* Targets entered on the server, read once per request. */
struct entered_targets {
  tally_report_targets base;  /* first: the engine's view */
  tally_request *r;
  struct entered {
    int ind;
    tally_target t;
    Tally__Target *record;
  } *list;
  size_t n, cap;
};

static const tally_target *entered_find(const tally_report_targets *base,
                                        int ind, int year) {
  const struct entered_targets *et = (const struct entered_targets *)base;
  for (size_t i = 0; i < et->n; i++)
    if (et->list[i].ind == ind && et->list[i].t.year == year)
      return &et->list[i].t;
  return NULL;
}

/* Store visitor: one entered target into the list. */
static int collect_target(void *arg, const void *packed, size_t len) {
  struct entered_targets *et = arg;
  tally_arena *a = et->r->arena;
  ProtobufCAllocator alloc = tally_dispatch_pb_arena(a);
  Tally__Target *rec = tally__target__unpack(&alloc, len, packed);
  if (rec == NULL)
    return 0;
  int ind = tally_catalog_indicator(et->r->cat, rec->indicator);
  tally_op op;
  if (ind < 0 || tally_op_parse(rec->op, &op) != 0)
    return 0; /* an indicator no longer in the catalog */
  if (tally_arena_reserve(a, &et->list, et->n, &et->cap, sizeof *et->list) !=
      0)
    return -ENOMEM;
  struct entered *e = &et->list[et->n++];
  memset(e, 0, sizeof *e);
  e->ind = ind;
  e->record = rec;
  e->t.year = rec->year;
  e->t.op = op;
  e->t.value = rec->value;
  e->t.tolerance = rec->tolerance;
  e->t.text = *rec->text ? rec->text : NULL;
  return 0;
}

static int load_entered(tally_request *r, struct entered_targets *et) {
  memset(et, 0, sizeof *et);
  et->base.find = entered_find;
  et->r = r;
  return tally_store_targets(r->store, collect_target, et);
}

static Tally__Envelope *handle_report(tally_request *r,
                                      const Tally__Envelope *req) {
  const Tally__ReportRequest *q = req->report;
  Tally__Envelope *reply = NULL;
  Tally__ReportReply *rep;
  tally_period p;
  char shown[SHOWN_MAX];
  int scope = r->cat->root;
  tally_report_filter filter = {-1, -1};
  struct entered_targets et;

  if (tally_dispatch_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  if (q->unit && *q->unit &&
      (scope = tally_dispatch_want_unit(r, req->id, q->unit, &reply)) < 0)
    return reply;
  if (q->indicator && *q->indicator &&
      (filter.indicator = tally_dispatch_want_indicator(r, req->id,
                                                        q->indicator,
                                                        &reply)) < 0)
    return reply;
  if (q->plan && *q->plan) {
    for (size_t i = 0; i < r->cat->n_plans; i++)
      if (strcmp(r->cat->plans[i].code, q->plan) == 0)
        filter.plan = (int)i;
    if (filter.plan < 0)
      return tally_dispatch_error(r, req->id,
                                  TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                  "unknown plan '%s' (the plans are %s%s%s)",
                                  tally_dispatch_show(q->plan, shown), r->cat->plans[0].code,
                                  r->cat->n_plans > 1 ? " and " : "",
                                  r->cat->n_plans > 1 ? r->cat->plans[1].code
                                                      : "");
  }
  int rc = load_entered(r, &et);
  if (rc == 0)
    rc = tally_report_build(r->cat, r->store, &et.base, &p, scope, &filter,
                            r->arena, &rep);
  if (rc == 0 && tally_lock_find(r, &p, &rep->lock) != 0)
    rep->lock = NULL; /* the report stands without its approval line */
  if (rc != 0)
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the report could not be built (%s)",
                                tally_strerror(rc));
  if ((reply = tally_dispatch_reply(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_REPORT_REPLY;
  reply->report_reply = rep;
  return reply;
}

static Tally__Envelope *handle_explain(tally_request *r,
                                       const Tally__Envelope *req) {
  const Tally__ExplainRequest *q = req->explain;
  Tally__Envelope *reply = NULL;
  Tally__ExplainReply *rep;
  tally_period p;
  int scope = r->cat->root, ind;
  struct entered_targets et;

  if ((ind = tally_dispatch_want_indicator(r, req->id, q->indicator,
                                           &reply)) < 0)
    return reply;
  if (tally_dispatch_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  if (*q->unit && (scope = tally_dispatch_want_unit(r, req->id, q->unit, &reply)) < 0)
    return reply;
  int rc = load_entered(r, &et);
  if (rc == 0)
    rc = tally_report_explain(r->cat, r->store, &et.base, &p, scope, ind,
                              r->arena, &rep);
  if (rc != 0)
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the explanation could not be built (%s)",
                                tally_strerror(rc));
  if ((reply = tally_dispatch_reply(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_EXPLAIN_REPLY;
  reply->explain_reply = rep;
  return reply;
}

static Tally__Envelope *handle_completeness(tally_request *r,
                                            const Tally__Envelope *req) {
  const Tally__CompletenessRequest *q = req->completeness;
  Tally__Envelope *reply = NULL;
  Tally__CompletenessReply *rep;
  tally_period p;
  int scope = r->cat->root;

  if (tally_dispatch_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  if (*q->unit && (scope = tally_dispatch_want_unit(r, req->id, q->unit, &reply)) < 0)
    return reply;
  int rc = tally_report_completeness(r->cat, r->store, &p, scope, r->arena,
                                     &rep);
  if (rc != 0)
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "completeness could not be read (%s)",
                                tally_strerror(rc));
  if ((reply = tally_dispatch_reply(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_COMPLETENESS_REPLY;
  reply->completeness_reply = rep;
  return reply;
}

/* A check reads every unit's figures of two periods. One unit's (what
 * tally submit asks after each submission) is read on the loop: in a
 * worker it would hold a pool thread that submissions wait in (0.74 of
 * their rate at 64 connections). A check of more units than
 * CHECK_INLINE_UNITS is read in a worker, so that a district of many
 * units does not hold the loop. */
#define CHECK_INLINE_UNITS 64
struct check_job {
  tally_async async;   /* first: the job is its async */
  const tally_catalog *cat;
  tally_store *store;
  uint64_t id;
  tally_period period;
  int scope, own;
  int rc;
  tally_arena arena;   /* the reply, built where the job runs */
  Tally__CheckReply *rep;
};

static void check_run(tally_async *a) {
  struct check_job *j = (struct check_job *)a;
  j->rc = tally_flags_of_period(j->cat, j->store, &j->period, j->scope,
                                j->own, &j->arena, &j->rep);
}

/* The reply, copied into the loop's arena (the job's goes with it). */
static Tally__Envelope *check_finish(tally_async *a, tally_arena *arena) {
  struct check_job *j = (struct check_job *)a;
  tally_request r = {.arena = arena};
  if (j->rc == 0 && j->rep == NULL)
    j->rc = TALLY_ESTORE; /* never ran */
  if (j->rc == -ENOMEM)
    return NULL;
  if (j->rc != 0)
    return tally_dispatch_error(&r, j->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the figures could not be read (%s)",
                                tally_strerror(j->rc));
  size_t len = tally__check_reply__get_packed_size(j->rep);
  uint8_t *packed = tally_arena_alloc(arena, len + 1);
  ProtobufCAllocator alloc = tally_dispatch_pb_arena(arena);
  Tally__Envelope *reply = tally_dispatch_reply(&r, j->id);
  if (packed == NULL || reply == NULL)
    return NULL;
  tally__check_reply__pack(j->rep, packed);
  reply->body_case = TALLY__ENVELOPE__BODY_CHECK_REPLY;
  reply->check_reply = tally__check_reply__unpack(&alloc, len, packed);
  return reply->check_reply ? reply : NULL;
}

static void check_free(tally_async *a) {
  struct check_job *j = (struct check_job *)a;
  tally_arena_free(&j->arena);
  free(j);
}

static Tally__Envelope *handle_check(tally_request *r,
                                     const Tally__Envelope *req) {
  const Tally__CheckRequest *q = req->check;
  Tally__Envelope *reply = NULL;
  tally_period p;
  int scope = r->cat->root;

  if (tally_dispatch_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  if (tally_period_start_day(&p) > (long)(time(NULL) / 86400))
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_PERIOD,
                                "period %s has not begun yet", q->period);
  if (*q->unit && (scope = tally_dispatch_want_unit(r, req->id, q->unit, &reply)) < 0)
    return reply;
  struct check_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return NULL;
  j->async.run = check_run;
  j->async.finish = check_finish;
  j->async.free = check_free;
  j->cat = r->cat;
  j->store = r->store;
  j->id = req->id;
  j->period = p;
  j->scope = scope;
  /* A reporter checks its own unit's figures (the district office's: not
   * those of the units below it). */
  j->own = r->account->role == TALLY__ROLE__ROLE_REPORTER;
  if (j->own || r->cat->units[scope].leaves <= CHECK_INLINE_UNITS) {
    check_run(&j->async); /* here, on the loop */
    reply = check_finish(&j->async, r->arena);
    check_free(&j->async);
    return reply;
  }
  r->async = &j->async;
  return NULL;
}

static Tally__Envelope *handle_catalog(tally_request *r,
                                       const Tally__Envelope *req) {
  Tally__CatalogReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  Tally__Envelope *reply = tally_dispatch_reply(r, req->id);
  char *json = json_dumps(r->cat->doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (rep == NULL || reply == NULL || json == NULL) {
    free(json);
    return NULL;
  }
  tally__catalog_reply__init(rep);
  rep->origin = r->cat->origin;
  rep->json.len = strlen(json);
  rep->json.data = tally_arena_alloc(r->arena, rep->json.len + 1);
  if (rep->json.data == NULL) {
    free(json);
    return NULL;
  }
  memcpy(rep->json.data, json, rep->json.len);
  free(json);
  reply->body_case = TALLY__ENVELOPE__BODY_CATALOG_REPLY;
  reply->catalog_reply = rep;
  return reply;
}

/* The catalog target of ind for year that the city assigns, or NULL. */
static const tally_target *assigned_target(const tally_catalog *cat, int ind,
                                           int year) {
  const tally_indicator *in = &cat->indicators[ind];
  for (size_t i = 0; i < in->n_targets; i++)
    if (in->targets[i].year == year && in->targets[i].op == TALLY_OP_ASSIGNED)
      return &in->targets[i];
  return NULL;
}

/* Appends ": text" to a target in words, when it has a wording. */
static void add_wording(char *buf, size_t n, const char *text) {
  size_t used = strlen(buf);
  if (text && *text && used < n)
    snprintf(buf + used, n - used, ": %s", text);
}

static Tally__Envelope *handle_target_set(tally_request *r,
                                          const Tally__Envelope *req) {
  Tally__Target *t = req->target_set->target;
  Tally__Envelope *refused = NULL;
  tally_op op;
  int ind;

  if (t == NULL)
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "no target given");
  if ((ind = tally_dispatch_want_indicator(r, req->id, t->indicator,
                                           &refused)) < 0)
    return refused;
  if (assigned_target(r->cat, ind, t->year) == NULL)
    return tally_dispatch_error(
        r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
        "%s has no target for %d that the city assigns: its targets come "
        "from the plan (see 'tally target list')",
        t->indicator, t->year);
  if (tally_op_parse(t->op, &op) != 0 || op > TALLY_OP_ABOUT ||
      !isfinite(t->value) || !isfinite(t->tolerance) || t->tolerance < 0 ||
      (op == TALLY_OP_ABOUT) != (t->tolerance > 0))
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_VALUE,
                                "a target is >=, >, <=, < or about with a "
                                "finite value (and a tolerance for about)");
  if (!tally_dispatch_showable(t->text, 200))
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_VALUE,
                                "the target's text is at most 200 bytes of "
                                "UTF-8 without control characters");

  Tally__Target rec = *t;
  rec.indicator = r->cat->indicators[ind].code;
  rec.set_unix = (int64_t)time(NULL);
  rec.set_by = (char *)r->peer;
  rec.account_id = r->account->id;
  rec.account_name = (char *)r->account->name;
  size_t len = tally__target__get_packed_size(&rec);
  uint8_t *packed = tally_arena_alloc(r->arena, len + 1);
  int replaced = 0, rc;
  if (packed == NULL)
    return NULL;
  tally__target__pack(&rec, packed);

  /* Before and after in words, for the audit trail. */
  struct entered_targets et;
  char before[512] = "", after[512];
  tally_target set;
  if (load_entered(r, &et) == 0) {
    const tally_target *old = entered_find(&et.base, ind, t->year);
    if (old) {
      tally_target_text(r->cat, ind, old, before, sizeof before);
      add_wording(before, sizeof before, old->text);
    }
  }
  if (*before == 0)
    snprintf(before, sizeof before, "none (assigned by the city)");
  memset(&set, 0, sizeof set);
  set.year = t->year;
  set.op = op;
  set.value = t->value;
  set.tolerance = t->tolerance;
  tally_target_text(r->cat, ind, &set, after, sizeof after);
  add_wording(after, sizeof after, t->text);
  tally_store_actor who = {r->account->id, r->account->name, r->peer,
                           rec.set_unix};
  if ((rc = tally_store_target_put(r->store, rec.indicator, rec.year, packed,
                                   len, &replaced, before, after, &who)) != 0)
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the target could not be stored (%s)",
                                tally_strerror(rc));
  tally_log("target set: %s %d %s %g by account %llu from %s", rec.indicator,
            rec.year, rec.op, rec.value, (unsigned long long)r->account->id,
            r->peer);

  Tally__TargetSetReply *ok = tally_arena_alloc(r->arena, sizeof *ok);
  Tally__Target *copy = tally_arena_alloc(r->arena, sizeof *copy);
  Tally__Envelope *reply = tally_dispatch_reply(r, req->id);
  if (ok == NULL || copy == NULL || reply == NULL)
    return NULL;
  tally__target_set_reply__init(ok);
  *copy = rec;
  ok->target = copy;
  ok->replaced = replaced;
  reply->body_case = TALLY__ENVELOPE__BODY_TARGET_SET_REPLY;
  reply->target_set_reply = ok;
  return reply;
}

static Tally__Envelope *handle_target_list(tally_request *r,
                                           const Tally__Envelope *req) {
  const tally_catalog *cat = r->cat;
  struct entered_targets et;
  Tally__TargetListReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  Tally__Envelope *reply = tally_dispatch_reply(r, req->id);
  size_t total = 0;
  int rc;

  if (rep == NULL || reply == NULL)
    return NULL;
  if ((rc = load_entered(r, &et)) != 0)
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the targets could not be read (%s)",
                                tally_strerror(rc));
  tally__target_list_reply__init(rep);
  for (size_t i = 0; i < cat->n_indicators; i++)
    total += cat->indicators[i].n_targets;
  rep->targets = tally_arena_alloc(r->arena, (total + 1) * sizeof *rep->targets);
  if (rep->targets == NULL)
    return NULL;
  for (size_t i = 0; i < cat->n_indicators; i++) {
    const tally_indicator *in = &cat->indicators[i];
    for (size_t k = 0; k < in->n_targets; k++) {
      const tally_target *t = &in->targets[k];
      Tally__TargetListEntry *e = tally_arena_alloc(r->arena, sizeof *e);
      char text[256], when[32];
      if (e == NULL)
        return NULL;
      tally__target_list_entry__init(e);
      e->indicator = in->code;
      e->year = t->year;
      e->assigned = t->op == TALLY_OP_ASSIGNED;
      const tally_target *set =
          e->assigned ? entered_find(&et.base, (int)i, t->year) : NULL;
      tally_target_text(cat, (int)i, set ? set : t, text, sizeof text);
      e->target = tally_arena_strdup(r->arena, text);
      if (set) {
        const Tally__Target *rec = NULL;
        for (size_t j = 0; j < et.n; j++)
          if (&et.list[j].t == set)
            rec = et.list[j].record;
        time_t at = (time_t)(rec ? rec->set_unix : 0);
        struct tm tm;
        gmtime_r(&at, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
        e->entered = 1;
        e->source = tally_arena_printf(
            r->arena, "entered %s from %s%s%s", when, rec ? rec->set_by : "?",
            rec && *rec->text ? ": " : "", rec && *rec->text ? rec->text : "");
      } else {
        e->source = tally_arena_printf(r->arena, "catalog: %s",
                                       in->source ? in->source : "");
      }
      if (e->target == NULL || e->source == NULL)
        return NULL;
      rep->targets[rep->n_targets++] = e;
    }
  }
  reply->body_case = TALLY__ENVELOPE__BODY_TARGET_LIST_REPLY;
  reply->target_list_reply = rep;
  return reply;
}

struct history_ctx {
  tally_arena *a;
  Tally__HistoryReply *rep;
  size_t cap;
};

/* Store visitor: unpacks one history entry into the reply. */
static int collect_changeset(void *arg, const void *packed, size_t len) {
  struct history_ctx *hc = arg;
  Tally__HistoryReply *rep = hc->rep;
  if (tally_arena_reserve(hc->a, &rep->changes, rep->n_changes, &hc->cap,
                          sizeof *rep->changes) != 0)
    return -ENOMEM;
  /* Unpack into the arena, so the reply frees as one. */
  ProtobufCAllocator alloc = tally_dispatch_pb_arena(hc->a);
  Tally__ChangeSet *cs = tally__change_set__unpack(&alloc, len, packed);
  if (cs == NULL)
    return 0; /* not ours to judge: skip an entry that does not decode */
  rep->changes[rep->n_changes++] = cs;
  return 0;
}

static Tally__Envelope *handle_history(tally_request *r,
                                       const Tally__Envelope *req) {
  const Tally__HistoryRequest *q = req->history;
  Tally__Envelope *reply = NULL;
  tally_period p;
  char ptext[TALLY_PERIOD_STRLEN];

  if (tally_dispatch_want_unit(r, req->id, q->unit, &reply) < 0 ||
      tally_dispatch_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  Tally__HistoryReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  if (rep == NULL)
    return NULL;
  tally__history_reply__init(rep);
  rep->unit = q->unit;
  rep->period = tally_arena_strdup(r->arena, tally_period_format(&p, ptext));
  struct history_ctx hc = {r->arena, rep, 0};
  int rc = tally_store_history(r->store, tally_period_key(&p), q->unit,
                               collect_changeset, &hc);
  if (rc == -ENOMEM)
    return NULL;
  if (rc != 0)
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the store could not be read (%s)",
                                tally_strerror(rc));
  if ((reply = tally_dispatch_reply(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_HISTORY_REPLY;
  reply->history_reply = rep;
  return reply;
}

/* A backup runs in a worker thread: LMDB's copy reads one snapshot
 * while the loop goes on serving. */
struct backup_job {
  tally_async async;   /* first: the job is its async */
  tally_store *store;
  uint64_t id;         /* the request's id */
  char *path;
  char peer[64];
  int rc;
  uint64_t bytes;
};

static void backup_run(tally_async *a) {
  struct backup_job *j = (struct backup_job *)a;
  j->rc = tally_store_backup(j->store, j->path, &j->bytes);
}

static Tally__Envelope *backup_finish(tally_async *a, tally_arena *arena) {
  struct backup_job *j = (struct backup_job *)a;
  tally_request r = {.arena = arena};
  if (j->rc != 0) {
    tally_log("backup to %s failed: %s (asked by %s)", j->path,
              tally_strerror(j->rc), j->peer);
    const char *why = j->rc == -ENOENT
                          ? "the folder it would go in does not exist on "
                            "the server"
                      : j->rc == -EEXIST
                          ? "it exists already; a backup goes into a new "
                            "folder"
                          : tally_strerror(j->rc);
    return tally_dispatch_error(&r, j->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "backup to %s failed: %s", j->path, why);
  }
  tally_log("backup: %s, %llu bytes (asked by %s)", j->path,
            (unsigned long long)j->bytes, j->peer);
  Tally__BackupReply *ok = tally_arena_alloc(arena, sizeof *ok);
  Tally__Envelope *reply = tally_dispatch_reply(&r, j->id);
  if (ok == NULL || reply == NULL)
    return NULL;
  tally__backup_reply__init(ok);
  ok->path = tally_arena_strdup(arena, j->path);
  ok->bytes = j->bytes;
  reply->body_case = TALLY__ENVELOPE__BODY_BACKUP_REPLY;
  reply->backup_reply = ok;
  return ok->path ? reply : NULL;
}

static void backup_free(tally_async *a) {
  struct backup_job *j = (struct backup_job *)a;
  free(j->path);
  free(j);
}

static Tally__Envelope *handle_backup(tally_request *r,
                                      const Tally__Envelope *req) {
  const char *path = req->backup->path;
  if (*path != '/')
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "the backup path must be absolute (a new "
                                "directory on the server's machine)");
  for (const char *p = path; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return tally_dispatch_error(r, req->id,
                                  TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                  "the backup path holds a control character");
  struct backup_job *j = calloc(1, sizeof *j);
  if (j == NULL || (j->path = strdup(path)) == NULL) {
    free(j);
    return NULL;
  }
  j->async.run = backup_run;
  j->async.finish = backup_finish;
  j->async.free = backup_free;
  j->store = r->store;
  j->id = req->id;
  snprintf(j->peer, sizeof j->peer, "%s", r->peer);
  r->async = &j->async;
  return NULL;
}

/* A verify remakes every sums record in a worker thread, from one
 * snapshot, while the loop goes on serving. */
struct verify_job {
  tally_async async;   /* first: the job is its async */
  const tally_catalog *cat;
  tally_store *store;
  uint64_t id;
  char peer[64];
  int rc;
  tally_rollup_check check;
};

static void verify_run(tally_async *a) {
  struct verify_job *j = (struct verify_job *)a;
  j->rc = tally_rollup_verify(j->cat, j->store, &j->check);
}

static Tally__Envelope *verify_finish(tally_async *a, tally_arena *arena) {
  struct verify_job *j = (struct verify_job *)a;
  tally_request r = {.arena = arena};
  if (j->rc != 0) {
    tally_log("verify failed: %s (asked by %s)", tally_strerror(j->rc),
              j->peer);
    return tally_dispatch_error(&r, j->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "verify failed: %s", tally_strerror(j->rc));
  }
  tally_log("verify: %llu unit reports, %llu sums records, %llu mismatches%s%s "
            "(asked by %s)", (unsigned long long)j->check.reports,
            (unsigned long long)j->check.records,
            (unsigned long long)j->check.mismatches,
            j->check.mismatches ? ": " : "", j->check.first, j->peer);
  Tally__VerifyReply *ok = tally_arena_alloc(arena, sizeof *ok);
  Tally__Envelope *reply = tally_dispatch_reply(&r, j->id);
  if (ok == NULL || reply == NULL)
    return NULL;
  tally__verify_reply__init(ok);
  ok->reports = j->check.reports;
  ok->records = j->check.records;
  ok->mismatches = j->check.mismatches;
  ok->first = tally_arena_strdup(arena, j->check.first);
  reply->body_case = TALLY__ENVELOPE__BODY_VERIFY_REPLY;
  reply->verify_reply = ok;
  return ok->first ? reply : NULL;
}

static void verify_free(tally_async *a) { free(a); }

static Tally__Envelope *handle_verify(tally_request *r,
                                      const Tally__Envelope *req) {
  struct verify_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return NULL;
  j->async.run = verify_run;
  j->async.finish = verify_finish;
  j->async.free = verify_free;
  j->cat = r->cat;
  j->store = r->store;
  j->id = req->id;
  snprintf(j->peer, sizeof j->peer, "%s", r->peer);
  r->async = &j->async;
  return NULL;
}

/* Who may make a request. */
enum access {
  SIGNED_IN,   /* any account */
  READ_UNIT,   /* analysts and admins; a reporter for its own unit only */
  READ_SCOPE,  /* the same, over a unit and the units below it: a reporter
                  only for a unit with none below */
  WRITE_UNIT,  /* a reporter, for its own unit only */
  ANALYST,     /* analysts and admins */
  ADMIN,
};

static const char *unit_of_submit(const Tally__Envelope *e) {
  return e->submit->unit;
}
static const char *unit_of_values(const Tally__Envelope *e) {
  return e->values->unit;
}
static const char *unit_of_history(const Tally__Envelope *e) {
  return e->history->unit;
}
static const char *unit_of_report(const Tally__Envelope *e) {
  return e->report->unit;
}
static const char *unit_of_explain(const Tally__Envelope *e) {
  return e->explain->unit;
}
static const char *unit_of_completeness(const Tally__Envelope *e) {
  return e->completeness->unit;
}
static const char *unit_of_check(const Tally__Envelope *e) {
  return e->check->unit;
}

/* The request table: one row per request type a client may send. */
static const struct {
  Tally__Envelope__BodyCase body;
  const char *name;
  handler_fn fn;
  enum access access;
  const char *(*unit_of)(const Tally__Envelope *); /* for *_UNIT */
} handlers[] = {
    {TALLY__ENVELOPE__BODY_SUBMIT, "submit", handle_submit, WRITE_UNIT,
     unit_of_submit},
    {TALLY__ENVELOPE__BODY_VALUES, "values", handle_values, READ_UNIT,
     unit_of_values},
    {TALLY__ENVELOPE__BODY_REPORT, "report", handle_report, READ_SCOPE,
     unit_of_report},
    {TALLY__ENVELOPE__BODY_HISTORY, "history", handle_history, READ_UNIT,
     unit_of_history},
    {TALLY__ENVELOPE__BODY_BACKUP, "backup", handle_backup, ADMIN, NULL},
    {TALLY__ENVELOPE__BODY_VERIFY, "verify", handle_verify, ADMIN, NULL},
    {TALLY__ENVELOPE__BODY_EXPLAIN, "explain", handle_explain, READ_SCOPE,
     unit_of_explain},
    {TALLY__ENVELOPE__BODY_COMPLETENESS, "completeness", handle_completeness,
     READ_SCOPE, unit_of_completeness},
    {TALLY__ENVELOPE__BODY_CHECK, "check", handle_check, READ_UNIT,
     unit_of_check},
    {TALLY__ENVELOPE__BODY_CATALOG, "catalog", handle_catalog, SIGNED_IN, NULL},
    {TALLY__ENVELOPE__BODY_TARGET_SET, "target set", handle_target_set, ANALYST,
     NULL},
    {TALLY__ENVELOPE__BODY_TARGET_LIST, "target list", handle_target_list,
     SIGNED_IN, NULL},
    {TALLY__ENVELOPE__BODY_LOCK, "period lock and unlock", tally_handle_lock,
     ANALYST, NULL},
    {TALLY__ENVELOPE__BODY_LOCK_LIST, "period list", tally_handle_lock_list,
     SIGNED_IN, NULL},
    {TALLY__ENVELOPE__BODY_ACCOUNT_ADD, "account add", tally_handle_account_add,
     ADMIN, NULL},
    {TALLY__ENVELOPE__BODY_ACCOUNT_LIST, "account list",
     tally_handle_account_list, ADMIN, NULL},
    {TALLY__ENVELOPE__BODY_ACCOUNT_REVOKE, "account revoke",
     tally_handle_account_revoke, ADMIN, NULL},
    /* Anyone may replace their own token; the handler checks others'. */
    {TALLY__ENVELOPE__BODY_ACCOUNT_ROTATE, "account rotate",
     tally_handle_account_rotate, SIGNED_IN, NULL},
    {TALLY__ENVELOPE__BODY_WHOAMI, "whoami", tally_handle_whoami, SIGNED_IN,
     NULL},
    /* A reporter sees its own unit's and its own account's trail. */
    {TALLY__ENVELOPE__BODY_AUDIT, "audit", tally_handle_audit, SIGNED_IN, NULL},
};

void tally_session_sign_in(tally_session *s, const tally_account *acc) {
  s->account = acc->id;
  memcpy(s->secret_sha256, acc->secret_sha256, 32);
}

/* Signs the connection in with the request's token. Returns 0, or -1
 * with *err the refusal. */
static int sign_in(tally_request *r, const Tally__Envelope *req,
                   Tally__Envelope **err) {
  int64_t now = (int64_t)time(NULL);
  int64_t wait = r->guard ? tally_guard_wait(r->guard, r->peer, now) : 0;
  const char *why = NULL;

  if (wait > 0) {
    tally_log("sign-in refused from %s: too many failed sign-ins", r->peer);
    r->refused_sign_in = 1;
    *err = tally_dispatch_error(
        r, req->id, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED,
        "too many failed sign-ins from this address; try again in %lld s",
        (long long)wait);
    return -1;
  }
  tally_account *acc = tally_accounts_check(r->accounts, req->auth->token, &why);
  if (acc == NULL) {
    if (r->guard)
      tally_guard_fail(r->guard, r->peer, now);
    /* The log names the address and the reason, never the token. */
    tally_log("sign-in refused from %s: %s", r->peer, why);
    r->refused_sign_in = 1;
    memset(r->session, 0, sizeof *r->session);
    *err = tally_dispatch_error(
        r, req->id, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED,
        "the token was refused: %s (ask the central office for a new one)",
        why);
    return -1;
  }
  if (r->session->account == 0) /* once per connection, not per request */
    tally_log("signed in from %s as account %llu (%s, %s%s%s)", r->peer,
              (unsigned long long)acc->id, acc->name, tally_role_name(acc->role),
              acc->unit >= 0 ? " for " : "", acc->unit >= 0 ? acc->unit_code : "");
  tally_session_sign_in(r->session, acc);
  if (acc->last_used != now) {
    acc->last_used = now;
    acc->touched = 1;
  }
  return 0;
}

/* Whether the account may make a request of this access. Returns NULL,
 * or the refusal. */
static Tally__Envelope *refuse(tally_request *r, const Tally__Envelope *req,
                               const char *name, enum access access,
                               const char *unit) {
  const tally_account *a = r->account;
  int analyst = a->role == TALLY__ROLE__ROLE_ANALYST ||
                a->role == TALLY__ROLE__ROLE_ADMIN;
  int own = a->role == TALLY__ROLE__ROLE_REPORTER && unit &&
            strcmp(unit, a->unit_code) == 0;
  char shown[SHOWN_MAX];
  const Tally__ErrorCode denied = TALLY__ERROR_CODE__ERROR_PERMISSION_DENIED;

  switch (access) {
  case SIGNED_IN:
    return NULL;
  case READ_SCOPE:
    /* The district office reports its own figures; what its units
     * report is for the central office's analysts. */
    if (a->role == TALLY__ROLE__ROLE_REPORTER &&
        !r->cat->units[a->unit].is_leaf && (own || unit == NULL || *unit == 0))
      return tally_dispatch_error(
          r, req->id, denied,
          "permission denied: account %llu reports the figures of %s itself; "
          "a %s over the units below it is for analysts",
          (unsigned long long)a->id, a->unit_code, name);
    /* fall through */
  case READ_UNIT:
    if (analyst || own)
      return NULL;
    if ((unit == NULL || *unit == 0) && a->unit == r->cat->root)
      return tally_dispatch_error(
          r, req->id, denied,
          "permission denied: account %llu reports the district office's own "
          "figures and may read those only, not the units' (give --unit %s)",
          (unsigned long long)a->id, a->unit_code);
    if (unit == NULL || *unit == 0)
      return tally_dispatch_error(
          r, req->id, denied,
          "permission denied: account %llu reports for %s and may read %s "
          "only, not the whole district (give --unit %s)",
          (unsigned long long)a->id, a->unit_code, a->unit_code, a->unit_code);
    return tally_dispatch_error(
        r, req->id, denied,
        "permission denied: account %llu reports for %s and may not read "
        "the figures of %s",
        (unsigned long long)a->id, a->unit_code, tally_dispatch_show(unit, shown));
  case WRITE_UNIT:
    if (own)
      return NULL;
    if (a->role == TALLY__ROLE__ROLE_REPORTER)
      return tally_dispatch_error(
          r, req->id, denied,
          "permission denied: account %llu reports for %s, not for %s; "
          "nothing was stored",
          (unsigned long long)a->id, a->unit_code, tally_dispatch_show(unit, shown));
    return tally_dispatch_error(
        r, req->id, denied,
        "permission denied: only a reporter of the unit may %s its figures; "
        "account %llu is an %s; nothing was stored",
        name, (unsigned long long)a->id, tally_role_name(a->role));
  case ANALYST:
    if (analyst)
      return NULL;
    break;
  case ADMIN:
    if (a->role == TALLY__ROLE__ROLE_ADMIN)
      return NULL;
    break;
  }
  return tally_dispatch_error(r, req->id, denied,
                              "permission denied: %s needs the %s role; "
                              "account %llu is a%s %s",
                              name, access == ADMIN ? "admin" : "analyst",
                              (unsigned long long)a->id,
                              a->role == TALLY__ROLE__ROLE_ANALYST ||
                                      a->role == TALLY__ROLE__ROLE_ADMIN
                                  ? "n"
                                  : "",
                              tally_role_name(a->role));
}

Tally__Envelope *tally_dispatch(tally_request *r, const Tally__Envelope *req) {
  Tally__Envelope *err = NULL;
  size_t i = 0, n = sizeof handlers / sizeof handlers[0];

  if (req->auth && req->auth->token && *req->auth->token) {
    if (sign_in(r, req, &err) != 0)
      return err;
  } else if (r->session->account == 0) {
    return tally_dispatch_error(
        r, req->id, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED,
        "sign in first: the first request of a connection must carry a token "
        "(see 'tally help login')");
  }
  tally_account *acc = tally_accounts_find(r->accounts, r->session->account);
  if (acc == NULL || acc->revoked ||
      memcmp(acc->secret_sha256, r->session->secret_sha256, 32) != 0) {
    uint64_t id = r->session->account;
    memset(r->session, 0, sizeof *r->session);
    return tally_dispatch_error(r, req->id,
                                TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED,
                                "the token of account %llu has been %s; sign "
                                "in again",
                                (unsigned long long)id,
                                acc && !acc->revoked ? "replaced" : "revoked");
  }
  r->account = acc;
  while (i < n && handlers[i].body != req->body_case)
    i++;
  if (i == n)
    return tally_dispatch_error(r, req->id,
                                TALLY__ERROR_CODE__ERROR_UNSUPPORTED,
                                "this server does not handle request type %d",
                                (int)req->body_case);
  const char *unit = handlers[i].unit_of ? handlers[i].unit_of(req) : NULL;
  /* A unit the catalog does not have gets the handler's clearer "unknown
   * unit": unit codes are public (tally catalog). */
  int known = unit == NULL || *unit == 0 || tally_catalog_unit(r->cat, unit) >= 0;
  /* A write names its unit: without one, the handler says so. */
  if (handlers[i].access == WRITE_UNIT && (unit == NULL || *unit == 0))
    known = 0;
  if (known &&
      (err = refuse(r, req, handlers[i].name, handlers[i].access, unit))) {
    tally_log("%s refused: account %llu from %s: %s", handlers[i].name,
              (unsigned long long)acc->id, r->peer,
              err->error ? err->error->message : "no memory");
    return err;
  }
  return handlers[i].fn(r, req);
}
