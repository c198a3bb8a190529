#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct tally_writer {
  tally_store *store;
  pthread_mutex_t lock;
  pthread_cond_t done;        /* a batch finished */
  tally_write_job *head;      /* queued, oldest first */
  tally_write_job *tail;
  int leading;                /* a batch is being written */
};

int tally_writer_new(tally_store *store, tally_writer **out) {
  tally_writer *w = calloc(1, sizeof *w);
  if (w == NULL)
    return -ENOMEM;
  w->store = store;
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->done, NULL);
  *out = w;
  return 0;
}

void tally_writer_free(tally_writer *w) {
  if (w == NULL)
    return;
  pthread_cond_destroy(&w->done);
  pthread_mutex_destroy(&w->lock);
  free(w);
}

void tally_writer_queue(tally_writer *w, tally_write_job *job) {
  job->done = 0;
  job->next = NULL;
  pthread_mutex_lock(&w->lock);
  if (w->tail)
    w->tail->next = job;
  else
    w->head = job;
  w->tail = job;
  pthread_mutex_unlock(&w->lock);
}

/* Writes up to TALLY_WRITER_MAX_BATCH jobs from the queue's head in one
 * transaction. Called with the lock held; returns with it held. */
static void lead_batch(tally_writer *w) {
  tally_store_submission subs[TALLY_WRITER_MAX_BATCH];
  tally_store_result res[TALLY_WRITER_MAX_BATCH];
  int codes[TALLY_WRITER_MAX_BATCH];
  tally_write_job *jobs[TALLY_WRITER_MAX_BATCH];
  size_t n = 0;

  while (w->head && n < TALLY_WRITER_MAX_BATCH) {
    jobs[n] = w->head;
    subs[n] = w->head->sub;
    w->head = w->head->next;
    n++;
  }
  if (w->head == NULL)
    w->tail = NULL;
  w->leading = 1;
  pthread_mutex_unlock(&w->lock);

  tally_store_submit_batch(w->store, subs, n, res, codes);

  pthread_mutex_lock(&w->lock);
  for (size_t i = 0; i < n; i++) {
    jobs[i]->res = res[i];
    jobs[i]->code = codes[i];
    jobs[i]->done = 1;
  }
  w->leading = 0;
  pthread_cond_broadcast(&w->done);
}

void tally_writer_wait(tally_writer *w, tally_write_job *job) {
  pthread_mutex_lock(&w->lock);
  while (!job->done) {
    if (!w->leading && w->head)
      lead_batch(w);
    else
      pthread_cond_wait(&w->done, &w->lock);
  }
  pthread_mutex_unlock(&w->lock);
}
