/* importfile.h: the figures of many units and periods from one file, in
 * the forms tally import takes, every problem of the file listed.
 *
 * - Long form: one figure a row, unit,period,element,value, as CSV (read
 *   as the figures reader reads CSV: UTF-8 or GB18030, thousands
 *   separators, full-width digits, '#' comments) or as a workbook's
 *   first sheet (.xlsx). A header row (unit,period,element,value, or
 *   单位,期间,数据元素,数值) may say the columns in another order.
 * - DHIS2's dataValueSets, as CSV (a header row dataelement,period,
 *   orgunit,categoryoptioncombo,...,value) or JSON ({"dataValues": [...]},
 *   the set's orgUnit and period applying to values without their own);
 *   a category option combo other than the default names an age group
 *   (deaths with 1-4: deaths.1-4).
 * - IHE ADX XML (client/adx.h).
 * Units and elements are codes or names, which the caller maps to codes
 * with the catalog (tally import does). Periods are tally's (2022,
 * 2022Q3, 2022-07) or DHIS2's (202207). An empty value is not reported.
 */
#ifndef TALLY_IMPORTFILE_H
#define TALLY_IMPORTFILE_H

#include <stddef.h>

typedef struct {
  char *unit;      /* as in the file: a code or a name */
  char *period;    /* tally's form: 2022, 2022Q3, 2022-07 */
  char *element;   /* as in the file; with an age group, CODE.GROUP */
  double value;
  int line;        /* where it is (a line, row or value: line_word) */
} tally_import_row;

#define TALLY_IMPORTFILE_SEEN 1024 /* a power of two */

typedef struct {
  tally_import_row *rows;
  size_t n, cap;
  int rows_fixed;        /* rows may not move: cap is all there will be */
  char **errors;         /* every problem, "FILE line 3: ..." */
  int *error_lines;      /* each one's line, 0 for the file's */
  size_t n_errors, cap_errors;
  size_t blank;          /* figures with an empty value, skipped */
  const char *name;      /* the file, for messages */
  const char *format;    /* "long CSV", "DHIS2 JSON", ...: static */
  const char *line_word; /* "line", "row", "dataValue": static */
  struct tally_importfile_chunk *pool; /* the rows' strings, freed at once */
  char *elements_seen[TALLY_IMPORTFILE_SEEN]; /* element texts in the pool,
                                                 each row's shared */
  char last_period[32];  /* the period text last read, as written */
} tally_importfile;

/* Reads path ("-": standard input) in encoding (CSV only; NULL: UTF-8
 * if valid, else GB18030). Returns 0 with *out (free it with
 * tally_importfile_release) holding the rows that read and an error for
 * each that did not; or TALLY_ECSV / TALLY_EUSAGE / -errno with a
 * message in err when the file as a whole cannot be read. */
int tally_importfile_read(const char *path, const char *encoding,
                          tally_importfile *out, char *err, size_t errlen);

/* The same from memory; name is for messages. */
int tally_importfile_parse(const char *name, const char *data, size_t len,
                           const char *encoding, tally_importfile *out,
                           char *err, size_t errlen);

/* For the readers of each form: one figure of the file, checked (a
 * period, a value that is a figure; empty value: counted in blank) and
 * added, or its problem added to the errors. value may be NULL with
 * number the value. Returns 0 or -ENOMEM. */
int tally_importfile_add(tally_importfile *f, const char *unit,
                         const char *period, const char *element,
                         const char *value, double number, int line);

/* A problem at line (0: the file's), added to the errors. Returns 0 or
 * -ENOMEM. */
int tally_importfile_error(tally_importfile *f, int line, const char *fmt,
                           ...) __attribute__((format(printf, 3, 4)));

/* The errors in the file's order: the file's own first, then by line
 * (those of one line as they were added). */
void tally_importfile_sort_errors(tally_importfile *f);

/* A period in tally's form from tally's or DHIS2's (202207, 2022Q3,
 * 2022), into buf (>= 16 bytes). Returns 0 or -1. */
int tally_importfile_period(const char *text, char *buf, size_t n);

void tally_importfile_release(tally_importfile *f);

#endif
