/* reply.h: building replies and error replies in a request's arena. */
#ifndef TALLY_REPLY_H
#define TALLY_REPLY_H

#include "dispatch.h"
#include "period.h"

#define SHOWN_MAX 168 /* room for an echoed text: 40 characters of UTF-8 */

/* An empty reply envelope for request id, in r's arena (NULL: no
 * memory). */
Tally__Envelope *tally_reply_new(tally_request *r, uint64_t id);

/* An error reply for request id, in r's arena (NULL on no memory). */
Tally__Envelope *tally_reply_error(tally_request *r, uint64_t id,
                                   Tally__ErrorCode code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#include <stdarg.h>
Tally__Envelope *tally_reply_verror(tally_request *r, uint64_t id,
                                    Tally__ErrorCode code, const char *fmt,
                                    va_list ap);

/* Adds one problem with item index (1-based) to an error reply. Returns
 * the detail (in r's arena), or NULL when there was no room or memory. */
Tally__ErrorDetail *tally_reply_detail(tally_request *r, Tally__Envelope *env, uint32_t index,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A client's text made fit to echo in a message: at most 40 characters
 * of UTF-8; anything else becomes '?'. Returns buf. */
const char *tally_reply_show(const char *s, char buf[SHOWN_MAX]);

/* Whether a client's text may be kept and shown: at most max bytes of
 * UTF-8 without control characters. */
int tally_reply_showable(const char *s, size_t max);

/* The reply to a read that failed with rc: NULL for -ENOMEM (dispatch
 * says so), else ERROR_STORE naming the error. */
Tally__Envelope *tally_reply_read_failed(tally_request *r, uint64_t id, int rc);

/* Parses a period field / looks up an indicator / a unit; on failure
 * *err is the error reply (and -1 is returned). */
int tally_reply_want_period(tally_request *r, uint64_t id, const char *text,
                            tally_period *p, Tally__Envelope **err);
int tally_reply_want_indicator(tally_request *r, uint64_t id, const char *code,
                               Tally__Envelope **err);
int tally_reply_want_unit(tally_request *r, uint64_t id, const char *code,
                          Tally__Envelope **err);

/* Whether text names a catalog entry by its code in any letter case,
 * its Chinese name, or its English name in any letter case. */
int tally_reply_names(const char *text, const char *code, const char *name_zh,
                      const char *name_en);

/* A protobuf-c allocator in arena a: what it unpacks is freed with a. */
ProtobufCAllocator tally_reply_pb_arena(tally_arena *a);

#endif
