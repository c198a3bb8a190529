/* writer.c: the writer thread and its queues.
 *
 * The happy path: tally_writer_queue appends to the loop's own list; a
 * prepare handle (run before the loop sleeps) moves that list to the
 * thread's queue under the lock and signals; the thread takes up to
 * TALLY_WRITER_MAX_BATCH writes, applies them in one tally_store_batch,
 * puts them on the done list and wakes the loop with uv_async_send; the
 * loop calls each write's done().
 * The failure modes: a batch that fails as a whole gives every write in
 * it the batch's error; a full map is grown by tally_store_batch, on
 * this thread, between its attempts. A write queued after the thread
 * has stopped (while the server closes) is written on the loop.
 */
#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct tally_writer {
  uv_loop_t *loop;
  tally_store *store;
  uv_prepare_t handoff;       /* moves the loop's list to the thread */
  uv_async_t wake;            /* the thread finished writes, or stopped */
  uv_thread_t thread;
  pthread_mutex_t lock;       /* guards the fields marked (lock) */
  pthread_cond_t work;        /* queue not empty, or stopping */
  tally_write *turn, *turn_tail;   /* queued this turn of the loop */
  tally_write *queue, *queue_tail; /* (lock) for the thread */
  tally_write *done, *done_tail;   /* (lock) for the loop */
  unsigned long batches;      /* (lock) batches written */
  int stopping;               /* (lock) the thread ends once queue is empty */
  int exited;                 /* (lock) the thread has ended */
  unsigned pending;           /* queued and not yet done (loop thread) */
  int closing;                /* tally_writer_close was called */
  int handles;                /* handles not yet closed */
  void (*closed)(void *arg);  /* called when all is freed */
  void *closed_arg;
};

static void append(tally_write **head, tally_write **tail, tally_write *list,
                   tally_write *list_tail) {
  if (list == NULL)
    return;
  if (*tail)
    (*tail)->next = list;
  else
    *head = list;
  *tail = list_tail;
}

static int apply_one(void *arg, tally_store_txn *t) {
  tally_write *w = arg;
  return w->apply(w, t);
}

/* Takes up to TALLY_WRITER_MAX_BATCH writes from the head of a list
 * into jobs, unlinked. Returns how many. */
static size_t take(tally_write **head, tally_write **tail,
                   tally_write *jobs[TALLY_WRITER_MAX_BATCH]) {
  size_t n = 0;
  while (*head && n < TALLY_WRITER_MAX_BATCH) {
    jobs[n] = *head;
    *head = (*head)->next;
    jobs[n++]->next = NULL;
  }
  if (*head == NULL)
    *tail = NULL;
  return n;
}

/* Writes n jobs in one batch, sets each one's code and links them in
 * order again (the first is the list). */
static void write_jobs(tally_store *store, tally_write **jobs, size_t n) {
  tally_store_op ops[TALLY_WRITER_MAX_BATCH];
  for (size_t i = 0; i < n; i++)
    ops[i] = (tally_store_op){apply_one, jobs[i], 0};
  tally_store_batch(store, ops, n);
  for (size_t i = 0; i < n; i++) {
    jobs[i]->code = ops[i].code;
    jobs[i]->next = i + 1 < n ? jobs[i + 1] : NULL;
  }
}

/* Writes one batch from the queue; called with the lock held, returns
 * with it held. */
static void write_batch(tally_writer *w) {
  tally_write *jobs[TALLY_WRITER_MAX_BATCH];
  size_t n = take(&w->queue, &w->queue_tail, jobs);
  pthread_mutex_unlock(&w->lock);
  write_jobs(w->store, jobs, n);
  pthread_mutex_lock(&w->lock);
  append(&w->done, &w->done_tail, jobs[0], jobs[n - 1]);
  w->batches++;
}

int tally_writer_write_now(tally_store *store, tally_write *job) {
  job->next = NULL;
  write_jobs(store, &job, 1);
  return job->code;
}

static void writer_main(void *arg) {
  tally_writer *w = arg;
  pthread_mutex_lock(&w->lock);
  for (;;) {
    while (w->queue == NULL && !w->stopping)
      pthread_cond_wait(&w->work, &w->lock);
    if (w->queue == NULL)
      break; /* stopping, and nothing left */
    write_batch(w);
    pthread_mutex_unlock(&w->lock);
    uv_async_send(&w->wake);
    pthread_mutex_lock(&w->lock);
  }
  w->exited = 1;
  pthread_mutex_unlock(&w->lock);
  uv_async_send(&w->wake);
}

/* Before the loop sleeps: what this turn queued goes to the thread. */
static void on_handoff(uv_prepare_t *h) {
  tally_writer *w = h->data;
  if (w->turn == NULL)
    return;
  pthread_mutex_lock(&w->lock);
  append(&w->queue, &w->queue_tail, w->turn, w->turn_tail);
  pthread_cond_signal(&w->work);
  pthread_mutex_unlock(&w->lock);
  w->turn = w->turn_tail = NULL;
}

static void handle_closed(uv_handle_t *h) {
  tally_writer *w = h->data;
  if (--w->handles > 0)
    return;
  pthread_cond_destroy(&w->work);
  pthread_mutex_destroy(&w->lock);
  void (*closed)(void *) = w->closed;
  void *arg = w->closed_arg;
  free(w);
  if (closed)
    closed(arg);
}

/* The wake handle keeps the loop alive while writes are out, and while
 * the writer closes. */
static void update_ref(tally_writer *w) {
  if (w->pending > 0 || w->closing)
    uv_ref((uv_handle_t *)&w->wake);
  else
    uv_unref((uv_handle_t *)&w->wake);
}

/* Calls done() for each write on the list, oldest first. */
static void deliver(tally_writer *w, tally_write *list) {
  while (list) {
    tally_write *next = list->next;
    list->next = NULL;
    w->pending--;
    update_ref(w);
    list->done(list, list->code);
    list = next;
  }
}

/* The thread stopped: writes queued since are written here, then the
 * handles close. */
static void finish(tally_writer *w) {
  uv_thread_join(&w->thread);
  /* Handed over after the thread's last look: before this turn's. */
  append(&w->queue, &w->queue_tail, w->turn, w->turn_tail);
  w->turn = w->queue;
  w->turn_tail = w->queue_tail;
  w->queue = w->queue_tail = NULL;
  while (w->turn) { /* a done() may queue more */
    tally_write *jobs[TALLY_WRITER_MAX_BATCH];
    size_t n = take(&w->turn, &w->turn_tail, jobs);
    write_jobs(w->store, jobs, n);
    deliver(w, jobs[0]);
  }
  uv_close((uv_handle_t *)&w->handoff, handle_closed);
  uv_close((uv_handle_t *)&w->wake, handle_closed);
}

static void on_wake(uv_async_t *h) {
  tally_writer *w = h->data;
  pthread_mutex_lock(&w->lock);
  tally_write *list = w->done;
  int exited = w->exited;
  w->done = w->done_tail = NULL;
  pthread_mutex_unlock(&w->lock);
  deliver(w, list);
  if (exited && !uv_is_closing((uv_handle_t *)&w->wake))
    finish(w);
}

int tally_writer_start(uv_loop_t *loop, tally_store *store,
                       tally_writer **out) {
  tally_writer *w = calloc(1, sizeof *w);
  int rc;
  if (w == NULL)
    return UV_ENOMEM;
  w->loop = loop;
  w->store = store;
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->work, NULL);
  if ((rc = uv_async_init(loop, &w->wake, on_wake)) != 0) {
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->lock);
    free(w);
    return rc;
  }
  w->wake.data = w;
  w->handles = 1;
  update_ref(w);
  uv_prepare_init(loop, &w->handoff);
  w->handoff.data = w;
  w->handles++;
  uv_prepare_start(&w->handoff, on_handoff);
  uv_unref((uv_handle_t *)&w->handoff);
  if ((rc = uv_thread_create(&w->thread, writer_main, w)) != 0) {
    uv_close((uv_handle_t *)&w->handoff, handle_closed);
    uv_close((uv_handle_t *)&w->wake, handle_closed);
    return rc;
  }
  *out = w;
  return 0;
}

void tally_writer_queue(tally_writer *w, tally_write *job) {
  job->next = NULL;
  job->code = 0;
  append(&w->turn, &w->turn_tail, job, job);
  w->pending++;
  update_ref(w);
}

unsigned tally_writer_pending(const tally_writer *w) { return w->pending; }

unsigned long tally_writer_batches(const tally_writer *w) {
  pthread_mutex_lock((pthread_mutex_t *)&w->lock);
  unsigned long n = w->batches;
  pthread_mutex_unlock((pthread_mutex_t *)&w->lock);
  return n;
}

void tally_writer_close(tally_writer *w, void (*closed)(void *arg),
                        void *arg) {
  w->closed = closed;
  w->closed_arg = arg;
  w->closing = 1;
  update_ref(w); /* until the thread has stopped */
  on_handoff(&w->handoff);
  pthread_mutex_lock(&w->lock);
  w->stopping = 1;
  pthread_cond_signal(&w->work);
  pthread_mutex_unlock(&w->lock);
}
