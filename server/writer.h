/* writer.h: the one thread that writes the store.
 *
 * Every write transaction of a running server runs here: submissions,
 * targets, period locks, accounts, last-used times. The loop queues a
 * write and goes on; the writer thread takes everything queued, applies
 * it in one transaction (group commit: one sync for them all; each write
 * whole or not at all, as tally_store_batch says), grows the map
 * between transactions when it fills, and hands each write back to the
 * loop, which calls its done() after the commit that holds it. So the
 * loop never waits on the disk, and no worker thread of libuv's pool
 * waits on a commit.
 *
 * Writes queued during one turn of the loop are handed over together
 * before the loop next sleeps; writes queued while a commit is on the
 * disk go into the next transaction.
 */
#ifndef TALLY_WRITER_H
#define TALLY_WRITER_H

#include "store.h"

#include <uv.h>

typedef struct tally_writer tally_writer;
typedef struct tally_write tally_write;

struct tally_write {
  /* On the writer thread, in the batch's transaction: as tally_store_op
   * (it may run again, from the start). */
  int (*apply)(tally_write *w, tally_store_txn *t);
  /* On the loop thread, once the transaction committed or failed: code
   * is apply's, or the batch's error. The write is the caller's again. */
  void (*done)(tally_write *w, int code);
  int code;                   /* apply's, until done is called */
  tally_write *next;          /* the writer's queues */
};

#define TALLY_WRITER_MAX_BATCH 1024 /* writes in one transaction */

/* Starts the writer thread for store on loop. Returns 0 and *out, or a
 * negative libuv code. */
int tally_writer_start(uv_loop_t *loop, tally_store *store,
                       tally_writer **out);

/* Queues w (loop thread). Its done() is called later, never from
 * within this call. */
void tally_writer_queue(tally_writer *w, tally_write *job);

/* Writes job at once, on the calling thread, in a transaction of its
 * own (for a process without a writer thread: tests, the fuzzer).
 * done() is not called. Returns job's code. */
int tally_writer_write_now(tally_store *store, tally_write *job);

/* Writes still queued or being written. */
unsigned tally_writer_pending(const tally_writer *w);

/* Batches committed (or failed) so far: for tests of group commit. */
unsigned long tally_writer_batches(const tally_writer *w);

/* Finishes every queued write (each done() is called), stops the
 * thread and closes the writer's handles; closed(arg) is called once
 * all is freed. Loop thread. */
void tally_writer_close(tally_writer *w, void (*closed)(void *arg), void *arg);

#endif
