/* output.h: tables for people (aligned, also with Chinese text) and CSV
 * for machines (quoted by libcsv). JSON is built with jansson where it
 * is printed. */
#ifndef TALLY_OUTPUT_H
#define TALLY_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

typedef struct tally_table tally_table;

/* A table with ncols columns; right[i] non-zero aligns column i to the
 * right (numbers). Returns NULL when out of memory. */
tally_table *tally_table_new(size_t ncols, const char *const *headers,
                             const int *right);

/* Appends a row of ncols cells (copied; NULL = empty). Returns 0 or
 * -ENOMEM. */
int tally_table_add(tally_table *t, const char *const *cells);

/* Columns padded to their widest cell in terminal columns, two spaces
 * apart; CJK characters count two columns. With tally_output_fit, text
 * columns are cut (ending in "…") so that the table fits. */
void tally_table_print(const tally_table *t, FILE *f);

/* RFC 4180 CSV with a header row, every field quoted, after a UTF-8
 * byte-order mark (so that Excel reads it as UTF-8, not as the
 * Windows code page) unless tally_output_bom(0) was called (--no-bom,
 * for programs). */
void tally_table_print_csv(const tally_table *t, FILE *f);

/* t as CSV when csv, else as a table; nothing when t is NULL. */
void tally_table_print_as(const tally_table *t, int csv, FILE *f);

/* Tables printed from now on fit in columns terminal columns (0: as
 * wide as their cells, --wide). */
void tally_output_fit(size_t columns);

/* Whether CSV written for people begins with a UTF-8 byte-order mark
 * (1, the default). */
void tally_output_bom(int on);

/* Writes the mark to f, when it is on. */
void tally_output_csv_start(FILE *f);

void tally_table_free(tally_table *t);

/* Terminal columns that UTF-8 text s takes. */
size_t tally_display_width(const char *s);

/* s cut to at most width terminal columns, ending in "…" when cut, into
 * buf (n bytes). Returns buf. */
char *tally_display_cut(const char *s, size_t width, char *buf, size_t n);

#endif
