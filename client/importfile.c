/* importfile.c: figures of many units and periods from one file.
 *
 * The happy path: the file's form is told from its first bytes (a zip
 * is a workbook, '{' DHIS2's JSON, '<' ADX) or, for CSV, from its
 * header row; each figure goes through tally_importfile_add, which
 * checks its period and value. The failure modes: a file that cannot
 * be read at all (not UTF-8 nor GB18030, JSON or a workbook that does
 * not parse) is an error of the call; a figure that cannot be read is
 * an error of the list, and reading goes on, so that every one is told.
 */
#include "importfile.h"

#include "adx.h"
#include "error.h"
#include "figfile.h"
#include "file.h"
#include "i18n.h"
#include "period.h"
#include "xlsx.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_MAX 640
#define FIELDS_MAX 16

int tally_importfile_error(tally_importfile *f, int line, const char *fmt,
                           ...) {
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (f->n_errors == f->cap_errors) {
    size_t cap = f->cap_errors ? f->cap_errors * 2 : 16;
    char **grown = realloc(f->errors, cap * sizeof *grown);
    if (grown == NULL)
      return -ENOMEM;
    f->errors = grown;
    int *lines = realloc(f->error_lines, cap * sizeof *lines);
    if (lines == NULL)
      return -ENOMEM;
    f->error_lines = lines;
    f->cap_errors = cap;
  }
  char *e, where[300];
  if ((line ? asprintf(&e, "%s%s",
                       tally_figfile_where(where, sizeof where, f->name,
                                           f->line_word, line),
                       msg)
            : asprintf(&e, "%s: %s", f->name, msg)) < 0)
    return -ENOMEM;
  f->error_lines[f->n_errors] = line;
  f->errors[f->n_errors++] = e;
  return 0;
}

/* An error and its place, for sorting. */
typedef struct {
  int line;
  size_t at;
  char *text;
} placed;

static int by_place(const void *a, const void *b) {
  const placed *x = a, *y = b;
  if (x->line != y->line)
    return x->line < y->line ? -1 : 1;
  return x->at < y->at ? -1 : x->at > y->at;
}

void tally_importfile_sort_errors(tally_importfile *f) {
  placed *p = malloc((f->n_errors + 1) * sizeof *p);
  if (p == NULL)
    return; /* told as they came */
  for (size_t i = 0; i < f->n_errors; i++)
    p[i] = (placed){f->error_lines[i], i, f->errors[i]};
  qsort(p, f->n_errors, sizeof *p, by_place);
  for (size_t i = 0; i < f->n_errors; i++) {
    f->errors[i] = p[i].text;
    f->error_lines[i] = p[i].line;
  }
  free(p);
}

int tally_importfile_period(const char *text, char *buf, size_t n) {
  char t[32];
  tally_period p;
  snprintf(t, sizeof t, "%s", text);
  size_t len = strlen(t);
  while (len && isspace((unsigned char)t[len - 1]))
    t[--len] = 0;
  const char *s = t;
  while (isspace((unsigned char)*s))
    s++;
  char dhis[16];
  /* DHIS2's month, 202207; a year as a spreadsheet's number, 2022.0. */
  if (strlen(s) == 6 && strspn(s, "0123456789") == 6) {
    snprintf(dhis, sizeof dhis, "%.4s-%.2s", s, s + 4);
    s = dhis;
  } else if (strlen(s) == 6 && strspn(s, "0123456789") == 4 &&
             strcmp(s + 4, ".0") == 0) {
    snprintf(dhis, sizeof dhis, "%.4s", s);
    s = dhis;
  }
  if (tally_period_parse(s, &p) != 0 || n < TALLY_PERIOD_STRLEN)
    return -1;
  tally_period_format(&p, buf);
  return 0;
}

/* The rows' strings live in chunks of the file's pool, freed together:
 * a file of millions of rows makes no allocation of its own for each. */
struct tally_importfile_chunk {
  struct tally_importfile_chunk *next;
  size_t used, size;
  char text[];
};

#define CHUNK_SIZE (256u << 10)

/* A copy of s[0..n) with a NUL, in f's pool; NULL when out of memory. */
static char *pool_copy(tally_importfile *f, const char *s, size_t n) {
  struct tally_importfile_chunk *c = f->pool;
  if (c == NULL || c->size - c->used < n + 1) {
    size_t size = n + 1 > CHUNK_SIZE ? n + 1 : CHUNK_SIZE;
    if ((c = malloc(sizeof *c + size)) == NULL)
      return NULL;
    c->used = 0;
    c->size = size;
    c->next = f->pool;
    f->pool = c;
  }
  char *out = c->text + c->used;
  memcpy(out, s, n);
  out[n] = 0;
  c->used += n + 1;
  return out;
}

#define SEEN_PROBES 8

/* s without its blanks at either end, in f's pool; the previous row's
 * copy when it is the same text (rows of one unit follow each other),
 * or with seen (a file names few elements: TALLY_IMPORTFILE_SEEN slots)
 * the first copy of the same text, kept there. */
static char *trimmed(tally_importfile *f, const char *s, const char *prev,
                     char **seen) {
  while (isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1]))
    n--;
  if (prev && strncmp(prev, s, n) == 0 && prev[n] == 0)
    return (char *)prev;
  if (seen == NULL)
    return pool_copy(f, s, n);
  unsigned h = 2166136261u; /* FNV-1a, 32-bit, folded to a slot */
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 16777619u;
  /* Open addressing, a few slots on: where texts of one slot took turns
   * in it, each made copies of its own again and again, and tally
   * import then looked each copy up in the catalog. */
  char **slot = NULL;
  for (unsigned k = 0; k < SEEN_PROBES && slot == NULL; k++) {
    char **at = &seen[((h ^ h >> 16) + k) % TALLY_IMPORTFILE_SEEN];
    if (*at == NULL)
      slot = at;
    else if (strncmp(*at, s, n) == 0 && (*at)[n] == 0)
      return *at;
  }
  char *copy = pool_copy(f, s, n);
  if (copy && slot)
    *slot = copy;
  return copy;
}

/* A value that is plain digits (as most are), read without the
 * figures reader's work for separators and full-width digits: the same
 * number, exactly (15 digits and fewer are exact in a double). */
static int plain_digits(const char *text, double *out) {
  uint64_t v = 0;
  size_t i = 0;
  for (; text[i] >= '0' && text[i] <= '9'; i++)
    if (i == 15)
      return 0;
    else
      v = v * 10 + (uint64_t)(text[i] - '0');
  if (i == 0 || text[i] != 0)
    return 0;
  *out = (double)v;
  return 1;
}

int tally_importfile_add(tally_importfile *f, const char *unit,
                         const char *period, const char *element,
                         const char *value, double number, int line) {
  char p[TALLY_PERIOD_STRLEN], why[300];
  double v = number;
  const char *missing = !unit || !*unit         ? _("the unit is empty")
                        : !period || !*period   ? _("the period is empty")
                        : !element || !*element ? _("the data element is empty")
                                                : NULL;
  if (value) {
    const char *q = value;
    while (isspace((unsigned char)*q))
      q++;
    if (*q == 0) {
      f->blank++; /* not reported */
      return 0;
    }
  }
  if (missing)
    return tally_importfile_error(f, line, "%s", missing);
  const tally_import_row *prev = f->n ? &f->rows[f->n - 1] : NULL;
  int same_period = prev && strcmp(period, f->last_period) == 0;
  if (!same_period &&
      tally_importfile_period(period, p, sizeof p) != 0)
    return tally_importfile_error(f, line, _("period '%.40s' is not a period "
                                  "(2022, 2022Q3, 2022-07 or DHIS2's 202207)"),
                                  period);
  if (value && !plain_digits(value, &v) &&
      tally_figfile_value(value, &v, why, sizeof why) != 0)
    return tally_importfile_error(f, line, "%s", why);
  if (!value && v < 0)
    return tally_importfile_error(f, line, _("value %.15g is negative; "
                                  "figures are never negative"), v);
  if (f->n == f->cap) {
    if (f->rows_fixed) /* cannot be: rows were counted (read_csv) */
      return -ENOMEM;
    size_t cap = f->cap ? f->cap * 2 : 256;
    tally_import_row *grown = realloc(f->rows, cap * sizeof *grown);
    if (grown == NULL)
      return -ENOMEM;
    f->rows = grown;
    f->cap = cap;
    prev = f->n ? &f->rows[f->n - 1] : NULL;
  }
  tally_import_row *r = &f->rows[f->n];
  r->unit = trimmed(f, unit, prev ? prev->unit : NULL, NULL);
  r->period = same_period ? prev->period : pool_copy(f, p, strlen(p));
  r->element = trimmed(f, element, prev ? prev->element : NULL,
                       f->elements_seen);
  r->value = v == 0 ? 0.0 : v;
  r->line = line;
  if (!r->unit || !r->period || !r->element)
    return -ENOMEM; /* what was copied is in the pool */
  if (!same_period)
    snprintf(f->last_period, sizeof f->last_period, "%s", period);
  f->n++;
  return 0;
}

/* The columns of a table: where the unit, period, element, age group
 * (DHIS2's category option combo) and value are. */
typedef struct {
  int unit, period, element, group, value;
} columns;

static const columns long_form = {0, 1, 2, -1, 3};

/* What a header cell names: 'u', 'p', 'e', 'g', 'v', or 0. */
static int header_word(const char *text) {
  static const struct {
    const char *word;
    int what;
  } words[] = {
      {"unit", 'u'}, {"org_unit", 'u'}, {"orgunit", 'u'},
      {"\xe5\x8d\x95\xe4\xbd\x8d", 'u'},                         /* 单位 */
      {"\xe5\xa1\xab\xe6\x8a\xa5\xe5\x8d\x95\xe4\xbd\x8d", 'u'}, /* 填报单位 */
      {"period", 'p'}, {"\xe6\x9c\x9f\xe9\x97\xb4", 'p'},          /* 期间 */
      {"\xe6\x8a\xa5\xe5\x91\x8a\xe6\x9c\x9f", 'p'},             /* 报告期 */
      {"element", 'e'}, {"data_element", 'e'}, {"dataelement", 'e'},
      {"code", 'e'}, {"\xe6\x95\xb0\xe6\x8d\xae\xe5\x85\x83\xe7\xb4\xa0", 'e'},
      {"\xe6\x8c\x87\xe6\xa0\x87", 'e'}, {"\xe4\xbb\xa3\xe7\xa0\x81", 'e'},
      {"categoryoptioncombo", 'g'}, {"catoptcombo", 'g'},
      {"age_group", 'g'},
      {"value", 'v'}, {"\xe6\x95\xb0\xe5\x80\xbc", 'v'},           /* 数值 */
      {"\xe5\x80\xbc", 'v'}};
  char w[64];
  size_t i = 0;
  while (isspace((unsigned char)*text))
    text++;
  while (text[i] && !isspace((unsigned char)text[i]) && i + 1 < sizeof w) {
    w[i] = (char)tolower((unsigned char)text[i]);
    i++;
  }
  w[i] = 0;
  for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
    if (strcmp(w, words[k].word) == 0)
      return words[k].what;
  return 0;
}

/* A header row: its cells name the unit, period, element and value
 * columns (and maybe an age group's). Returns 1 with *c, else 0. */
static int header_of(const char *const *cells, size_t n, columns *c,
                     int *dhis2) {
  columns got = {-1, -1, -1, -1, -1};
  for (size_t i = 0; i < n; i++) {
    int *slot = NULL;
    switch (header_word(cells[i])) {
    case 'u': slot = &got.unit; break;
    case 'p': slot = &got.period; break;
    case 'e': slot = &got.element; break;
    case 'g': slot = &got.group; break;
    case 'v': slot = &got.value; break;
    }
    if (slot && *slot < 0)
      *slot = (int)i;
  }
  if (got.unit < 0 || got.period < 0 || got.element < 0 || got.value < 0)
    return 0;
  *c = got;
  *dhis2 = n > 0 && strncasecmp(cells[0], "dataelement", 11) == 0;
  return 1;
}

/* DHIS2's default category option combo: no age group. */
static int default_combo(const char *g) {
  return *g == 0 || strcasecmp(g, "default") == 0 ||
         strcmp(g, "HllvX50cXC0") == 0;
}

/* One table row of n cells (texts; number cells given also in nums, or
 * NULL) at line. */
static int table_row(tally_importfile *f, const columns *c,
                     const char *const *cells, size_t n, int line) {
  int named = c->unit;
  if (c->period > named) named = c->period;
  if (c->element > named) named = c->element;
  int need = c->value > named ? c->value : named;
  if ((int)n <= named) {
    if (n == 1 && *cells[0] == 0)
      return 0; /* blank */
    return tally_importfile_error(f, line, _("expected the unit, period, "
                                  "data element and value (%d fields), found "
                                  "%zu"), need + 1, n);
  }
  /* Only the value missing: a spreadsheet leaves an empty last cell out
   * (an xlsx row, a CSV row once its empty columns are dropped), and a
   * figure with an empty value is not reported. */
  const char *value = c->value < (int)n ? cells[c->value] : "";
  /* The element's cell as it is, without a copy (a copy cost a fifth
   * of a second in a province's file), unless an age group is joined
   * to it. */
  char with_group[FIELD_MAX * 2 + 2];
  const char *element = cells[c->element];
  const char *g = c->group >= 0 && c->group < (int)n ? cells[c->group] : "";
  if (!default_combo(g)) {
    snprintf(with_group, sizeof with_group, "%s.%s", element, g);
    element = with_group;
  }
  return tally_importfile_add(f, cells[c->unit], cells[c->period], element,
                              value, 0, line);
}

/* The CSV being read: fields of the current row, and where it began. */
struct csv_reader {
  tally_importfile *f;
  char cells[FIELDS_MAX][FIELD_MAX];
  size_t n;
  int too_many, too_long;
  int line, row_line, in_row;
  int rows;        /* rows seen (not comments) */
  columns cols;
  int rc;
};

static void csv_field(void *data, size_t len, void *arg) {
  struct csv_reader *r = arg;
  if (r->n >= FIELDS_MAX) {
    r->too_many = 1;
    return;
  }
  if (len >= FIELD_MAX) {
    r->too_long = 1;
    len = FIELD_MAX - 1;
  }
  memcpy(r->cells[r->n], data ? data : "", len);
  r->cells[r->n][len] = 0;
  r->n++;
}

static void csv_row(int term, void *arg) {
  struct csv_reader *r = arg;
  const char *cells[FIELDS_MAX];
  int dhis2 = 0;
  size_t n = r->n;
  (void)term;
  r->n = 0;
  r->in_row = 0;
  for (size_t i = 0; i < n; i++)
    cells[i] = r->cells[i];
  /* The empty columns a spreadsheet adds. */
  while (n > 1 && *cells[n - 1] == 0)
    n--;
  if (r->rc || n == 0 || (n == 1 && *cells[0] == 0))
    return;
  if (r->too_many || r->too_long) {
    r->rc = tally_importfile_error(r->f, r->row_line, r->too_long
                                   ? "a field is longer than 640 bytes"
                                   : "more than 16 fields");
    r->too_many = r->too_long = 0;
    return;
  }
  if (r->rows++ == 0 && header_of(cells, n, &r->cols, &dhis2)) {
    r->f->format = dhis2 ? "DHIS2 dataValueSets CSV" : "long CSV";
    return;
  }
  r->rc = table_row(r->f, &r->cols, cells, n, r->row_line);
}

static int is_comment(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t'))
    i++;
  return i < n && s[i] == '#';
}

static int blank_line(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strchr(" \t\r\n", s[i]))
      return 0;
  return 1;
}

/* Reads the lines of text[*off..to) through p, counting them in
 * r->line; with first_row, stops after the line that ends the first row
 * (the one that may be the header). Returns 0 or TALLY_ECSV with err. */
static int csv_lines(struct csv_reader *r, struct csv_parser *p,
                     const char *text, size_t *off, size_t to, int first_row,
                     char *err, size_t errlen) {
  int rc = 0;
  while (*off < to && rc == 0 && r->rc == 0 &&
         !(first_row && r->rows > 0 && !r->in_row)) {
    const char *at = text + *off;
    const char *nl = memchr(at, '\n', to - *off);
    size_t n = nl ? (size_t)(nl - at) + 1 : to - *off;
    if (!r->in_row && is_comment(at, n)) {
      *off += n;
      r->line++;
      continue;
    }
    if (!r->in_row && !blank_line(at, n)) {
      r->row_line = r->line;
      r->in_row = 1;
    }
    if (csv_parse(p, at, n, csv_field, csv_row, r) != n) {
      /* The row cannot be read: said, and the rest is not CSV we can
       * follow (a quote out of place runs on). */
      snprintf(err, errlen, "%s line %d: a quote in the wrong place: a field "
               "with '\"' in it is quoted whole, its own quotes doubled",
               r->f->name, r->line);
      rc = TALLY_ECSV;
    }
    *off += n;
    r->line++;
  }
  return rc;
}

/* The end of the text read through p: a row left open is an error. */
static int csv_end(struct csv_reader *r, struct csv_parser *p, int rc,
                   char *err, size_t errlen) {
  if (rc == 0 && r->rc == 0 && csv_fini(p, csv_field, csv_row, r) != 0) {
    snprintf(err, errlen, "%s line %d: a quoted field is not closed: a '\"' "
             "is missing", r->f->name, r->row_line);
    rc = TALLY_ECSV;
  }
  return rc == 0 ? r->rc : rc;
}

/* A reader of f at line, its columns cols; NULL when out of memory. */
static struct csv_reader *csv_reader_new(tally_importfile *f,
                                         struct csv_parser *p, int line,
                                         const columns *cols) {
  struct csv_reader *r = calloc(1, sizeof *r);
  if (r == NULL || csv_init(p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
    free(r);
    return NULL;
  }
  r->f = f;
  r->cols = *cols;
  r->line = line;
  return r;
}

/* The second half of a CSV file, read in a thread of its own into a
 * tally_importfile of its own, then joined to the first half's. */
typedef struct {
  tally_importfile part;
  const char *text;
  size_t from, to;
  int line;           /* text[from]'s */
  columns cols;       /* the first half's: its header was read there */
  pthread_t thread;
  int rc;
  char err[512];
} csv_half;

static void *read_half(void *arg) {
  csv_half *h = arg;
  struct csv_parser p;
  struct csv_reader *r = csv_reader_new(&h->part, &p, h->line, &h->cols);
  if (r == NULL) {
    h->rc = -ENOMEM;
    return NULL;
  }
  r->rows = 1; /* past the header */
  size_t off = h->from;
  h->rc = csv_lines(r, &p, h->text, &off, h->to, 0, h->err, sizeof h->err);
  h->rc = csv_end(r, &p, h->rc, h->err, sizeof h->err);
  csv_free(&p);
  free(r);
  return NULL;
}

/* Below this, a second thread is not worth starting. */
#define SPLIT_MIN (4u << 20)

/* Where text[from..len) is split for two readers: after the newline
 * past its middle; len (no split) when it is small, or when it holds
 * a '"' (then a newline may be inside a quoted field). */
static size_t split_point(const char *text, size_t from, size_t len) {
  size_t n = len - from;
  if (n < SPLIT_MIN || memchr(text + from, '"', n))
    return len;
  const char *nl = memchr(text + from + n / 2, '\n', n - n / 2);
  return nl ? (size_t)(nl - text) + 1 : len;
}

/* How many c there are in s[0..n). */
static size_t count_of(char c, const char *s, size_t n) {
  const char *end = s + n;
  size_t k = 0;
  while ((s = memchr(s, c, (size_t)(end - s))) != NULL) {
    k++;
    s++;
  }
  return k;
}

static int newlines(const char *s, size_t n) {
  return (int)count_of('\n', s, n);
}

/* The most rows text[from..to) may hold, with no '"' in it: every row
 * but the last ends at a '\n' or '\r'. */
static size_t rows_at_most(const char *text, size_t from, size_t to) {
  return count_of('\n', text + from, to - from) +
         count_of('\r', text + from, to - from) + 1;
}

/* Room in f->rows for the rows of both halves, [off..split) and
 * [split..len), read at once: the second half's go into it past room
 * for the first's (h->part.rows lent), to be moved down after them,
 * not copied into new memory (a province's file has 4,000,000 rows of
 * 40 bytes). Neither may grow the array then. Returns 0, or -ENOMEM
 * (each half then keeps rows of its own). */
static int rows_for_halves(tally_importfile *f, csv_half *h, const char *text,
                           size_t off, size_t split, size_t len) {
  size_t first = rows_at_most(text, off, split),
         second = rows_at_most(text, split, len);
  tally_import_row *r = realloc(f->rows, (f->n + first + second) * sizeof *r);
  if (r == NULL)
    return -ENOMEM;
  f->rows = r;
  f->cap = f->n + first;
  f->rows_fixed = 1;
  h->part.rows = r + f->cap;
  h->part.cap = second;
  h->part.rows_fixed = 1;
  return 0;
}

/* Adds part's rows, errors and blanks after f's, and its pool to f's;
 * part is left empty. Returns 0 or -ENOMEM. */
static int join_part(tally_importfile *f, tally_importfile *part) {
  size_t rows = f->n + part->n, errors = f->n_errors + part->n_errors;
  tally_import_row *r = f->rows;
  if (part->rows_fixed) { /* in f's rows already, past f's room */
    memmove(f->rows + f->n, part->rows, part->n * sizeof *r);
    f->cap = rows;
    f->rows_fixed = part->rows_fixed = 0;
    part->rows = NULL;
    part->n = 0;
  } else if ((r = realloc(f->rows, (rows + 1) * sizeof *r)) == NULL) {
    return -ENOMEM;
  } else {
    f->rows = r;
    f->cap = rows + 1;
  }
  char **e = realloc(f->errors, (errors + 1) * sizeof *e);
  if (e == NULL)
    return -ENOMEM;
  f->errors = e;
  int *lines = realloc(f->error_lines, (errors + 1) * sizeof *lines);
  if (lines == NULL)
    return -ENOMEM;
  f->error_lines = lines;
  f->cap_errors = errors + 1;
  if (part->n) /* an empty part's lists may be NULL */
    memcpy(f->rows + f->n, part->rows, part->n * sizeof *r);
  if (part->n_errors) {
    memcpy(f->errors + f->n_errors, part->errors, part->n_errors * sizeof *e);
    memcpy(f->error_lines + f->n_errors, part->error_lines,
           part->n_errors * sizeof *lines);
  }
  f->n = rows;
  f->n_errors = errors;
  f->blank += part->blank;
  if (part->pool) {
    struct tally_importfile_chunk *last = part->pool;
    while (last->next)
      last = last->next;
    last->next = f->pool;
    f->pool = part->pool;
  }
  free(part->rows);
  free(part->errors);
  free(part->error_lines);
  memset(part, 0, sizeof *part);
  return 0;
}

/* The first row is read alone: it may be the header, which says the
 * columns. A big file with no '"' is then read in two halves at once,
 * the second in a thread (libcsv is most of the time of a province's
 * file); its rows and errors follow the first half's, as if read in
 * one go. */
static int read_csv(tally_importfile *f, const char *text, size_t len,
                    char *err, size_t errlen) {
  struct csv_parser p;
  struct csv_reader *r = csv_reader_new(f, &p, 1, &long_form);
  if (r == NULL)
    return -ENOMEM;
  f->format = "long CSV";
  size_t off = 0;
  int rc = csv_lines(r, &p, text, &off, len, 1, err, errlen);
  size_t split = rc == 0 && r->rc == 0 ? split_point(text, off, len) : len;
  csv_half *h = split < len ? calloc(1, sizeof *h) : NULL;
  if (h) {
    h->part.name = f->name;
    h->part.line_word = f->line_word;
    h->text = text;
    h->from = split;
    h->to = len;
    h->line = r->line + newlines(text + off, split - off);
    h->cols = r->cols;
    rows_for_halves(f, h, text, off, split, len);
    if (pthread_create(&h->thread, NULL, read_half, h) != 0) {
      f->rows_fixed = 0; /* the first half reads it all */
      free(h);
      h = NULL;
    }
  }
  if (h == NULL)
    split = len;
  if (rc == 0)
    rc = csv_lines(r, &p, text, &off, split, 0, err, errlen);
  rc = csv_end(r, &p, rc, err, errlen);
  csv_free(&p);
  free(r);
  if (h) {
    pthread_join(h->thread, NULL);
    if (rc == 0 && h->rc != 0) {
      rc = h->rc;
      snprintf(err, errlen, "%s", h->err);
    }
    if (rc == 0)
      rc = join_part(f, &h->part);
    if (h->part.rows_fixed)
      h->part.rows = NULL; /* f's, not joined */
    f->rows_fixed = 0;
    tally_importfile_release(&h->part);
    free(h);
  }
  return rc;
}

/* A number cell's text as the figure it is. */
static void cell_text(const tally_xlsx_cell *c, char *buf, size_t n) {
  if (!c) {
    *buf = 0;
    return;
  }
  if (!c->is_number) {
    snprintf(buf, n, "%s", c->text);
    return;
  }
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(buf, n, "%.*g", digits, c->number);
    if (strtod(buf, NULL) == c->number)
      return;
  }
}

static int read_sheet(tally_importfile *f, const tally_xlsx_sheet *sh) {
  columns cols = long_form;
  int rc = 0, dhis2;
  f->format = "long xlsx";
  f->line_word = "row";
  for (size_t i = 0; i < sh->n && rc == 0; i++) {
    const tally_xlsx_row *row = &sh->rows[i];
    int last = -1;
    for (size_t k = 0; k < row->n; k++)
      if (row->cells[k].col > last)
        last = row->cells[k].col;
    if (last >= FIELDS_MAX)
      last = FIELDS_MAX - 1;
    char texts[FIELDS_MAX][FIELD_MAX];
    const char *cells[FIELDS_MAX];
    for (int c = 0; c <= last; c++) {
      cell_text(tally_xlsx_at(row, c), texts[c], sizeof texts[c]);
      cells[c] = texts[c];
    }
    size_t n = (size_t)(last + 1);
    while (n > 1 && *cells[n - 1] == 0)
      n--;
    if (n == 0 || (n == 1 && *cells[0] == 0))
      continue;
    if (*cells[0] == '#')
      continue;
    if (i == 0 && header_of(cells, n, &cols, &dhis2))
      continue;
    rc = table_row(f, &cols, cells, n, row->row);
  }
  return rc;
}

/* A JSON member as text: a string, or a number. NULL when absent. */
static const char *json_text(json_t *o, const char *key, char *buf, size_t n) {
  json_t *v = json_object_get(o, key);
  if (json_is_string(v))
    return json_string_value(v);
  if (json_is_integer(v)) {
    snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    return buf;
  }
  if (json_is_real(v)) {
    snprintf(buf, n, "%.17g", json_real_value(v));
    return buf;
  }
  return NULL;
}

static int read_json(tally_importfile *f, const char *text, size_t len,
                     char *err, size_t errlen) {
  json_error_t je;
  json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  f->format = "DHIS2 dataValueSets JSON";
  f->line_word = "dataValue";
  if (doc == NULL) {
    snprintf(err, errlen, "%s line %d: not JSON: %s", f->name, je.line,
             je.text);
    return TALLY_ECSV;
  }
  json_t *values = json_object_get(doc, "dataValues");
  if (!json_is_array(values)) {
    snprintf(err, errlen, "%s: not DHIS2's dataValueSets: it has no "
             "\"dataValues\" array", f->name);
    json_decref(doc);
    return TALLY_ECSV;
  }
  char b1[64], b2[64], b3[64];
  const char *set_unit = json_text(doc, "orgUnit", b1, sizeof b1);
  const char *set_period = json_text(doc, "period", b2, sizeof b2);
  int rc = 0;
  for (size_t i = 0; i < json_array_size(values) && rc == 0; i++) {
    json_t *dv = json_array_get(values, i);
    int at = (int)i + 1;
    char u[64], p[64], e[64], g[64], v[64];
    if (!json_is_object(dv)) {
      rc = tally_importfile_error(f, at, "not an object");
      continue;
    }
    const char *unit = json_text(dv, "orgUnit", u, sizeof u);
    const char *period = json_text(dv, "period", p, sizeof p);
    const char *element = json_text(dv, "dataElement", e, sizeof e);
    const char *group = json_text(dv, "categoryOptionCombo", g, sizeof g);
    const char *value = json_text(dv, "value", v, sizeof v);
    json_t *deleted = json_object_get(dv, "deleted");
    if (json_is_true(deleted))
      continue; /* DHIS2 exports deleted values when asked: not figures */
    if (value == NULL) {
      rc = tally_importfile_error(f, at, "no value");
      continue;
    }
    char code[300];
    if (element && group && !default_combo(group))
      snprintf(code, sizeof code, "%s.%s", element, group);
    else
      snprintf(code, sizeof code, "%s", element ? element : "");
    rc = tally_importfile_add(f, unit ? unit : set_unit ? set_unit : "",
                              period ? period : set_period ? set_period : "",
                              code, value, 0, at);
  }
  (void)b3;
  json_decref(doc);
  return rc;
}

int tally_importfile_parse(const char *name, const char *data, size_t len,
                           const char *encoding, tally_importfile *out,
                           char *err, size_t errlen) {
  int rc;
  memset(out, 0, sizeof *out);
  out->name = name;
  out->line_word = "line";
  if (tally_xlsx_looks_like(data, len)) {
    tally_xlsx_sheet sh;
    if ((rc = tally_xlsx_parse(name, data, len, &sh, err, errlen)) != 0)
      return rc;
    rc = read_sheet(out, &sh);
    tally_xlsx_free(&sh);
  } else {
    const char *text;
    size_t n;
    char *copy;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
      data += 3, len -= 3;
    if ((rc = tally_figfile_not_text(name, data, len, err, errlen)) != 0)
      return rc;
    if ((rc = tally_figfile_to_utf8(name, data, len, encoding, &text, &n,
                                    &copy, err, errlen)) != 0)
      return rc;
    size_t i = 0;
    while (i < n && isspace((unsigned char)text[i]))
      i++;
    if (i < n && text[i] == '{')
      rc = read_json(out, text, n, err, errlen);
    else if (i < n && text[i] == '<')
      rc = tally_adx_parse(name, text, n, out, err, errlen);
    else
      rc = read_csv(out, text, n, err, errlen);
    free(copy);
  }
  if (rc == -ENOMEM)
    snprintf(err, errlen, "%s: out of memory", name);
  if (rc == 0 && out->n == 0 && out->n_errors == 0) {
    snprintf(err, errlen, _("%s: no figures in the file%s"), name,
             out->blank ? _(" (every value is empty)") : "");
    rc = TALLY_ECSV;
  }
  if (rc != 0)
    tally_importfile_release(out);
  return rc;
}

int tally_importfile_read(const char *path, const char *encoding,
                          tally_importfile *out, char *err, size_t errlen) {
  const char *mapped;
  char *buf;
  size_t len;
  int rc = strcmp(path, "-") == 0 ? -ENODEV
                                  : tally_file_map(path, &mapped, &len);
  memset(out, 0, sizeof *out);
  if (rc == 0) {
    rc = tally_importfile_parse(path, mapped, len, encoding, out, err, errlen);
    tally_file_unmap(mapped, len);
    return rc;
  }
  rc = strcmp(path, "-") == 0 ? tally_file_read_stream(stdin, &buf, &len)
                              : tally_file_read(path, &buf, &len);
  if (rc != 0) {
    snprintf(err, errlen, "%s: %s", path, tally_file_strerror(rc));
    return rc;
  }
  rc = tally_importfile_parse(path, buf, len, encoding, out, err, errlen);
  free(buf);
  return rc;
}

void tally_importfile_release(tally_importfile *f) {
  for (struct tally_importfile_chunk *c = f->pool, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  free(f->rows);
  for (size_t i = 0; i < f->n_errors; i++)
    free(f->errors[i]);
  free(f->errors);
  free(f->error_lines);
  memset(f, 0, sizeof *f);
}
