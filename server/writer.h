/* writer.h: group commit. Submissions that arrive while a commit is on
 * the disk are written together in the next transaction, one sync for
 * them all, and each is acknowledged only after that commit.
 *
 * The loop thread queues a job; a worker thread (libuv's pool) waits for
 * it. The first waiter that finds jobs queued and no batch in hand leads
 * the next batch: it takes every queued job, writes them with
 * tally_store_submit_batch, marks them done and wakes the others. The
 * loop never waits on the disk.
 */
#ifndef TALLY_WRITER_H
#define TALLY_WRITER_H

#include "store.h"

typedef struct tally_writer tally_writer;
typedef struct tally_write_job tally_write_job;

struct tally_write_job {
  tally_store_submission sub; /* what to write; the caller keeps it alive */
  tally_store_result res;     /* filled when done */
  int code;                   /* as tally_store_submit returns */
  int done;
  tally_write_job *next;      /* the writer's queue */
};

#define TALLY_WRITER_MAX_BATCH 256 /* submissions in one transaction */

/* Returns 0 and *out, or -ENOMEM / -errno. */
int tally_writer_new(tally_store *store, tally_writer **out);
void tally_writer_free(tally_writer *w);

/* Queues job for the next batch. Any thread. */
void tally_writer_queue(tally_writer *w, tally_write_job *job);

/* Returns once job's batch has committed (or failed). A worker thread. */
void tally_writer_wait(tally_writer *w, tally_write_job *job);

#endif
