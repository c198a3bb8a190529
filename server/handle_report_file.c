/* handle_report_file.c: the annual monitoring report as a file (HTML or
 * xlsx), made here for the district report page's download with the
 * renderer tally report uses (common/report_doc.c, report_html.c,
 * report_xlsx.c).
 *
 * The happy path: the request is checked on the loop; a job in libuv's
 * pool then asks for the doc's reads (a report per year, an explain per
 * indicator, completeness, targets, the review queue) through
 * tally_dispatch_within, as the signed-in account's own requests, so
 * that each is checked against the request table as it would be from a
 * client; writes the file into memory, and the reply carries it.
 * The failure modes: a bad format, period or filter, or a refusal of
 * any of the reads, is the reply's error (the read's own words and
 * code); a scope of more than TALLY_REPORT_FILE_UNITS_MAX reporting
 * units is refused before any read, a file larger than
 * TALLY_REPORT_FILE_MAX after (the command line has neither bound); no memory, no temporary
 * file for the workbook: an internal error saying so. While
 * TALLY_REPORT_FILE_JOBS_MAX files are being made (by every connection
 * and transport together), another is refused at once with ERROR_BUSY,
 * to be asked again.
 */
#include "handlers.h"

#include "error.h"
#include "file.h"
#include "log.h"
#include "reply.h"
#include "report_doc.h"
#include "report_html.h"
#include "report_xlsx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The largest file the page gets: well under the command line's reply
 * limit (TALLY_CLIENT_MAX_REPLY, 64 MiB); the demo's HTML is 0.3 MB. */
#define TALLY_REPORT_FILE_MAX (16u << 20)

/* The most reporting units a file's scope may hold: the doc lists every
 * unit's figures of every indicator, about 10 kB of HTML a unit; 1,000
 * made 10.2 MB in 1.6 s (docs/PERFORMANCE.md). Past it, a file would be
 * refused for its size only after all its reads. */
#define TALLY_REPORT_FILE_UNITS_MAX 1000

/* The most files made at once. Each takes a thread of libuv's pool for
 * as long as it is made (1.6 s for 1,000 units); the pool has 4
 * (UV_THREADPOOL_SIZE's default) and also hashes the passwords of
 * sign-ins and runs the other reads' jobs: two files leave it two. */
#define TALLY_REPORT_FILE_JOBS_MAX 2

struct file_job {
  tally_job job;        /* first: the job is its tally_job */
  tally_request sub;    /* the reads, made as the account's */
  tally_account account; /* a copy: the registry may move meanwhile */
  Tally__ReportRequest q;
  int xlsx;
  uint64_t id;
  unsigned *running;    /* the count it is in until done; NULL: none */
  /* The outcome: content, or an error code and message. */
  Tally__ErrorCode code; /* 0: content holds the file */
  char message[600];
  char *content;
  size_t len;
  char file_name[96];
  /* Jobs of reads that answered through one (freed at the end). */
  tally_job **jobs;
  size_t n_jobs;
};

/* The doc's asker: one read, dispatched as the account's. */
static int ask(void *ctx, const Tally__Envelope *req,
               const Tally__Envelope **reply, char *err, size_t n) {
  struct file_job *j = ctx;
  Tally__Envelope *got = tally_dispatch_within(&j->sub, req);
  if (j->sub.job) { /* answered inline through a job: its memory kept */
    tally_job **grown = realloc(j->jobs, (j->n_jobs + 1) * sizeof *grown);
    if (grown == NULL) {
      if (j->sub.job->free)
        j->sub.job->free(j->sub.job);
      j->sub.job = NULL;
      snprintf(err, n, "out of memory");
      return -1;
    }
    j->jobs = grown;
    j->jobs[j->n_jobs++] = j->sub.job;
    j->sub.job = NULL;
  }
  if (got == NULL) {
    snprintf(err, n, "out of memory");
    return -1;
  }
  *reply = got;
  return 0;
}

/* The workbook of d into memory, through a temporary file (libxlsxwriter
 * writes files). Returns 0, or -1 with why in j->message. */
static int xlsx_bytes(struct file_job *j, const tally_report_doc *d) {
  const char *tmp = getenv("TMPDIR");
  char path[512], err[512];
  snprintf(path, sizeof path, "%.400s/tally-report-XXXXXX.xlsx",
           tmp && *tmp ? tmp : "/tmp");
  int fd = mkstemps(path, 5);
  if (fd < 0) {
    snprintf(j->message, sizeof j->message,
             "the workbook could not be made: no temporary file in %s (%s)",
             tmp && *tmp ? tmp : "/tmp", strerror(errno));
    return -1;
  }
  close(fd);
  int rc = tally_report_xlsx_write(d, path, err, sizeof err);
  if (rc != 0)
    snprintf(j->message, sizeof j->message,
             "the workbook could not be made: %s", err);
  else if ((rc = tally_file_read(path, &j->content, &j->len)) != 0)
    snprintf(j->message, sizeof j->message,
             "the workbook could not be read back: %s",
             tally_file_strerror(rc));
  else if (j->len > TALLY_REPORT_FILE_MAX)
    snprintf(j->message, sizeof j->message,
             "the workbook is %zu bytes, more than a page may download (%u "
             "MiB): make it with tally report --format xlsx",
             j->len, TALLY_REPORT_FILE_MAX >> 20), rc = -1;
  unlink(path);
  return rc ? -1 : 0;
}

/* The HTML of d into memory. Returns 0, or -1 with why in j->message. */
static int html_bytes(struct file_job *j, const tally_report_doc *d) {
  FILE *f = open_memstream(&j->content, &j->len);
  if (f == NULL) {
    snprintf(j->message, sizeof j->message, "out of memory");
    return -1;
  }
  int bad = tally_report_html_write(d, f) != 0;
  bad |= fclose(f) != 0;
  if (bad) {
    snprintf(j->message, sizeof j->message, "the report could not be written");
    return -1;
  }
  if (j->len > TALLY_REPORT_FILE_MAX) {
    snprintf(j->message, sizeof j->message,
             "the report is %zu bytes, more than a page may download (%u "
             "MiB): make it with tally report --format html",
             j->len, TALLY_REPORT_FILE_MAX >> 20);
    return -1;
  }
  return 0;
}

/* In the pool: the doc's reads, then the file. */
static void file_run(tally_job *a) {
  struct file_job *j = (struct file_job *)a;
  tally_report_doc d;
  tally_report_doc_error e;
  int rc = tally_report_doc_fetch(ask, j, j->sub.cat, &j->q, &d, &e);
  if (rc != 0) {
    j->code = rc == TALLY_REPORT_DOC_REFUSED ? e.code
              : rc == TALLY_REPORT_DOC_BAD_PERIOD
                  ? TALLY__ERROR_CODE__ERROR_BAD_REQUEST
                  : TALLY__ERROR_CODE__ERROR_INTERNAL;
    snprintf(j->message, sizeof j->message, "%s", e.message);
    return;
  }
  if ((j->xlsx ? xlsx_bytes(j, &d) : html_bytes(j, &d)) != 0) {
    j->code = TALLY__ERROR_CODE__ERROR_INTERNAL;
    free(j->content);
    j->content = NULL;
    j->len = 0;
  }
  tally_report_doc_free(&d);
}

/* The job is done with the pool: another file may be made. */
static void file_done(struct file_job *j) {
  if (j->running)
    --*j->running;
  j->running = NULL;
}

static Tally__Envelope *file_finish(tally_job *a, tally_request *r) {
  struct file_job *j = (struct file_job *)a;
  file_done(j);
  if (j->code != 0)
    return tally_reply_error(r, j->id, j->code, "%s", j->message);
  Tally__ReportFileReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  Tally__Envelope *reply = tally_reply_new(r, j->id);
  if (rep == NULL || reply == NULL)
    return NULL;
  tally__report_file_reply__init(rep);
  rep->content.data = (uint8_t *)j->content;
  rep->content.len = j->len;
  rep->file_name = j->file_name;
  rep->media_type =
      j->xlsx ? "application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet"
              : "text/html; charset=utf-8";
  reply->body_case = TALLY__ENVELOPE__BODY_REPORT_FILE_REPLY;
  reply->report_file_reply = rep;
  return reply;
}

static void file_free(tally_job *a) {
  struct file_job *j = (struct file_job *)a;
  file_done(j);
  for (size_t i = 0; i < j->n_jobs; i++)
    if (j->jobs[i]->free)
      j->jobs[i]->free(j->jobs[i]);
  free(j->jobs);
  tally_arena_free(&j->sub.mem);
  free(j->content);
  explicit_bzero(&j->account, sizeof j->account);
  free(j);
}

/* "tally-report-2022.html", "tally-report-2022-wenchang.xlsx": letters,
 * digits and '-' only. */
static void file_name(char *buf, size_t n, const Tally__ReportRequest *q,
                      int xlsx) {
  char text[80];
  snprintf(text, sizeof text, "tally-report-%.20s%s%.40s", q->period,
           *q->unit ? "-" : "", q->unit);
  for (char *c = text; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
          (*c >= '0' && *c <= '9') || *c == '-'))
      *c = '_';
  snprintf(buf, n, "%s.%s", text, xlsx ? "xlsx" : "html");
}

Tally__Envelope *tally_handle_report_file(tally_request *r,
                                          const Tally__Envelope *req) {
  const Tally__ReportFileRequest *f = req->report_file;
  Tally__Envelope *reply = NULL;
  tally_period p;

  if (f->format != TALLY__REPORT_FILE_REQUEST__FORMAT__FORMAT_HTML &&
      f->format != TALLY__REPORT_FILE_REQUEST__FORMAT__FORMAT_XLSX)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "unknown report file format %d (html is 0, "
                             "xlsx 1)", (int)f->format);
  if (f->report == NULL)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "a report file names its report: the period "
                             "at least");
  if (tally_reply_want_period(r, req->id, f->report->period, &p, &reply) != 0)
    return reply;
  if (f->report->as_approved || f->report->at_unix)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "a report file as approved is not made yet: "
                             "the unit matrix (explain) reads the live "
                             "figures only");
  int scope = r->cat->root;
  if (*f->report->unit &&
      (scope = tally_reply_want_unit(r, req->id, f->report->unit, &reply)) < 0)
    return reply;
  if (r->cat->units[scope].leaves > TALLY_REPORT_FILE_UNITS_MAX)
    return tally_reply_error(
        r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
        "%s holds %d reporting units: the report file lists each one's "
        "figures, for at most %d; ask for a unit within it",
        r->cat->units[scope].code, r->cat->units[scope].leaves,
        TALLY_REPORT_FILE_UNITS_MAX);
  if (r->report_files && *r->report_files >= TALLY_REPORT_FILE_JOBS_MAX) {
    tally_log("report file for %s refused: %u being made already", r->peer,
              *r->report_files);
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BUSY,
                             "the server is making %d report files already "
                             "(the most at once); try again in a minute "
                             "(服务器正忙，请稍后再试)",
                             TALLY_REPORT_FILE_JOBS_MAX);
  }
  struct file_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return NULL;
  if ((j->running = r->report_files) != NULL)
    ++*j->running;
  j->job.run = file_run;
  j->job.finish = file_finish;
  j->job.free = file_free;
  j->id = req->id;
  j->xlsx = f->format == TALLY__REPORT_FILE_REQUEST__FORMAT__FORMAT_XLSX;
  j->q = *f->report; /* its strings are the request's, which outlives us */
  file_name(j->file_name, sizeof j->file_name, &j->q, j->xlsx);
  /* The reads: the server's parts, no loop (a read's own job runs in
   * place), no writer, the account as it is now. */
  j->account = *r->account;
  memset(j->account.secret_sha256, 0, sizeof j->account.secret_sha256);
  memset(j->account.password_hash, 0, sizeof j->account.password_hash);
  j->sub.cat = r->cat;
  j->sub.store = r->store;
  j->sub.peer = r->peer;
  j->sub.account = &j->account;
  j->sub.mem = (tally_arena)TALLY_ARENA_INIT;
  j->sub.arena = &j->sub.mem;
  return tally_job_run(r, &j->job);
}
