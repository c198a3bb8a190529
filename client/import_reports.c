/* import_reports.c: an import file's rows as reports (import_reports.h).
 *
 * Four steps: the rows are looked up in the catalog (two threads, half
 * the rows each); the rows that name no reporting unit or element are
 * told, in the file's order, and left out; the reports are put in the
 * store's order (their runs of rows sorted, a report's rows copied
 * together only where the file has them apart); and the reports are made
 * (two threads, half the rows each again), each with its id, a figure
 * given twice noted and told afterwards in the order one thread would
 * have told it.
 */
#include "import_reports.h"

#include "i18n.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A row of the file, mapped to the catalog. */
typedef struct {
  int unit, element;    /* -1: the catalog has none of that name */
  int rank;             /* the unit's place among the codes, sorted */
  uint32_t period_key;
  size_t row;           /* index into the file's rows */
} mapped;

/* In the order of the store's keys, period then unit code: the server
 * then writes each report past the last (LMDB appends, filling pages). */
static int by_report(const void *a, const void *b) {
  const mapped *x = a, *y = b;
  if (x->period_key != y->period_key)
    return x->period_key < y->period_key ? -1 : 1;
  if (x->rank != y->rank)
    return x->rank < y->rank ? -1 : 1;
  if (x->element != y->element)
    return x->element < y->element ? -1 : 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

/* A run of rows of one report, next to each other in the file. */
typedef struct {
  size_t start, len;
  uint32_t period_key;
  int rank;
} run;

static int by_run(const void *a, const void *b) {
  const run *x = a, *y = b;
  if (x->period_key != y->period_key)
    return x->period_key < y->period_key ? -1 : 1;
  if (x->rank != y->rank)
    return x->rank < y->rank ? -1 : 1;
  return x->start < y->start ? -1 : x->start > y->start;
}

static int same_report(const mapped *x, const mapped *y) {
  return x->period_key == y->period_key && x->rank == y->rank;
}

/* A report's rows: in m where the file has them together (one run),
 * else copied together. */
typedef struct {
  mapped *rows;
  size_t n;
} report_rows;

/* The runs of the report that begins at runs[r]: returns the index
 * after them, with how many rows they hold in *rows. */
static size_t report_end(const run *runs, size_t n_runs, size_t r,
                         size_t *rows) {
  size_t next = r;
  *rows = 0;
  while (next < n_runs && runs[next].period_key == runs[r].period_key &&
         runs[next].rank == runs[r].rank)
    *rows += runs[next++].len;
  return next;
}

/* The reports of the k rows of m, in by_report's order, into *out (*n
 * of them), and in *extra the rows of reports the file has in more than
 * one run, copied together. A file holds each report's rows together:
 * the runs are sorted, not the rows (each report's own rows are put in
 * order as it is made). Returns 0 or -ENOMEM. */
static int order_reports(mapped *m, size_t k, report_rows **out, size_t *n,
                         mapped **extra) {
  size_t n_runs = 0;
  for (size_t i = 0; i < k; i++)
    n_runs += i == 0 || !same_report(&m[i], &m[i - 1]);
  run *runs = malloc((n_runs + 1) * sizeof *runs);
  *out = malloc((n_runs + 1) * sizeof **out);
  *extra = NULL;
  *n = 0;
  if (runs == NULL || *out == NULL)
    goto no_memory;
  n_runs = 0;
  for (size_t i = 0; i < k; i++)
    if (i == 0 || !same_report(&m[i], &m[i - 1]))
      runs[n_runs++] = (run){i, 1, m[i].period_key, m[i].rank};
    else
      runs[n_runs - 1].len++;
  qsort(runs, n_runs, sizeof *runs, by_run);
  /* Reports of more than one run: their rows, copied together. */
  size_t copied = 0, rows;
  for (size_t r = 0, next; r < n_runs; r = next)
    if ((next = report_end(runs, n_runs, r, &rows)) > r + 1)
      copied += rows;
  if (copied && (*extra = malloc(copied * sizeof **extra)) == NULL)
    goto no_memory;
  mapped *to = *extra;
  for (size_t r = 0, next; r < n_runs; r = next) {
    next = report_end(runs, n_runs, r, &rows);
    if (next == r + 1) {
      (*out)[(*n)++] = (report_rows){m + runs[r].start, rows};
      continue;
    }
    (*out)[(*n)++] = (report_rows){to, rows};
    for (size_t x = r; x < next; x++) {
      memcpy(to, m + runs[x].start, runs[x].len * sizeof *m);
      to += runs[x].len;
    }
  }
  free(runs);
  return 0;

no_memory:
  free(runs);
  free(*out);
  *out = NULL;
  return -ENOMEM;
}

typedef struct {
  const char *code;
  int unit;
} ranked;

static int by_code(const void *a, const void *b) {
  return strcmp(((const ranked *)a)->code, ((const ranked *)b)->code);
}

/* Each unit's place among the catalog's codes, sorted (strcmp, as the
 * store's keys). Returns the array, or NULL when out of memory. */
static int *unit_ranks(const tally_catalog *cat) {
  ranked *r = malloc((cat->n_units + 1) * sizeof *r);
  int *rank = malloc((cat->n_units + 1) * sizeof *rank);
  if (r && rank) {
    for (size_t i = 0; i < cat->n_units; i++)
      r[i] = (ranked){cat->units[i].code, (int)i};
    qsort(r, cat->n_units, sizeof *r, by_code);
    for (size_t i = 0; i < cat->n_units; i++)
      rank[r[i].unit] = (int)i;
  } else {
    free(rank);
    rank = NULL;
  }
  free(r);
  return rank;
}

/* A unit of the catalog by its code, or its Chinese or English name. */
static int unit_named(const tally_catalog *cat, const char *text) {
  int u = tally_catalog_unit(cat, text);
  for (size_t i = 0; u < 0 && i < cat->n_units; i++)
    if (strcmp(cat->units[i].name_zh, text) == 0 ||
        strcasecmp(cat->units[i].name_en, text) == 0)
      u = (int)i;
  return u;
}

static int element_named(const tally_catalog *cat, const char *text) {
  int e = tally_catalog_element(cat, text);
  for (size_t i = 0; e < 0 && i < cat->n_elements; i++)
    if (strcmp(cat->elements[i].name_zh, text) == 0 ||
        strcasecmp(cat->elements[i].name_en, text) == 0)
      e = (int)i;
  return e;
}

/* Runs fn(a) in a thread and fn(b) here, and waits for both (fn(a) here
 * too when no thread can be made). */
static void in_two(void *(*fn)(void *), void *a, void *b) {
  pthread_t t;
  int started = pthread_create(&t, NULL, fn, a) == 0;
  fn(b);
  if (started)
    pthread_join(t, NULL);
  else
    fn(a);
}

/* Half the rows, to look up. */
typedef struct {
  const tally_catalog *cat;
  const tally_importfile *f;
  const int *rank;
  mapped *m;
  size_t from, to;
} map_part;

/* Rows [from, to) looked up in the catalog, into m[from, to). The file
 * shares its texts (importfile.c): the rows of a unit its unit's, every
 * row naming an element one copy of the element's, mostly. So each copy
 * is looked up once, found again by its address. */
#define MAP_SEEN 1024 /* slots, a power of two */
#define MAP_PROBES 8

/* An element's text as the file's pool holds it, and the element. */
typedef struct {
  const char *text;
  int e;
} seen_text;

static void *map_rows(void *arg) {
  const map_part *p = arg;
  seen_text seen[MAP_SEEN] = {{NULL, 0}};
  const char *unit_text = NULL, *period_text = NULL;
  int u = -1;
  uint32_t period_key = 0;
  for (size_t i = p->from; i < p->to; i++) {
    const tally_import_row *row = &p->f->rows[i];
    if (row->unit != unit_text) {
      unit_text = row->unit;
      u = unit_named(p->cat, row->unit);
    }
    /* The address, spread over the slots; a few tried (where two took
     * turns in one slot, each was looked up again and again). */
    size_t h = (size_t)(((uintptr_t)row->element * 0x9e3779b97f4a7c15ull) >>
                        54), k = 0;
    while (k < MAP_PROBES && seen[(h + k) % MAP_SEEN].text != NULL &&
           seen[(h + k) % MAP_SEEN].text != row->element)
      k++;
    int e;
    if (k < MAP_PROBES && seen[(h + k) % MAP_SEEN].text == row->element) {
      e = seen[(h + k) % MAP_SEEN].e;
    } else {
      e = element_named(p->cat, row->element);
      if (k < MAP_PROBES)
        seen[(h + k) % MAP_SEEN] = (seen_text){row->element, e};
    }
    if (row->period != period_text) {
      tally_period pp;
      period_text = row->period;
      period_key = tally_period_parse(row->period, &pp) == 0
                       ? tally_period_key(&pp) : 0;
    }
    p->m[i] = (mapped){u, e, u >= 0 ? p->rank[u] : -1, period_key, i};
  }
  return NULL;
}

/* "element=digits\n" for a whole number v >= 0, the text snprintf's
 * "%s=%lld\n" writes, into line (room for an element code and 20
 * digits). Returns its length. */
static size_t whole_line(char *line, const char *element, long long v) {
  size_t n = strlen(element), k = 0;
  char digits[24];
  memcpy(line, element, n);
  line[n++] = '=';
  do
    digits[k++] = (char)('0' + v % 10);
  while ((v /= 10) > 0);
  while (k > 0)
    line[n++] = digits[--k];
  line[n++] = '\n';
  return n;
}

/* The report's id: "imp-", its period and unit, and in hex the first 10
 * bytes of the SHA-256 of its unit, period and figures in order. Period
 * and unit first, so that the ids of an import, sent in the store's
 * order, are in the order of the store's record of ids too: each is
 * appended there, not put among the others (which rewrote most of that
 * record's pages at every commit). The figures' lines are written into
 * *text (*room bytes, grown as need be) and hashed at once: one update a
 * line cost more than the hash itself. Returns 0 or -ENOMEM (-EINVAL
 * for codes longer than a catalog has). */
static int report_id(const tally_catalog *cat, tally_import_report *r,
                     uint32_t period_key, char **text, size_t *room) {
  unsigned char md[32];
  unsigned len = 0;
  size_t need = 1, used = 0;
  for (size_t i = 0; i < r->req.n_values; i++) /* "%.17g": 24 at most */
    need += strlen(cat->elements[r->figures[i].element].code) + 32;
  if (need > *room) {
    char *grown = realloc(*text, need);
    if (grown == NULL)
      return -ENOMEM;
    *text = grown;
    *room = need;
  }
  for (size_t i = 0; i < r->req.n_values; i++) {
    double v = r->figures[i].value;
    const char *code = cat->elements[r->figures[i].element].code;
    /* A whole number below 10^17 is what "%.17g" writes as its digits:
     * written as an integer, the same text, many times faster. */
    if (v >= 0 && v < 1e17 && v == (double)(long long)v)
      used += whole_line(*text + used, code, (long long)v);
    else
      used += (size_t)snprintf(*text + used, *room - used, "%s=%.17g\n", code,
                               v);
  }
  char head[TALLY_CODE_MAX + TALLY_PERIOD_STRLEN + 32];
  int n = snprintf(head, sizeof head, "tally-import/1\n%s\n%s\n", r->req.unit,
                   r->req.period);
  if (n < 0 || (size_t)n >= sizeof head)
    return -EINVAL; /* cannot be: the catalog's codes are short */
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx == NULL)
    return -ENOMEM;
  EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  EVP_DigestUpdate(ctx, head, (size_t)n);
  EVP_DigestUpdate(ctx, *text, used);
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  tally_period p;
  char period[TALLY_PERIOD_STRLEN] = "";
  if (tally_period_from_key(period_key, &p) == 0)
    tally_period_format(&p, period);
  int at = snprintf(r->id, sizeof r->id, "imp-%s-%s-", period, r->req.unit);
  if (at < 0 || at >= (int)sizeof r->id)
    at = (int)sizeof r->id - 1; /* cannot be: the catalog's codes are short */
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 10 && at + 2 < (int)sizeof r->id; i++) {
    r->id[at++] = hex[md[i] >> 4];
    r->id[at++] = hex[md[i] & 15];
  }
  r->id[at] = 0;
  return 0;
}

/* A figure given twice: the report, the element, the line of the
 * second and of the one before it. */
typedef struct {
  size_t report;
  int element, line, first;
} twice;

/* Half the reports, to make. */
typedef struct {
  const tally_catalog *cat;
  const tally_importfile *f;
  const report_rows *rows;   /* each report's rows */
  tally_import_report *out;
  size_t from, to;           /* the reports */
  twice *twice;              /* figures given twice, in the order found */
  size_t n_twice, cap_twice;
  int rc;                    /* 0 or -ENOMEM */
  char *text;                /* a report's lines, hashed for its id */
  size_t text_room;
} make_part;

/* One report from its rows m[0..len), put in order first. Returns 0 or
 * -ENOMEM. */
static int make_report(make_part *p, size_t index, mapped *m, size_t len) {
  tally_import_report *r = &p->out[index];
  const tally_importfile *f = p->f;
  for (size_t x = 1; x < len; x++)
    if (by_report(&m[x - 1], &m[x]) > 0) {
      qsort(m, len, sizeof *m, by_report);
      break;
    }
  if ((r->figures = malloc(len * sizeof *r->figures)) == NULL)
    return -ENOMEM;
  tally__submit_request__init(&r->req);
  snprintf(r->period, sizeof r->period, "%s", f->rows[m[0].row].period);
  r->req.unit = p->cat->units[m[0].unit].code;
  r->req.period = r->period;
  for (size_t x = 0; x < len; x++) {
    const tally_import_row *row = &f->rows[m[x].row];
    if (x > 0 && m[x].element == m[x - 1].element) {
      if (p->n_twice == p->cap_twice) {
        size_t cap = p->cap_twice ? p->cap_twice * 2 : 16;
        twice *grown = realloc(p->twice, cap * sizeof *grown);
        if (grown == NULL)
          return -ENOMEM;
        p->twice = grown;
        p->cap_twice = cap;
      }
      p->twice[p->n_twice++] = (twice){index, m[x].element, row->line,
                                       f->rows[m[x - 1].row].line};
      continue;
    }
    r->figures[r->req.n_values++] =
        (tally_import_figure){row->value, m[x].element, row->line};
  }
  r->req.submission_id = r->id;
  return report_id(p->cat, r, m[0].period_key, &p->text, &p->text_room);
}

static void *make_reports(void *arg) {
  make_part *p = arg;
  for (size_t g = p->from; g < p->to && p->rc == 0; g++)
    p->rc = make_report(p, g, p->rows[g].rows, p->rows[g].n);
  return NULL;
}

/* A figure given twice, told: "line" and "row" in the user's language,
 * as the place is. Returns 0 or -ENOMEM. */
static int tell_twice(tally_importfile *f, const tally_catalog *cat,
                      const tally_import_report *r, const twice *t) {
  const char *code = cat->elements[t->element].code;
  if (strcmp(f->line_word, "line") == 0)
    return tally_importfile_error(f, t->line, _("%s %s %s is also on line %d"),
                                  r->req.unit, r->period, code, t->first);
  if (strcmp(f->line_word, "row") == 0)
    return tally_importfile_error(f, t->line, _("%s %s %s is also on row %d"),
                                  r->req.unit, r->period, code, t->first);
  return tally_importfile_error(f, t->line, _("%s %s %s is also on %s %d"),
                                r->req.unit, r->period, code, f->line_word,
                                t->first);
}

/* Tells the rows that name no reporting unit or no element and leaves
 * them out of m (f->n of them), in the file's order. Returns how many
 * are left, with *lost set when a problem could not be kept. */
static size_t leave_out_unknown(const tally_catalog *cat, tally_importfile *f,
                                mapped *m, int *lost) {
  size_t k = 0;
  for (size_t i = 0; i < f->n; i++) {
    const tally_import_row *row = &f->rows[i];
    int u = m[i].unit;
    if (u < 0)
      *lost |= tally_importfile_error(
          f, row->line, _("unknown unit '%s' (tally catalog lists the "
                          "units)"), row->unit);
    else if (!(cat->units[u].is_leaf || u == cat->root))
      *lost |= tally_importfile_error(
          f, row->line, _("not a reporting unit: '%s' (the units under it "
                          "report their own)"), row->unit);
    else if (m[i].element < 0)
      *lost |= tally_importfile_error(
          f, row->line, _("unknown data element '%s' (tally catalog "
                          "--elements lists them)"), row->element);
    else
      m[k++] = m[i];
  }
  return k;
}

/* Where half the k rows have gone by: the first report after them. */
static size_t half_way(const report_rows *rows, size_t groups, size_t k) {
  size_t g = 0, seen = 0;
  while (g < groups && seen < k / 2)
    seen += rows[g++].n;
  return g;
}

tally_import_report *tally_import_reports_make(const tally_catalog *cat,
                                               tally_importfile *f, size_t *n) {
  mapped *m = malloc((f->n + 1) * sizeof *m);
  int *rank = unit_ranks(cat), lost = 0; /* lost: a problem not kept */
  *n = 0;
  if (m == NULL || rank == NULL) {
    free(m);
    free(rank);
    return NULL;
  }
  map_part maps[2] = {{cat, f, rank, m, 0, f->n / 2},
                      {cat, f, rank, m, f->n / 2, f->n}};
  in_two(map_rows, &maps[0], &maps[1]);
  free(rank);
  size_t k = leave_out_unknown(cat, f, m, &lost);
  report_rows *rows;
  mapped *extra;
  size_t groups;
  tally_import_report *out = NULL;
  if (order_reports(m, k, &rows, &groups, &extra) != 0 ||
      (out = calloc(groups + 1, sizeof *out)) == NULL) {
    free(rows);
    free(extra);
    free(m);
    return NULL;
  }
  size_t mid = half_way(rows, groups, k);
  make_part parts[2] = {
      {.cat = cat, .f = f, .rows = rows, .out = out, .from = 0, .to = mid},
      {.cat = cat, .f = f, .rows = rows, .out = out, .from = mid, .to = groups}};
  in_two(make_reports, &parts[0], &parts[1]);
  for (int i = 0; i < 2; i++) {
    for (size_t t = 0; t < parts[i].n_twice; t++)
      lost |= tell_twice(f, cat, &out[parts[i].twice[t].report],
                         &parts[i].twice[t]);
    lost |= parts[i].rc;
    free(parts[i].twice);
    free(parts[i].text);
  }
  free(rows);
  free(extra);
  free(m);
  if (lost) { /* out of memory: a problem would go untold */
    tally_import_reports_free(out, groups);
    return NULL;
  }
  *n = groups;
  return out;
}

void tally_import_report_pack(const tally_catalog *cat,
                              const tally_import_report *r,
                              Tally__PackedReport *pk, uint32_t *elements,
                              double *values, tally_import_codes *codes) {
  tally__packed_report__init(pk);
  pk->unit = r->req.unit;
  pk->period = r->req.period;
  pk->submission_id = r->req.submission_id;
  for (size_t i = 0; i < r->req.n_values; i++) {
    int e = r->figures[i].element;
    if (codes->place[e] < 0) {
      codes->place[e] = (int)codes->n;
      codes->codes[codes->n++] = cat->elements[e].code;
    }
    elements[i] = (uint32_t)codes->place[e];
    values[i] = r->figures[i].value;
  }
  pk->elements = elements;
  pk->n_elements = r->req.n_values;
  pk->values = values;
  pk->n_values = r->req.n_values;
}

int tally_import_codes_init(tally_import_codes *codes, size_t n_elements) {
  codes->codes = malloc((n_elements + 1) * sizeof *codes->codes);
  codes->place = malloc((n_elements + 1) * sizeof *codes->place);
  codes->n = 0;
  codes->n_elements = n_elements;
  if (codes->codes == NULL || codes->place == NULL)
    return -ENOMEM;
  for (size_t e = 0; e < n_elements; e++)
    codes->place[e] = -1;
  return 0;
}

void tally_import_codes_free(tally_import_codes *codes) {
  free(codes->codes);
  free(codes->place);
}

void tally_import_codes_cut(tally_import_codes *codes, size_t n) {
  for (size_t e = 0; e < codes->n_elements; e++)
    if (codes->place[e] >= (int)n)
      codes->place[e] = -1;
  if (codes->n > n)
    codes->n = n;
}

void tally_import_reports_free(tally_import_report *reports, size_t n) {
  if (reports == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    free(reports[i].figures);
  free(reports);
}
