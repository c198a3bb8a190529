/* xlsx.h: the cells of a workbook's first sheet (Office Open XML, as
 * Excel, WPS and LibreOffice save .xlsx), read with libzip and libxml2.
 *
 * No Debian C library reads xlsx; this reads what figures need and no
 * more: the first sheet of the workbook (by the workbook's order), each
 * cell's value as text, numbers also as numbers; shared strings, inline
 * strings (rich text runs joined, phonetic runs left out), formula
 * results as the file holds them. Styles, dates, merged cells and the
 * other sheets are not read.
 */
#ifndef TALLY_XLSX_H
#define TALLY_XLSX_H

#include <stddef.h>

/* The largest part of a workbook read (a sheet, its shared strings),
 * uncompressed; and the sheet's limits, which are Excel's. */
#define TALLY_XLSX_PART_MAX (256u << 20)
/* Shared strings read, at most: as many as a sheet has rows. */
#define TALLY_XLSX_STRINGS_MAX (1u << 20)
#define TALLY_XLSX_MAX_ROW 1048576
#define TALLY_XLSX_MAX_COL 16384

typedef struct {
  int col;         /* 0 = column A */
  char *text;      /* the value as text (UTF-8); never NULL */
  int is_number;   /* a number cell: number holds it exactly */
  double number;
} tally_xlsx_cell;

typedef struct {
  int row;                 /* 1 = the sheet's first row */
  tally_xlsx_cell *cells;  /* in the order the file holds them */
  size_t n;
} tally_xlsx_row;

typedef struct {
  char *name;              /* the sheet's name */
  tally_xlsx_row *rows;    /* rows with at least one cell, in file order */
  size_t n;
} tally_xlsx_sheet;

/* Whether data begins as a zip archive does (an xlsx is one). */
int tally_xlsx_looks_like(const void *data, size_t len);

/* Whether data begins as an OLE2 compound file does: an Excel 97-2003
 * workbook (.xls, WPS's .et), or an xlsx saved with a password, which
 * Excel wraps in one. Neither is read. */
int tally_xlsx_looks_legacy(const void *data, size_t len);

/* Reads the first sheet of the workbook in data (len bytes); name is
 * for messages. Returns 0 and *out (free it with tally_xlsx_free), or
 * TALLY_ECSV with a message in err that names the file, or -ENOMEM. */
int tally_xlsx_parse(const char *name, const void *data, size_t len,
                     tally_xlsx_sheet *out, char *err, size_t errlen);

void tally_xlsx_free(tally_xlsx_sheet *s);

/* The cell of row at column col, or NULL. */
const tally_xlsx_cell *tally_xlsx_at(const tally_xlsx_row *row, int col);

/* "A1" for row 1, column 0, into buf (n >= 12). Returns buf. */
char *tally_xlsx_ref(int row, int col, char *buf, size_t n);

#endif
