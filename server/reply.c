/* reply.c: replies and error replies, built in a request's arena. */
#include "reply.h"

#include "error.h"
#include "utf8.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_DETAILS 50 /* problems listed in one error reply */

/* A client's text made fit to echo in a message: at most 40 characters
 * of UTF-8; a byte that is not, or a control character, becomes '?'; a
 * longer text ends in '~'. Returns buf. */
const char *tally_reply_show(const char *s, char buf[SHOWN_MAX]) {
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

Tally__Envelope *tally_reply_new(tally_request *r, uint64_t id) {
  Tally__Envelope *env = tally_arena_alloc(r->arena, sizeof *env);
  if (env == NULL)
    return NULL;
  tally__envelope__init(env);
  env->id = id;
  return env;
}

Tally__Envelope *tally_reply_verror(tally_request *r, uint64_t id,
                               Tally__ErrorCode code, const char *fmt,
                               va_list ap) {
  Tally__Envelope *env = tally_reply_new(r, id);
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

Tally__Envelope *tally_reply_error(tally_request *r, uint64_t id,
                                      Tally__ErrorCode code, const char *fmt,
                                      ...) {
  va_list ap;
  va_start(ap, fmt);
  Tally__Envelope *env = tally_reply_verror(r, id, code, fmt, ap);
  va_end(ap);
  return env;
}

/* Parses a period field; on failure *err is the error reply. */
int tally_reply_want_period(tally_request *r, uint64_t id, const char *text,
                       tally_period *p, Tally__Envelope **err) {
  char shown[SHOWN_MAX];
  if (text == NULL || *text == 0) {
    *err = tally_reply_error(r, id, TALLY__ERROR_CODE__ERROR_BAD_PERIOD,
                                "a period is required (2022, 2022Q3 or "
                                "2022-07)");
    return -1;
  }
  if (tally_period_parse(text, p) != 0) {
    *err = tally_reply_error(r, id, TALLY__ERROR_CODE__ERROR_BAD_PERIOD,
                                "malformed period '%s': use 2022, 2022Q3 "
                                "or 2022-07 (years %d-%d)",
                                tally_reply_show(text, shown), TALLY_PERIOD_MIN_YEAR,
                                TALLY_PERIOD_MAX_YEAR);
    return -1;
  }
  return 0;
}

/* Whether text names a catalog entry by its code in any letter case,
 * its Chinese name, or its English name in any letter case: for the
 * "did you mean" of an unknown code. */
int tally_reply_names(const char *text, const char *code, const char *name_zh,
                 const char *name_en) {
  return strcasecmp(code, text) == 0 || strcmp(name_zh, text) == 0 ||
         strcasecmp(name_en, text) == 0;
}

/* Looks up an indicator; on failure *err is the error reply, with the
 * code meant when the text is one in other letter case or a name. */
int tally_reply_want_indicator(tally_request *r, uint64_t id,
                                  const char *code, Tally__Envelope **err) {
  const tally_catalog *cat = r->cat;
  char shown[SHOWN_MAX];
  int ind = tally_catalog_indicator(cat, code ? code : "");
  if (ind >= 0)
    return ind;
  for (size_t i = 0; code && i < cat->n_indicators; i++) {
    const tally_indicator *in = &cat->indicators[i];
    if (tally_reply_names(code, in->code, in->name_zh, in->name_en)) {
      *err = tally_reply_error(r, id,
                                  TALLY__ERROR_CODE__ERROR_UNKNOWN_INDICATOR,
                                  "unknown indicator '%s'; did you mean %s?",
                                  tally_reply_show(code, shown), in->code);
      return -1;
    }
  }
  *err = tally_reply_error(r, id, TALLY__ERROR_CODE__ERROR_UNKNOWN_INDICATOR,
                              "unknown indicator '%s' (see 'tally catalog' "
                              "for the codes)",
                              tally_reply_show(code ? code : "", shown));
  return -1;
}

/* Looks up a unit; on failure *err is the error reply. */
int tally_reply_want_unit(tally_request *r, uint64_t id, const char *code,
                     Tally__Envelope **err) {
  char shown[SHOWN_MAX];
  int u = code && *code ? tally_catalog_unit(r->cat, code) : -1;
  if (u >= 0)
    return u;
  for (size_t i = 0; code && *code && i < r->cat->n_units; i++) {
    const tally_unit *un = &r->cat->units[i];
    if (tally_reply_names(code, un->code, un->name_zh, un->name_en)) {
      *err = tally_reply_error(r, id, TALLY__ERROR_CODE__ERROR_UNKNOWN_UNIT,
                                  "unknown unit '%s'; did you mean %s?",
                                  tally_reply_show(code, shown), un->code);
      return -1;
    }
  }
  if (code && *code)
    *err = tally_reply_error(r, id, TALLY__ERROR_CODE__ERROR_UNKNOWN_UNIT,
                                "unknown unit '%s' (see the catalog for the "
                                "unit codes)",
                                tally_reply_show(code, shown));
  else
    *err = tally_reply_error(r, id, TALLY__ERROR_CODE__ERROR_UNKNOWN_UNIT,
                                "a unit is required");
  return -1;
}

Tally__ErrorDetail *tally_reply_detail(tally_request *r, Tally__Envelope *env,
                                       uint32_t index, const char *fmt, ...) {
  Tally__ErrorReply *err = env->error;
  char text[1024];
  va_list ap;

  if (err->n_details >= MAX_DETAILS)
    return NULL;
  if (err->details == NULL) {
    err->details =
        tally_arena_alloc(r->arena, MAX_DETAILS * sizeof *err->details);
    if (err->details == NULL)
      return NULL;
  }
  Tally__ErrorDetail *d = tally_arena_alloc(r->arena, sizeof *d);
  if (d == NULL)
    return NULL;
  tally__error_detail__init(d);
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  tally_utf8_trim(text);
  d->index = index;
  d->text = tally_arena_strdup(r->arena, text);
  if (d->text == NULL)
    return NULL;
  err->details[err->n_details++] = d;
  return d;
}

Tally__Envelope *tally_reply_read_failed(tally_request *r, uint64_t id,
                                         int rc) {
  if (rc == -ENOMEM)
    return NULL;
  return tally_reply_error(r, id, TALLY__ERROR_CODE__ERROR_STORE,
                           "the store could not be read (%s)",
                           tally_strerror(rc));
}

int tally_reply_showable(const char *s, size_t max) {
  return tally_utf8_is_text(s, max);
}

/* protobuf-c allocations in an arena; the arena frees them all at once. */
static void *pb_alloc(void *arena, size_t n) {
  return tally_arena_alloc(arena, n);
}

static void pb_free(void *arena, void *p) {}

ProtobufCAllocator tally_reply_pb_arena(tally_arena *a) {
  ProtobufCAllocator alloc = {.alloc = pb_alloc, .free = pb_free,
                              .allocator_data = a};
  return alloc;
}

