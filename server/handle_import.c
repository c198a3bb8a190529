/* handle_import.c: the figures of many units and periods in one request
 * (tally import, tally forward).
 *
 * The happy path: each report is checked and made ready as a submission
 * is (tally_submit_prepare), each goes to the writer as a write of its
 * own, so that the writer commits them together, up to 1,024 a
 * transaction, each in its nested transaction; once the last is
 * answered the reply lists what came of each, in order. The failure
 * modes are each report's own (refused by the catalog, the rules, a
 * lock, an approved review, an id used for other figures), told in its
 * result; a refused report leaves the others be. Who may import (and a
 * reporter, which units) is checked in dispatch.c, before this runs.
 */
#include "handlers.h"

#include "import_packed.h"
#include "log.h"
#include "reply.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_SOURCE_MAX 200

struct import_job {
  tally_job job;           /* first: the job is its tally_job */
  size_t n;                /* reports */
  tally_job **subs;        /* each report's submission, or NULL */
  Tally__Envelope **early; /* each report's refusal before the writer */
  size_t left;             /* submissions not yet answered */
  int dry_run;
  uint64_t id;
};

static void import_free(tally_job *a) {
  struct import_job *j = (struct import_job *)a;
  for (size_t i = 0; i < j->n; i++)
    if (j->subs[i] && j->subs[i]->free)
      j->subs[i]->free(j->subs[i]);
  free(j->subs);
  free(j->early);
  free(j);
}

/* The reply: each report's result, from its own reply. */
static Tally__Envelope *import_finish(tally_job *a, tally_request *r) {
  struct import_job *j = (struct import_job *)a;
  Tally__ImportReply *ok = tally_arena_alloc(r->arena, sizeof *ok);
  Tally__Envelope *reply = tally_reply_new(r, j->id);
  if (ok == NULL || reply == NULL)
    return NULL;
  tally__import_reply__init(ok);
  ok->dry_run = j->dry_run;
  ok->results = tally_arena_alloc(r->arena, j->n * sizeof *ok->results);
  if (ok->results == NULL)
    return NULL;
  size_t stored = 0, refused = 0;
  for (size_t i = 0; i < j->n; i++) {
    Tally__ImportResult *res = tally_arena_alloc(r->arena, sizeof *res);
    Tally__Envelope *one =
        j->early[i] ? j->early[i] : j->subs[i]->finish(j->subs[i], r);
    if (res == NULL || one == NULL)
      return NULL;
    tally__import_result__init(res);
    if (one->body_case == TALLY__ENVELOPE__BODY_SUBMIT_REPLY) {
      res->stored = one->submit_reply;
      stored++;
    } else {
      res->error = one->error;
      refused++;
    }
    ok->results[ok->n_results++] = res;
  }
  tally_log("import%s: %zu reports from %s as account %llu: %zu %s, %zu "
            "refused", j->dry_run ? " (dry run)" : "", j->n, r->peer,
            (unsigned long long)r->account->id, stored,
            j->dry_run ? "checked" : "stored", refused);
  reply->body_case = TALLY__ENVELOPE__BODY_IMPORT_REPLY;
  reply->import_reply = ok;
  return reply;
}

/* A report's write is done: the reply goes once the last one is. */
static void import_one_done(tally_write *w, int code) {
  (void)code; /* in w->code, which its finish reads */
  tally_job *sub = tally_job_of(w);
  struct import_job *j = (struct import_job *)sub->r->job;
  if (--j->left == 0) {
    tally_request *r = j->job.r;
    r->reply(r, import_finish(&j->job, r));
  }
}

Tally__Envelope *tally_handle_import(tally_request *r,
                                      const Tally__Envelope *req) {
  const Tally__ImportRequest *q = req->import_request;
  char how[TALLY_SUBMIT_HOW_MAX + 1];

  if (q->n_reports == 0 || q->n_reports > TALLY_IMPORT_MAX_REPORTS)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "an import holds 1 to %d reports, not %zu",
                             TALLY_IMPORT_MAX_REPORTS, q->n_reports);
  if (*q->source && !tally_reply_showable(q->source, IMPORT_SOURCE_MAX))
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "an import's source is 1-%d bytes of printable "
                             "text", IMPORT_SOURCE_MAX);
  snprintf(how, sizeof how, "imported by account %llu%s%s",
           (unsigned long long)r->account->id, *q->source ? ": " : "",
           q->source);

  struct import_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return NULL;
  j->subs = calloc(q->n_reports, sizeof *j->subs);
  j->early = calloc(q->n_reports, sizeof *j->early);
  if (j->subs == NULL || j->early == NULL) {
    import_free(&j->job);
    return NULL;
  }
  j->n = q->n_reports;
  j->dry_run = q->dry_run;
  j->id = req->id;
  j->job.finish = import_finish;
  j->job.free = import_free;
  for (size_t i = 0; i < q->n_reports; i++) {
    j->early[i] = tally_submit_prepare(r, req->id, q->reports[i], how,
                                       q->dry_run, &j->subs[i]);
    if (j->early[i] == NULL && j->subs[i] == NULL) {
      import_free(&j->job);
      return NULL; /* no memory */
    }
    if (j->subs[i])
      j->left++;
  }
  r->job = &j->job;
  j->job.r = r;
  if (j->left == 0 || r->writer == NULL) {
    /* Nothing to write, or no writer thread (tests, the fuzzer): here
     * and now, each in a transaction of its own. */
    for (size_t i = 0; i < j->n; i++)
      if (j->subs[i]) {
        j->subs[i]->r = r;
        tally_writer_write_now(r->store, &j->subs[i]->write);
      }
    j->job.r = NULL; /* answered by the return, not later */
    return import_finish(&j->job, r);
  }
  for (size_t i = 0; i < j->n; i++)
    if (j->subs[i]) {
      j->subs[i]->r = r;
      j->subs[i]->write.done = import_one_done;
      tally_writer_queue(r->writer, &j->subs[i]->write);
    }
  return NULL;
}
