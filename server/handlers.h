/* handlers.h: the request handlers the table in server/dispatch.c
 * calls, and what they share. Each gets a signed-in request whose
 * account may make it, and returns its reply, or NULL after handing a
 * job to tally_job_run or tally_job_write (or NULL alone: no memory).
 */
#ifndef TALLY_HANDLERS_H
#define TALLY_HANDLERS_H

#include "dispatch.h"
#include "report.h"
#include "period.h"

typedef Tally__Envelope *tally_handler_fn(tally_request *r,
                                          const Tally__Envelope *req);

/* server/handle_submit.c */
tally_handler_fn tally_handle_submit;

#define TALLY_SUBMIT_HOW_MAX 300 /* an import's words for the audit trail */

/* A submission checked against the catalog and made ready for the
 * writer, as tally_handle_submit makes it; how (NULL: a submission) is
 * what the history and the audit trail say of it ("imported by account
 * 3"); a dry run checks everything in its transaction and stores
 * nothing. Returns NULL with *out the job (its write.apply, finish and
 * free set; the caller queues it), or the refusal with *out NULL, or
 * NULL alone when out of memory. */
Tally__Envelope *tally_submit_prepare(tally_request *r, uint64_t id,
                                      const Tally__SubmitRequest *s,
                                      const char *how, int dry_run,
                                      tally_job **out);

/* server/handle_import.c */
tally_handler_fn tally_handle_import;

/* server/handle_read.c */
tally_handler_fn tally_handle_values, tally_handle_history, tally_handle_report,
    tally_handle_explain, tally_handle_completeness, tally_handle_check,
    tally_handle_catalog;

/* server/handle_report_file.c */
tally_handler_fn tally_handle_report_file;

/* server/handle_views.c */
tally_handler_fn tally_handle_trend, tally_handle_matrix;

/* server/handle_validate.c */
tally_handler_fn tally_handle_validate;

/* server/handle_targets.c */
tally_handler_fn tally_handle_target_set, tally_handle_target_list;

/* server/handle_locks.c */
tally_handler_fn tally_handle_lock, tally_handle_lock_list;

/* server/handle_accounts.c */
tally_handler_fn tally_handle_account_add, tally_handle_account_list,
    tally_handle_account_revoke, tally_handle_account_rotate,
    tally_handle_account_password, tally_handle_sign_in_elsewhere,
    tally_handle_whoami, tally_handle_audit;

/* server/handle_admin.c */
tally_handler_fn tally_handle_backup, tally_handle_verify,
    tally_handle_admin_status, tally_handle_guard_clear;

/* A page of a long reply (a history, an audit trail): at most
 * TALLY_PAGE_ENTRIES entries, or fewer if the request asks, and no more
 * packed bytes than TALLY_PAGE_BYTES (but at least one entry), well
 * under a client's frame limit. The client asks for the next page. */
#define TALLY_PAGE_ENTRIES 1000
#define TALLY_PAGE_BYTES (64u << 10)

/* The entries a page of a request with this limit holds. */
static inline size_t tally_page_limit(uint32_t asked) {
  return asked && asked < TALLY_PAGE_ENTRIES ? asked : TALLY_PAGE_ENTRIES;
}

/* What an entry of len packed bytes costs a page: its tag and length
 * too. The reply's other fields get the last 512 bytes. */
#define TALLY_PAGE_COST(len) ((len) + 8)
#define TALLY_PAGE_ROOM (TALLY_PAGE_BYTES - 512)

/* True when a page of n entries (of limit) costing bytes has no room
 * for one of len bytes; a page always has room for its first. */
static inline int tally_page_full(size_t n, size_t limit, size_t bytes,
                                  size_t len) {
  return n >= limit ||
         (n > 0 && bytes + TALLY_PAGE_COST(len) > TALLY_PAGE_ROOM);
}

/* Targets entered on the server, read once per request (in its arena). */
typedef struct {
  tally_report_targets base;  /* first: the engine's view */
  tally_request *r;
  struct tally_entered_target {
    int ind;
    tally_target t;
    Tally__Target *record;
  } *list;
  size_t n, cap;
} tally_entered;

/* Reads them from txn (NULL: a snapshot of its own). Returns 0, -ENOMEM
 * or a store error. */
int tally_entered_load(tally_request *r, tally_store_txn *txn,
                       tally_entered *et);
const tally_target *tally_entered_find(const tally_report_targets *base,
                                       int ind, int year);

/* The lock of period p, unpacked in r's arena (NULL: open), from txn
 * (NULL: a snapshot of its own). Returns 0, -ENOMEM or a store error. */
int tally_lock_find(tally_request *r, tally_store_txn *txn,
                    const tally_period *p, Tally__PeriodLock **out);

/* "locked on 2022-... UTC by account 3 (name): text", into buf. */
void tally_lock_text(const Tally__PeriodLock *l, char *buf, size_t n);

/* server/handle_review.c */
tally_handler_fn tally_handle_review, tally_handle_review_list,
    tally_handle_status;

/* The review of unit's report for period in t, unpacked with alloc
 * (NULL: malloc; free with tally__review__free_unpacked), or *out NULL
 * when there is none. Returns 0 or a store error. */
int tally_review_get(tally_store_txn *t, uint32_t period_key, const char *unit,
                     ProtobufCAllocator *alloc, Tally__Review **out);


#endif
