#include "output.h"

#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

struct tally_table {
  size_t ncols;
  char **headers;
  int *right;
  char **cells;   /* rows * ncols */
  size_t rows;
  size_t cap;     /* rows allocated */
};

size_t tally_display_width(const char *s) {
  mbstate_t st;
  size_t w = 0, len = strlen(s);

  memset(&st, 0, sizeof st);
  while (len > 0) {
    wchar_t wc;
    size_t n = mbrtowc(&wc, s, len, &st);
    if (n == (size_t)-1 || n == (size_t)-2) {
      /* Not UTF-8 in this locale: count bytes. */
      memset(&st, 0, sizeof st);
      w++;
      s++;
      len--;
      continue;
    }
    if (n == 0)
      break;
    int cw = wcwidth(wc);
    w += cw > 0 ? (size_t)cw : 0;
    s += n;
    len -= n;
  }
  return w;
}

char *tally_display_cut(const char *s, size_t width, char *buf, size_t n) {
  mbstate_t st;
  size_t w = 0, len = strlen(s), out = 0;

  if (n == 0)
    return buf;
  if (tally_display_width(s) <= width) {
    snprintf(buf, n, "%s", s);
    return buf;
  }
  memset(&st, 0, sizeof st);
  while (len > 0) {
    wchar_t wc;
    size_t k = mbrtowc(&wc, s, len, &st);
    if (k == (size_t)-1 || k == (size_t)-2 || k == 0)
      break;
    int cw = wcwidth(wc);
    if (cw < 0)
      cw = 0;
    /* Keep one column for the ellipsis. */
    if (w + (size_t)cw + 1 > width || out + k + 4 > n)
      break;
    memcpy(buf + out, s, k);
    out += k;
    w += (size_t)cw;
    s += k;
    len -= k;
  }
  snprintf(buf + out, n - out, "…");
  return buf;
}

static char *dup_cell(const char *s) { return strdup(s ? s : ""); }

tally_table *tally_table_new(size_t ncols, const char *const *headers,
                             const int *right) {
  tally_table *t = calloc(1, sizeof *t);
  if (t == NULL)
    return NULL;
  t->ncols = ncols;
  t->headers = calloc(ncols, sizeof *t->headers);
  t->right = calloc(ncols, sizeof *t->right);
  if (t->headers == NULL || t->right == NULL)
    goto err_alloc;
  for (size_t i = 0; i < ncols; i++) {
    if ((t->headers[i] = dup_cell(headers[i])) == NULL)
      goto err_alloc;
    t->right[i] = right ? right[i] : 0;
  }
  return t;
err_alloc:
  tally_table_free(t);
  return NULL;
}

int tally_table_add(tally_table *t, const char *const *cells) {
  if (t->rows == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    char **grown = realloc(t->cells, cap * t->ncols * sizeof *grown);
    if (grown == NULL)
      return -ENOMEM;
    t->cells = grown;
    t->cap = cap;
  }
  char **row = t->cells + t->rows * t->ncols;
  for (size_t i = 0; i < t->ncols; i++) {
    if ((row[i] = dup_cell(cells[i])) == NULL) {
      while (i-- > 0)
        free(row[i]);
      return -ENOMEM;
    }
  }
  t->rows++;
  return 0;
}

/* The terminal columns tables fit in; 0: as wide as they are. */
static size_t fit_columns;

void tally_output_fit(size_t columns) { fit_columns = columns; }

/* Narrows the text columns, the widest first, down to their header (six
 * columns at the least), until the table fits in fit_columns. Numbers
 * are never cut. */
static void fit(const tally_table *t, size_t *width) {
  size_t total = 2 * (t->ncols - 1);
  for (size_t i = 0; i < t->ncols; i++)
    total += width[i];
  while (fit_columns && total > fit_columns) {
    size_t widest = t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
      size_t least = tally_display_width(t->headers[i]);
      if (least < 6)
        least = 6;
      if (!t->right[i] && width[i] > least &&
          (widest == t->ncols || width[i] > width[widest]))
        widest = i;
    }
    if (widest == t->ncols)
      return; /* as narrow as it goes */
    width[widest]--;
    total--;
  }
}

static void print_row(const tally_table *t, char *const *row,
                      const size_t *width, FILE *f) {
  char cut[1024];
  for (size_t i = 0; i < t->ncols; i++) {
    const char *cell = row[i];
    if (tally_display_width(cell) > width[i])
      cell = tally_display_cut(cell, width[i], cut, sizeof cut);
    size_t w = tally_display_width(cell);
    size_t pad = width[i] > w ? width[i] - w : 0;
    int last = i + 1 == t->ncols;
    if (t->right[i])
      fprintf(f, "%*s%s", (int)pad, "", cell);
    else
      fprintf(f, "%s%*s", cell, last ? 0 : (int)pad, "");
    if (!last)
      fputs("  ", f);
  }
  fputc('\n', f);
}

void tally_table_print(const tally_table *t, FILE *f) {
  size_t *width = calloc(t->ncols, sizeof *width);
  if (width == NULL)
    return;
  for (size_t i = 0; i < t->ncols; i++)
    width[i] = tally_display_width(t->headers[i]);
  for (size_t r = 0; r < t->rows; r++)
    for (size_t i = 0; i < t->ncols; i++) {
      size_t w = tally_display_width(t->cells[r * t->ncols + i]);
      if (w > width[i])
        width[i] = w;
    }
  fit(t, width);
  print_row(t, t->headers, width, f);
  for (size_t r = 0; r < t->rows; r++)
    print_row(t, t->cells + r * t->ncols, width, f);
  free(width);
}

static void csv_row(char *const *row, size_t n, FILE *f) {
  for (size_t i = 0; i < n; i++) {
    if (i)
      fputc(',', f);
    csv_fwrite(f, row[i], strlen(row[i]));
  }
  fputs("\r\n", f);
}

static int bom = 1;

void tally_output_bom(int on) { bom = on; }

void tally_output_csv_start(FILE *f) {
  if (bom)
    fputs("\xef\xbb\xbf", f);
}

void tally_table_print_csv(const tally_table *t, FILE *f) {
  tally_output_csv_start(f);
  csv_row(t->headers, t->ncols, f);
  for (size_t r = 0; r < t->rows; r++)
    csv_row(t->cells + r * t->ncols, t->ncols, f);
}

void tally_table_print_as(const tally_table *t, int csv, FILE *f) {
  if (t && csv)
    tally_table_print_csv(t, f);
  else if (t)
    tally_table_print(t, f);
}

void tally_table_free(tally_table *t) {
  if (t == NULL)
    return;
  for (size_t r = 0; r < t->rows; r++)
    for (size_t i = 0; i < t->ncols; i++)
      free(t->cells[r * t->ncols + i]);
  free(t->cells);
  if (t->headers)
    for (size_t i = 0; i < t->ncols; i++)
      free(t->headers[i]);
  free(t->headers);
  free(t->right);
  free(t);
}
