/* cmd_import.c: import and export, the figures of many units and
 * periods at once, in one file.
 *
 * The happy path: the file is read (client/importfile.h), its units and
 * elements made codes by the server's catalog, its figures grouped into
 * one report per unit and period, each with a submission id made from
 * its content, and sent in import requests of up to 1,024 reports; each
 * report is stored whole or refused alone, and every refusal is told
 * with the lines of the file it comes from.
 * The failure modes: lines that cannot be read (or name no unit or
 * element) stop the import before anything is stored: every one is
 * told, and the rest is checked as a dry run, so the file can be
 * mended in one go. The server cannot be reached, or stops answering:
 * what was sent is stored; running the same import again is safe, the
 * ids being the same (exit 3). No spool: the file is the spool.
 */
#include "adx.h"
#include "i18n.h"
#include "catalog_cache.h"
#include "cli.h"
#include "error.h"
#include "figfile.h"
#include "import_reports.h"
#include "importfile.h"
#include "output.h"
#include "period.h"
#include "wire.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char tally_usage_import[] =
    N_("usage: tally import FILE [--dry-run] [--encoding ENC]\n"
    "\n"
    "Stores the figures of many units and periods from one file (analysts\n"
    "and admins): history from before tally, a province's load, another\n"
    "system's export. FILE is one of:\n"
    "  - the long form, one figure a row: unit,period,element,value, as CSV\n"
    "    (as Excel or WPS saves it: UTF-8 or GB18030, \"1,255\", full-width\n"
    "    digits; a header row unit,period,element,value or\n"
    "    单位,期间,数据元素,数值 may put the columns in another order) or as\n"
    "    an Excel workbook (.xlsx, its first sheet);\n"
    "  - DHIS2's dataValueSets, CSV (with its header row) or JSON;\n"
    "  - IHE ADX XML (what 'tally export --format adx' writes).\n"
    "Units and data elements by their codes or their Chinese names; periods\n"
    "2022, 2022Q3, 2022-07 (or DHIS2's 202207).\n"
    "\n"
    "Each unit and period is one report, checked and stored as a submission\n"
    "is (the catalog's rules, locked periods and approved reports refused):\n"
    "whole or not at all, each apart from the others. Each gets a submission\n"
    "id made from its figures, so importing the same file again stores\n"
    "nothing twice; a figure that differs makes a new report, which replaces\n"
    "what it names. The audit trail says \"imported by account N\".\n"
    "\n"
    "Every problem of the file is listed with its line. Lines that cannot\n"
    "be read stop the import before anything is stored (the rest is checked\n"
    "as --dry-run would); a report the server refuses is refused alone.\n"
    "\n"
    "options:\n"
    "      --dry-run        check everything, store nothing\n"
    "      --encoding ENC   a CSV file's encoding: utf-8, gb18030 or gbk\n"
    "                       (default: UTF-8 if it is valid, else GB18030)\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n"
    "\n"
    "exit status: 0 all stored (or checked); 1 something was refused; 3 the\n"
    "server could not be reached (run it again: nothing is stored twice).\n");

#define IMPORT_CHUNK_REPORTS 1024
#define IMPORT_CHUNK_BYTES (768u << 10)
/* What came of the import, for its last line. */
typedef struct {
  size_t stored, duplicate, refused, values, unanswered;
} tally_import_counts;

/* Tells a refused report and its details, with the file's lines. */
static void tell_refusal(const tally_import_report *r,
                         const Tally__ErrorReply *e,
                         const char *file, const char *line_word) {
  fprintf(stderr, _("tally import: %s %s: %s\n"), r->req.unit, r->req.period,
          e->message);
  for (size_t i = 0; i < e->n_details; i++) {
    const Tally__ErrorDetail *d = e->details[i];
    if (file && d->index >= 1 && d->index <= r->req.n_values) {
      char also[160] = "";
      size_t at = 0;
      for (size_t k = 0; k < d->n_also && at + 16 < sizeof also; k++)
        if (d->also[k] >= 1 && d->also[k] <= r->req.n_values)
          at += (size_t)snprintf(also + at, sizeof also - at, "%s%d",
                                 at ? ", " : " (and ",
                                 r->figures[d->also[k] - 1].line);
      fprintf(stderr, "  %s %s %d%s%s: %s\n", file, line_word,
              r->figures[d->index - 1].line, also, at ? ")" : "", d->text);
    }
    else
      fprintf(stderr, "  %s\n", d->text);
  }
}

/* Where the requests' packed reports are made, each one's anew as it is
 * sent (packed at once: nothing points at them after). */
typedef struct {
  const tally_catalog *cat;
  Tally__PackedReport *packed;  /* IMPORT_CHUNK_REPORTS */
  Tally__PackedReport **ptrs;
  uint32_t *elements;           /* room for any IMPORT_CHUNK_REPORTS */
  double *values;
  tally_import_codes codes;     /* the request's element codes */
} chunk_room;

/* room for the packed reports of any IMPORT_CHUNK_REPORTS reports in a
 * row, made before anything is sent. Returns 0 or -ENOMEM. */
static int room_for(chunk_room *room, const tally_import_report *reports,
                    size_t n) {
  size_t most = 1, sum = 0;
  for (size_t i = 0; i < n; i++) {
    sum += reports[i].req.n_values;
    if (i >= IMPORT_CHUNK_REPORTS)
      sum -= reports[i - IMPORT_CHUNK_REPORTS].req.n_values;
    if (sum > most)
      most = sum;
  }
  room->packed = calloc(IMPORT_CHUNK_REPORTS, sizeof *room->packed);
  room->ptrs = calloc(IMPORT_CHUNK_REPORTS, sizeof *room->ptrs);
  room->elements = malloc(most * sizeof *room->elements);
  room->values = malloc(most * sizeof *room->values);
  int codes_rc = tally_import_codes_init(&room->codes, room->cat->n_elements);
  return room->packed && room->ptrs && room->elements && room->values &&
                 codes_rc == 0
             ? 0
             : -ENOMEM;
}

static void room_free(chunk_room *room) {
  free(room->packed);
  free(room->ptrs);
  free(room->elements);
  free(room->values);
  tally_import_codes_free(&room->codes);
}

/* How many reports from at go in one request (up to
 * IMPORT_CHUNK_REPORTS, and IMPORT_CHUNK_BYTES), packed in room with
 * their element codes. */
static size_t chunk_of(const tally_import_report *reports, size_t n,
                       size_t at, chunk_room *room) {
  size_t m = 0, bytes = 0, used = 0;
  tally_import_codes_cut(&room->codes, 0);
  while (at + m < n && m < IMPORT_CHUNK_REPORTS) {
    const tally_import_report *r = &reports[at + m];
    size_t had = room->codes.n, b = 8;
    tally_import_report_pack(room->cat, r, &room->packed[m],
                             room->elements + used, room->values + used,
                             &room->codes);
    b += tally__packed_report__get_packed_size(&room->packed[m]);
    for (size_t c = had; c < room->codes.n; c++)
      b += strlen(room->codes.codes[c]) + 3;
    if (m > 0 && bytes + b > IMPORT_CHUNK_BYTES) {
      tally_import_codes_cut(&room->codes, had); /* the next's */
      break;
    }
    room->ptrs[m] = &room->packed[m];
    used += r->req.n_values;
    bytes += b;
    m++;
  }
  return m;
}

/* A request in flight on one of the connections. */
typedef struct {
  tally_client *conn;
  size_t at, m;            /* its reports: m from at; m = 0: none */
  uint64_t id;
} in_flight;

/* Sends the reports from at that go in one request on f's connection,
 * *m of them. Returns 0 or an error with a message in err. */
static int send_chunk(in_flight *f, tally_import_report *reports, size_t n,
                      size_t at, size_t *m, int dry_run, const char *source,
                      chunk_room *room, char *err, size_t errlen) {
  Tally__ImportRequest q = TALLY__IMPORT_REQUEST__INIT;
  Tally__Envelope env = TALLY__ENVELOPE__INIT;
  *m = chunk_of(reports, n, at, room);
  q.packed = room->ptrs;
  q.n_packed = *m;
  q.element_codes = room->codes.codes;
  q.n_element_codes = room->codes.n;
  q.dry_run = dry_run;
  q.source = (char *)(source ? source : "");
  env.body_case = TALLY__ENVELOPE__BODY_IMPORT_REQUEST;
  env.import_request = &q;
  int rc = tally_client_send(f->conn, &env, err, errlen);
  f->at = at;
  f->m = rc == 0 ? *m : 0;
  f->id = env.id;
  return rc;
}

/* Sends reports in import requests on IMPORT_CONNECTIONS connections,
 * one request in flight on each (so that the server checks some while
 * it writes others, and its writer may take more than one into a
 * commit: 4 were 15 % faster than 2, 8 no faster than 4), taking the
 * replies in the order sent and telling each refusal; progress on
 * standard error when it is a terminal.
 * Returns the exit status, with what came of it in *k. */
#define IMPORT_CONNECTIONS 4
static int send_reports(tally_cli *c, const tally_catalog *cat,
                        tally_import_report *reports, size_t n, int dry_run,
                        const char *source, const char *file,
                        const char *line_word, tally_import_counts *k) {
  in_flight fl[IMPORT_CONNECTIONS] = {{NULL, 0, 0, 0}};
  int status = EXIT_OK, progress = isatty(STDERR_FILENO);
  char err[512];
  size_t at = 0, sent = 0; /* answered, and sent, up to */
  chunk_room room = {.cat = cat};

  memset(k, 0, sizeof *k);
  if (room_for(&room, reports, n) != 0) {
    fputs(_("tally: out of memory\n"), stderr);
    k->unanswered = n;
    status = EXIT_REFUSED;
    goto out;
  }
  for (int i = 0; i < IMPORT_CONNECTIONS; i++)
    if ((i == 0 || sent < n) &&
        tally_cli_open(c, &fl[i].conn, err, sizeof err) != 0) {
      fprintf(stderr, "tally: %s\n", err);
      k->unanswered = n;
      status = EXIT_UNREACHABLE;
      goto out;
    }
  /* The first request on each connection signs it in. */
  for (int i = 0; i < IMPORT_CONNECTIONS && sent < n && fl[i].conn; i++) {
    size_t m;
    if (send_chunk(&fl[i], reports, n, sent, &m, dry_run, source, &room, err,
                   sizeof err) != 0)
      goto unreachable;
    sent += m;
  }
  for (int next = 0; at < n; next = (next + 1) % IMPORT_CONNECTIONS) {
    in_flight *f = &fl[next];
    Tally__Envelope *reply = NULL;
    size_t m = f->m;
    if (m == 0 || f->at != at) { /* cannot be: answered in turn */
      fputs("tally: import requests out of turn: stopped (running it "
            "again is safe)\n", stderr);
      k->unanswered = n - at;
      status = EXIT_UNREACHABLE;
      goto out;
    }
    if (tally_client_read(f->conn, &reply, err, sizeof err) != 0)
      goto unreachable;
    if (reply->body_case == TALLY__ENVELOPE__BODY_ERROR) {
      fprintf(stderr, _("%stally import: %s\n"), progress ? "\n" : "",
              reply->error->message);
      tally_wire_free(reply);
      k->unanswered = n - at;
      status = EXIT_REFUSED;
      goto out;
    }
    if (reply->id != f->id ||
        reply->body_case != TALLY__ENVELOPE__BODY_IMPORT_REPLY ||
        reply->import_reply->n_results != m) {
      fprintf(stderr, _("tally: the server answered the import with what is "
              "not its reply: stopped (running it again is safe)\n"));
      tally_wire_free(reply);
      k->unanswered = n - at;
      status = EXIT_UNREACHABLE;
      goto out;
    }
    for (size_t i = 0; i < m; i++) {
      const Tally__ImportResult *res = reply->import_reply->results[i];
      if (res->stored) {
        if (res->stored->duplicate)
          k->duplicate++;
        else
          k->stored++;
        k->values += res->stored->accepted;
      } else if (res->error) {
        if (progress)
          fputc('\n', stderr);
        tell_refusal(&reports[at + i], res->error, file, line_word);
        k->refused++;
        status = EXIT_REFUSED;
      }
    }
    tally_wire_free(reply);
    at += m;
    f->m = 0;
    if (progress) {
      fputc('\r', stderr); /* the same line, over again */
      fprintf(stderr, _("tally import: %zu of %zu reports %s (%zu%%)"), at, n,
              dry_run ? _("checked") : _("sent"), at * 100 / n);
    }
    if (sent < n) {
      size_t mm;
      if (send_chunk(f, reports, n, sent, &mm, dry_run, source, &room, err,
                     sizeof err) != 0)
        goto unreachable;
      sent += mm;
    }
  }
  goto out;
unreachable:
  fprintf(stderr, "%stally: %s\n", progress ? "\n" : "", err);
  k->unanswered = n - at;
  status = EXIT_UNREACHABLE;
out:
  if (progress)
    fputc('\n', stderr);
  room_free(&room);
  for (int i = 0; i < IMPORT_CONNECTIONS; i++)
    if (fl[i].conn)
      tally_client_close(fl[i].conn);
  return status;
}

/* The catalog, fetched in a thread of its own while the file is read
 * (the server is idle then, and the fetch takes a fifth of a second of
 * a province's import). Quietly: a file that cannot be read is told
 * alone, as when the catalog was asked for after it. The thread shares
 * nothing with the reading but c, which neither changes. */
typedef struct {
  const tally_cli *c;
  pthread_t thread;
  int started;          /* 0: no thread, fetched in catalog_take */
  int rc;
  tally_catalog *cat;
  int unreached;        /* the server could not be reached: why says */
  char why[512];
  atomic_int done;      /* the thread has finished */
} catalog_fetch;

static void *fetch_quietly(void *arg) {
  catalog_fetch *f = arg;
  f->rc = tally_catalog_cache_fetch_quietly(f->c, &f->cat, &f->unreached,
                                            f->why, sizeof f->why);
  atomic_store(&f->done, 1);
  return NULL;
}

static void catalog_start(catalog_fetch *f, const tally_cli *c) {
  *f = (catalog_fetch){.c = c, .rc = EXIT_REFUSED};
  f->started = pthread_create(&f->thread, NULL, fetch_quietly, f) == 0;
}

/* Waits for the thread. */
static void catalog_join(catalog_fetch *f) {
  if (f->started)
    pthread_join(f->thread, NULL);
  f->started = 0;
}

/* The catalog the thread fetched into *cat; when it could not, asked
 * for again here, aloud, so that what went wrong is said as it always
 * was. Returns 0 or the exit status. */
static int catalog_take(catalog_fetch *f, tally_catalog **cat) {
  int started = f->started;
  catalog_join(f);
  if (started && f->rc == EXIT_OK) {
    *cat = f->cat;
    return EXIT_OK;
  }
  /* Not reached (no reply within the time allowed, say): told as it
   * always was, not asked again, which would wait as long once more. */
  if (started && f->unreached) {
    fprintf(stderr, "tally: %s\n", f->why);
    return EXIT_UNREACHABLE;
  }
  return tally_catalog_cache_fetch(f->c, 0, cat);
}

/* The thread's catalog, unused: the file could not be read, and the
 * command ends with status. When the thread is still waiting for the
 * server (up to --timeout), that is not waited for, as it never was:
 * the process ends here, what was said flushed. */
static void catalog_drop(catalog_fetch *f, int status) {
  if (f->started && !atomic_load(&f->done)) {
    fflush(stdout);
    fflush(stderr);
    _exit(status);
  }
  catalog_join(f);
  tally_catalog_free(f->cat);
}

int tally_cmd_import(int argc, char **argv, tally_cli *c) {
  const char *encoding = NULL;
  int dry_run = 0, rc;
  const tally_cli_opt own[] = {{"dry-run", 0, NULL, &dry_run, NULL},
                               {"encoding", 0, &encoding, NULL, NULL},
                               {NULL, 0, NULL, NULL, NULL}};
  if ((rc = tally_cli_parse(argc, argv, c, "import", tally_usage_import, own,
                            0)))
    return rc < 0 ? EXIT_OK : rc;
  if (optind + 1 != argc) {
    fprintf(stderr, _("tally import: give one FILE\nTry 'tally help import'.\n"));
    return EXIT_USAGE;
  }
  const char *file = argv[optind];
  tally_importfile f;
  char err[512];
  catalog_fetch fetch;
  catalog_start(&fetch, c);
  if ((rc = tally_importfile_read(file, encoding, &f, err, sizeof err)) != 0) {
    fprintf(stderr, _("tally: %s\nNothing was stored.\n"), err);
    rc = rc == TALLY_EUSAGE ? EXIT_USAGE : EXIT_REFUSED;
    catalog_drop(&fetch, rc);
    return rc;
  }
  tally_catalog *cat;
  if ((rc = catalog_take(&fetch, &cat)) != 0) {
    tally_importfile_release(&f);
    return rc;
  }
  size_t n = 0;
  tally_import_report *reports = tally_import_reports_make(cat, &f, &n);
  if (reports == NULL) {
    fputs(_("tally: out of memory\n"), stderr);
    tally_importfile_release(&f);
    tally_catalog_free(cat);
    return EXIT_REFUSED;
  }
  /* Every problem of the file, in its order: reading it, then mapping
   * its units and elements to the catalog. */
  size_t problems = f.n_errors;
  tally_importfile_sort_errors(&f);
  if (f.n_errors)
    fprintf(stderr, _("tally import: %s cannot be read as it is:\n"), file);
  for (size_t i = 0; i < f.n_errors; i++)
    fprintf(stderr, "  %s\n", f.errors[i]);
  size_t values = 0;
  for (size_t i = 0; i < n; i++)
    values += reports[i].req.n_values;
  if (problems)
    fprintf(stderr, _("tally import: %zu problem%s in %s: nothing is stored; "
            "the rest is checked as with --dry-run\n"), problems,
            problems == 1 ? "" : "s", file);
  /* The reports hold their own figures: the file's rows are let go
   * before the sending (a province's are 200 MB). */
  const char *format = f.format, *line_word = f.line_word; /* static */
  size_t blank = f.blank;
  tally_importfile_release(&f);
  const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
  tally_import_counts k;
  int status = n ? send_reports(c, cat, reports, n, dry_run || problems, base,
                                file, line_word, &k)
                 : EXIT_OK;
  if (n == 0)
    memset(&k, 0, sizeof k);
  printf(ngettext("%s (%s): %zu report, ", "%s (%s): %zu reports, ", n), file,
         format, n);
  printf(ngettext("%zu value: ", "%zu values: ", values), values);
  if (dry_run || problems)
    printf(_("%zu would be stored, %zu already stored, %zu refused (nothing "
           "stored: %s)\n"), k.stored, k.duplicate, k.refused,
           problems ? _("the file has problems") : _("a dry run"));
  else
    printf(_("%zu stored, %zu already stored before, %zu refused%s\n"),
           k.stored, k.duplicate, k.refused,
           k.unanswered ? _("; the rest unanswered") : "");
  if (blank)
    printf(ngettext("%zu figure with an empty value skipped: not reported\n",
                    "%zu figures with an empty value skipped: not reported\n",
                    blank),
           blank);
  tally_import_reports_free(reports, n);
  tally_catalog_free(cat);
  if (problems && status == EXIT_OK)
    status = EXIT_REFUSED;
  return status;
}

/* ---- export ---- */

const char tally_usage_export[] =
    N_("usage: tally export --period PERIOD [--format adx|json|csv]\n"
    "                    [--unit UNIT] [--towns] [--as-approved]\n"
    "                    [--output FILE]\n"
    "\n"
    "Writes every reporting unit's figures of a period, as the server holds\n"
    "them, for another system or another tally (tally import reads each):\n"
    "  adx   IHE ADX XML (urn:ihe:qrph:adx:2015): a group per unit with its\n"
    "        period (2022-01-01/P1Y), a dataValue per figure, age groups as\n"
    "        the disaggregation AGE_GROUP (the default)\n"
    "  json  DHIS2's dataValueSets JSON (age groups as the category option\n"
    "        combo)\n"
    "  csv   the long form: unit,period,element,value\n"
    "Analysts and admins: a reporter exports its own unit (--unit).\n"
    "\n"
    "options:\n"
    "  -p, --period PERIOD  2022, 2022Q3 or 2022-07\n"
    "  -u, --unit UNIT      one unit only\n"
    "      --towns          the towns' (the leaves') figures only, not the\n"
    "                       district office's own: for the city, where the\n"
    "                       district is not a reporting unit\n"
    "      --as-approved    each unit's figures as last approved (审核通过),\n"
    "                       not the live ones; units never approved left out\n"
    "                       (what tally forward sends the city)\n"
    "      --format FMT     adx (default), json or csv\n"
    "  -o, --output FILE    (default: standard output)\n");

/* Each reporting unit's figures of period (or unit's alone), asked on
 * one connection: the replies with figures, into *out (*n). Returns 0
 * or the exit status. */
static int fetch_reports(tally_cli *c, const tally_catalog *cat,
                         const char *unit, const char *period, int towns,
                         int as_approved, Tally__Envelope ***out, size_t *n) {
  tally_client *conn;
  char err[512];
  int rc;
  *out = calloc(cat->n_units + 1, sizeof **out);
  *n = 0;
  if (*out == NULL)
    return EXIT_REFUSED;
  if ((rc = tally_cli_connect(c, &conn)) != 0)
    return rc;
  for (size_t i = 0; i < cat->n_units; i++) {
    const tally_unit *u = &cat->units[i];
    if (!(u->is_leaf || ((int)i == cat->root && !towns)) ||
        (unit && strcmp(unit, u->code) != 0))
      continue;
    Tally__ValuesRequest q = TALLY__VALUES_REQUEST__INIT;
    Tally__Envelope env = TALLY__ENVELOPE__INIT, *reply = NULL;
    q.unit = u->code;
    q.period = (char *)period;
    q.as_approved = as_approved;
    env.body_case = TALLY__ENVELOPE__BODY_VALUES;
    env.values = &q;
    if (tally_client_call(conn, &env, &reply, err, sizeof err) != 0) {
      fprintf(stderr, "tally: %s\n", err);
      tally_client_close(conn);
      return EXIT_UNREACHABLE;
    }
    if (reply->body_case != TALLY__ENVELOPE__BODY_VALUES_REPLY) {
      fprintf(stderr, _("tally export: %s\n"),
              reply->body_case == TALLY__ENVELOPE__BODY_ERROR
                  ? reply->error->message
                  : "the server sent an unexpected reply");
      tally_wire_free(reply);
      tally_client_close(conn);
      return EXIT_REFUSED;
    }
    if (as_approved && !reply->values_reply->as_approved) {
      fputs("tally export: the server does not read figures as approved (a "
            "tallyd from before tally forward)\n", stderr);
      tally_wire_free(reply);
      tally_client_close(conn);
      return EXIT_REFUSED;
    }
    if (reply->values_reply->n_values == 0) {
      tally_wire_free(reply);
      continue;
    }
    (*out)[(*n)++] = reply;
  }
  tally_client_close(conn);
  return EXIT_OK;
}

/* An element's code split into the element and its age group ("" when
 * none), by the catalog. */
static void split_group(const tally_catalog *cat, const char *code,
                        char *element, size_t n, const char **group) {
  int e = tally_catalog_element(cat, code);
  const char *dot = e >= 0 && cat->elements[e].group >= 0 ? strrchr(code, '.')
                                                          : NULL;
  snprintf(element, n, "%.*s", dot ? (int)(dot - code) : (int)strlen(code),
           code);
  *group = dot ? dot + 1 : "";
}

static void value_text(double v, char *buf, size_t n) {
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(buf, n, "%.*g", digits, v);
    if (strtod(buf, NULL) == v)
      return;
  }
}

static int write_json(FILE *f, const tally_catalog *cat,
                      Tally__Envelope **reports, size_t n) {
  json_t *values = json_array();
  for (size_t i = 0; i < n; i++) {
    const Tally__ValuesReply *r = reports[i]->values_reply;
    for (size_t k = 0; k < r->n_values; k++) {
      char element[256], value[40];
      const char *group;
      split_group(cat, r->values[k]->element, element, sizeof element, &group);
      value_text(r->values[k]->value, value, sizeof value);
      json_t *dv = json_pack("{s:s, s:s, s:s, s:s}", "dataElement", element,
                             "period", r->period, "orgUnit", r->unit, "value",
                             value);
      if (*group)
        json_object_set_new(dv, "categoryOptionCombo", json_string(group));
      json_array_append_new(values, dv);
    }
  }
  json_t *doc = json_pack("{s:s, s:o}", "dataSet", cat->name, "dataValues",
                          values);
  int rc = json_dumpf(doc, f, JSON_INDENT(2));
  fputc('\n', f);
  json_decref(doc);
  return rc;
}

static int write_csv(FILE *f, Tally__Envelope **reports, size_t n) {
  tally_output_csv_start(f);
  fprintf(f, "unit,period,element,value\n");
  for (size_t i = 0; i < n; i++) {
    const Tally__ValuesReply *r = reports[i]->values_reply;
    for (size_t k = 0; k < r->n_values; k++) {
      char value[40];
      value_text(r->values[k]->value, value, sizeof value);
      fprintf(f, "%s,%s,%s,%s\n", r->unit, r->period, r->values[k]->element,
              value);
    }
  }
  return ferror(f) ? -1 : 0;
}

int tally_cmd_export(int argc, char **argv, tally_cli *c) {
  const char *period = NULL, *unit = NULL, *format = "adx", *output = NULL;
  int towns = 0, as_approved = 0;
  const tally_cli_opt own[] = {{"period", 'p', &period, NULL, NULL},
                               {"towns", 0, NULL, &towns, NULL},
                               {"as-approved", 0, NULL, &as_approved, NULL},
                               {"unit", 'u', &unit, NULL, NULL},
                               {"format", 0, &format, NULL, NULL},
                               {"output", 'o', &output, NULL, NULL},
                               {NULL, 0, NULL, NULL, NULL}};
  int rc = tally_cli_parse(argc, argv, c, "export", tally_usage_export, own, 0);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if ((rc = tally_cli_no_operands(argc, argv, "export")) != 0 ||
      (rc = tally_cli_need_period(period, "export")) != 0)
    return rc;
  if (strcmp(format, "adx") && strcmp(format, "json") && strcmp(format, "csv")) {
    fprintf(stderr, _("tally export: --format is adx, json or csv, not '%s'\n"),
            format);
    return EXIT_USAGE;
  }
  tally_catalog *cat;
  if ((rc = tally_catalog_cache_fetch(c, 0, &cat)) != 0)
    return rc;
  Tally__Envelope **reports;
  size_t n;
  if ((rc = fetch_reports(c, cat, unit, period, towns, as_approved, &reports,
                          &n)) == 0) {
    FILE *f = output ? fopen(output, "w") : stdout;
    if (f == NULL) {
      fprintf(stderr, _("tally: cannot write %s: %s\n"), output, strerror(errno));
      rc = EXIT_REFUSED;
    } else {
      Tally__ValuesReply **vr = calloc(n + 1, sizeof *vr);
      for (size_t i = 0; vr && i < n; i++)
        vr[i] = reports[i]->values_reply;
      int bad = vr == NULL ||
                (strcmp(format, "adx") == 0
                     ? tally_adx_write(f, cat->name, vr, n)
                 : strcmp(format, "json") == 0 ? write_json(f, cat, reports, n)
                                               : write_csv(f, reports, n)) != 0;
      free(vr);
      if (output && fclose(f) != 0)
        bad = 1;
      if (bad) {
        fprintf(stderr, _("tally: cannot write the export%s%s\n"),
                output ? " to " : "", output ? output : "");
        rc = EXIT_REFUSED;
      }
    }
  }
  for (size_t i = 0; i < n; i++)
    tally_wire_free(reports[i]);
  free(reports);
  tally_catalog_free(cat);
  return rc;
}
