/* handlers.h: what the request handlers share (inside the server). */
#ifndef TALLY_HANDLERS_H
#define TALLY_HANDLERS_H

#include "dispatch.h"
#include "period.h"

#define SHOWN_MAX 168 /* room for an echoed text: 40 characters of UTF-8 */

/* An empty reply envelope for request id, in r's arena. */
Tally__Envelope *tally_dispatch_reply(tally_request *r, uint64_t id);

/* A client's text made fit to echo in a message: printable ASCII, at
 * most 40 characters; anything else becomes '?'. Returns buf. */
const char *tally_dispatch_show(const char *s, char buf[SHOWN_MAX]);

/* Whether a client's text may be kept and shown: at most max bytes of
 * UTF-8 without control characters. */
int tally_dispatch_showable(const char *s, size_t max);

/* Parses a period field / looks up a unit; on failure *err is the
 * error reply (and -1 is returned). */
int tally_dispatch_want_period(tally_request *r, uint64_t id, const char *text,
                               tally_period *p, Tally__Envelope **err);
int tally_dispatch_want_indicator(tally_request *r, uint64_t id,
                                  const char *code, Tally__Envelope **err);
int tally_dispatch_want_unit(tally_request *r, uint64_t id, const char *code,
                             Tally__Envelope **err);

/* A protobuf-c allocator in arena a: what it unpacks is freed with a. */
ProtobufCAllocator tally_dispatch_pb_arena(tally_arena *a);

/* The handlers of server/dispatch_accounts.c. */
Tally__Envelope *tally_handle_account_add(tally_request *r,
                                          const Tally__Envelope *req);
Tally__Envelope *tally_handle_account_list(tally_request *r,
                                           const Tally__Envelope *req);
Tally__Envelope *tally_handle_account_revoke(tally_request *r,
                                             const Tally__Envelope *req);
Tally__Envelope *tally_handle_account_rotate(tally_request *r,
                                             const Tally__Envelope *req);
Tally__Envelope *tally_handle_whoami(tally_request *r,
                                     const Tally__Envelope *req);
Tally__Envelope *tally_handle_audit(tally_request *r,
                                    const Tally__Envelope *req);

/* The handlers of server/dispatch_locks.c. */
Tally__Envelope *tally_handle_lock(tally_request *r,
                                   const Tally__Envelope *req);
Tally__Envelope *tally_handle_lock_list(tally_request *r,
                                        const Tally__Envelope *req);

/* The lock of period p, unpacked in r's arena (NULL: open). Returns 0,
 * -ENOMEM or a store error. */
int tally_lock_find(tally_request *r, const tally_period *p,
                    Tally__PeriodLock **out);

/* "locked on 2022-... UTC by account 3 (name): text", into buf. */
void tally_lock_text(const Tally__PeriodLock *l, char *buf, size_t n);

#endif
