/* dispatch.c: the request table and the handlers. */
#include "dispatch.h"

#include "error.h"
#include "indicator.h"
#include "log.h"
#include "period.h"
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_DETAILS 50           /* problems listed in one error reply */
#define MAX_EXACT_COUNT 1e15     /* counts above this lose precision */

typedef Tally__Envelope *(*handler_fn)(tally_request *r,
                                       const Tally__Envelope *req);

static Tally__Envelope *new_reply(tally_request *r, uint64_t id) {
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
  Tally__Envelope *env = new_reply(r, id);
  Tally__ErrorReply *err = tally_arena_alloc(r->arena, sizeof *err);
  char msg[512];
  if (env == NULL || err == NULL)
    return NULL;
  tally__error_reply__init(err);
  vsnprintf(msg, sizeof msg, fmt, ap);
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
static int want_period(tally_request *r, uint64_t id, const char *text,
                       tally_period *p, Tally__Envelope **err) {
  if (text == NULL || *text == 0) {
    *err = tally_dispatch_error(r, id, TALLY__ERROR_CODE__ERROR_BAD_PERIOD,
                                "a period is required (2022, 2022Q3 or "
                                "2022-07)");
    return -1;
  }
  if (tally_period_parse(text, p) != 0) {
    *err = tally_dispatch_error(r, id, TALLY__ERROR_CODE__ERROR_BAD_PERIOD,
                                "malformed period '%.40s': use 2022, 2022Q3 "
                                "or 2022-07 (years %d-%d)",
                                text, TALLY_PERIOD_MIN_YEAR,
                                TALLY_PERIOD_MAX_YEAR);
    return -1;
  }
  return 0;
}

/* Looks up a unit; on failure *err is the error reply. */
static int want_unit(tally_request *r, uint64_t id, const char *code,
                     Tally__Envelope **err) {
  int u = code && *code ? tally_catalog_unit(r->cat, code) : -1;
  if (u < 0)
    *err = tally_dispatch_error(r, id, TALLY__ERROR_CODE__ERROR_UNKNOWN_UNIT,
                                code && *code
                                    ? "unknown unit '%.40s' (see the catalog "
                                      "for the unit codes)"
                                    : "a unit is required%.0s",
                                code ? code : "");
  return u;
}

/* Adds one problem with item index (1-based) to an error reply. */
static void add_detail(tally_request *r, Tally__Envelope *env, uint32_t index,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add_detail(tally_request *r, Tally__Envelope *env, uint32_t index,
                       const char *fmt, ...) {
  Tally__ErrorReply *err = env->error;
  char text[256];
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
  d->index = index;
  d->text = tally_arena_strdup(r->arena, text);
  if (d->text)
    err->details[err->n_details++] = d;
}

/* Checks every value of a submission against the catalog. Returns NULL
 * when all are good, else an error reply listing each problem. */
static Tally__Envelope *check_values(tally_request *r, uint64_t id, int unit,
                                     const Tally__SubmitRequest *s,
                                     tally_store_item *items) {
  const tally_catalog *cat = r->cat;
  Tally__Envelope *err = NULL;
  Tally__ErrorCode first = TALLY__ERROR_CODE__ERROR_UNSPECIFIED;
  size_t problems = 0;

  for (size_t i = 0; i < s->n_values; i++) {
    const Tally__Value *v = s->values[i];
    const char *code = v->element ? v->element : "";
    int e = tally_catalog_element(cat, code);
    Tally__ErrorCode kind = TALLY__ERROR_CODE__ERROR_BAD_VALUE;
    char why[160] = "";

    if (e < 0) {
      kind = TALLY__ERROR_CODE__ERROR_UNKNOWN_ELEMENT;
      snprintf(why, sizeof why, "unknown data element '%.40s'", code);
    } else if (!isfinite(v->value)) {
      snprintf(why, sizeof why, "%s: value is not a finite number", code);
    } else if (v->value < 0) {
      snprintf(why, sizeof why, "%s: %g is negative; figures are never "
               "negative", code, v->value);
    } else if (cat->elements[e].type == TALLY_ELEMENT_COUNT &&
               (v->value != floor(v->value) || v->value > MAX_EXACT_COUNT)) {
      snprintf(why, sizeof why, "%s: %g is not a whole number of %s", code,
               v->value, cat->elements[e].unit);
    } else if (cat->elements[e].district_only != (unit == cat->root)) {
      snprintf(why, sizeof why, "%s is reported by %s, not by %s", code,
               cat->elements[e].district_only ? "the district office alone"
                                              : "each reporting unit",
               cat->units[unit].code);
    } else {
      for (size_t j = 0; j < i; j++)
        if (strcmp(items[j].element, code) == 0) {
          snprintf(why, sizeof why, "%s appears twice (also item %zu)", code,
                   j + 1);
          break;
        }
    }
    if (*why == 0) {
      items[i].element = cat->elements[e].code;
      items[i].value = v->value;
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

static Tally__Envelope *handle_submit(tally_request *r,
                                      const Tally__Envelope *req) {
  const Tally__SubmitRequest *s = req->submit;
  Tally__Envelope *reply = NULL;
  tally_period p;
  tally_store_put_result res;
  char ptext[TALLY_PERIOD_STRLEN];
  int unit, rc;

  if ((unit = want_unit(r, req->id, s->unit, &reply)) < 0 ||
      want_period(r, req->id, s->period, &p, &reply) != 0)
    return reply;
  time_t now = time(NULL);
  if (tally_period_start_day(&p) > (long)(now / 86400))
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_PERIOD,
                                "period %s has not begun yet", s->period);
  if (s->n_values == 0)
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "the submission holds no values");

  tally_store_item *items =
      tally_arena_alloc(r->arena, s->n_values * sizeof *items);
  if (items == NULL)
    return NULL;
  if ((reply = check_values(r, req->id, unit, s, items)) != NULL) {
    tally_log("submit refused: unit=%s period=%s values=%zu from %s: %s",
              s->unit, s->period, s->n_values, r->peer, reply->error->message);
    return reply;
  }

  rc = tally_store_put(r->store, s->unit, tally_period_key(&p), items,
                       s->n_values, (int64_t)now, &res);
  if (rc != 0) {
    tally_log("submit failed: unit=%s period=%s from %s: %s", s->unit,
              s->period, r->peer, tally_strerror(rc));
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the store could not write (%s); nothing was "
                                "stored",
                                tally_strerror(rc));
  }
  tally_log("submit: unit=%s period=%s values=%u replaced=%u unchanged=%u "
            "from %s",
            s->unit, tally_period_format(&p, ptext), res.written, res.replaced,
            res.unchanged, r->peer);

  Tally__SubmitReply *ok = tally_arena_alloc(r->arena, sizeof *ok);
  if (ok == NULL || (reply = new_reply(r, req->id)) == NULL)
    return NULL;
  tally__submit_reply__init(ok);
  ok->accepted = res.written;
  ok->replaced = res.replaced;
  ok->unchanged = res.unchanged;
  reply->body_case = TALLY__ENVELOPE__BODY_SUBMIT_REPLY;
  reply->submit_reply = ok;
  return reply;
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

  if (rep->n_values == vc->cap) {
    size_t cap = vc->cap ? vc->cap * 2 : 32;
    Tally__StoredValue **grown = tally_arena_alloc(a, cap * sizeof *grown);
    if (grown == NULL)
      return -1;
    if (rep->n_values)
      memcpy(grown, rep->values, rep->n_values * sizeof *grown);
    rep->values = grown;
    vc->cap = cap;
  }
  Tally__StoredValue *sv = tally_arena_alloc(a, sizeof *sv);
  if (sv == NULL)
    return -1;
  tally__stored_value__init(sv);
  sv->element = tally_arena_strdup(a, element);
  sv->value = value;
  sv->updated_unix = updated;
  int e = tally_catalog_element(vc->r->cat, element);
  if (e >= 0) {
    sv->name_zh = vc->r->cat->elements[e].name_zh;
    sv->name_en = vc->r->cat->elements[e].name_en;
    sv->unit = vc->r->cat->elements[e].unit;
  }
  if (sv->element == NULL)
    return -1;
  rep->values[rep->n_values++] = sv;
  return 0;
}

static Tally__Envelope *handle_values(tally_request *r,
                                      const Tally__Envelope *req) {
  const Tally__ValuesRequest *q = req->values;
  Tally__Envelope *reply = NULL;
  tally_period p;
  char ptext[TALLY_PERIOD_STRLEN];

  if (want_unit(r, req->id, q->unit, &reply) < 0 ||
      want_period(r, req->id, q->period, &p, &reply) != 0)
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
  if (rc == -1)
    return NULL;
  if (rc != 0)
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the store could not be read (%s)",
                                tally_strerror(rc));
  if ((reply = new_reply(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_VALUES_REPLY;
  reply->values_reply = rep;
  return reply;
}

static Tally__Envelope *handle_report(tally_request *r,
                                      const Tally__Envelope *req) {
  const Tally__ReportRequest *q = req->report;
  Tally__Envelope *reply = NULL;
  Tally__ReportReply *rep;
  tally_period p;
  int scope = r->cat->root, ind = -1;

  if (want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  if (q->unit && *q->unit &&
      (scope = want_unit(r, req->id, q->unit, &reply)) < 0)
    return reply;
  if (q->indicator && *q->indicator &&
      (ind = tally_catalog_indicator(r->cat, q->indicator)) < 0)
    return tally_dispatch_error(r, req->id,
                                TALLY__ERROR_CODE__ERROR_UNKNOWN_INDICATOR,
                                "unknown indicator '%.40s'", q->indicator);
  int rc = tally_report_build(r->cat, r->store, &p, scope, ind, r->arena, &rep);
  if (rc != 0)
    return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the report could not be built (%s)",
                                tally_strerror(rc));
  if ((reply = new_reply(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_REPORT_REPLY;
  reply->report_reply = rep;
  return reply;
}

/* The request table: one row per request type a client may send. */
static const struct {
  Tally__Envelope__BodyCase body;
  const char *name;
  handler_fn fn;
} handlers[] = {
    {TALLY__ENVELOPE__BODY_SUBMIT, "submit", handle_submit},
    {TALLY__ENVELOPE__BODY_VALUES, "values", handle_values},
    {TALLY__ENVELOPE__BODY_REPORT, "report", handle_report},
};

Tally__Envelope *tally_dispatch(tally_request *r, const Tally__Envelope *req) {
  for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
    if (handlers[i].body == req->body_case)
      return handlers[i].fn(r, req);
  return tally_dispatch_error(r, req->id, TALLY__ERROR_CODE__ERROR_UNSUPPORTED,
                              "this server does not handle request type %d",
                              (int)req->body_case);
}
