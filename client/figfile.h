/* figfile.h: a unit's figures from a CSV file (read with libcsv).
 *
 * The file is UTF-8, with or without a byte-order mark, or GB18030 (GBK,
 * as Excel and WPS save CSV on Chinese Windows): a file that is not valid
 * UTF-8 is read as GB18030, unless the encoding is given. One figure a
 * row: data_element,value (empty columns after them, which Excel adds,
 * are ignored). A first row "data_element,value" (or in Chinese, 数据元素
 * or 指标 and 数值) is a header; rows whose first field starts with '#'
 * are comments; blank lines are skipped; a row
 * with an empty value is not reported, and is skipped. A value may be
 * written with thousands separators ("1,255", quoted) and full-width
 * digits; a percentage or a unit after it is refused in words that say
 * why.
 * A row "explain:RULE,TEXT" (or "说明:RULE,TEXT") explains figures that
 * break the catalog's warning rule RULE (an office's 上报说明). A row
 * "#form,UNIT,PERIOD" (tally form writes it; a comment to other readers)
 * says whose form for which period the file is.
 *
 * Or the file is a workbook (.xlsx, client/xlsx.h): its first sheet is
 * read as the CSV would be, row by row, from two of its columns: those
 * a header row names (代码 or data_element, 数值 or value: the first word
 * of the cell's text), else the first two. Cells left of a header row
 * labelled 单位 (unit) and 期间 (period) name the form's unit and period,
 * as the #form row does; the other columns (names, last year's figure)
 * are for the person filling it in. A number cell is its number.
 */
#ifndef TALLY_FIGFILE_H
#define TALLY_FIGFILE_H

#include "xlsx.h"

#include <stddef.h>

typedef struct {
  char *element;   /* data element code */
  double value;
  int line;        /* the line of the file it is on */
} tally_figfile_row;

/* An explanation row. */
typedef struct {
  char *rule;
  char *text;
  int line;
} tally_figfile_explanation;

typedef struct {
  tally_figfile_row *items;
  size_t n;
  tally_figfile_explanation *explanations;
  size_t n_explanations;
  char form_unit[65];   /* the #form row's unit and period, or "" */
  char form_period[16];
  int form_line;
  size_t blank;      /* rows skipped because their value was empty */
  int first_blank;   /* line of the first of those, 0 if none */
  const char *line_word; /* "line" (CSV) or "row" (a sheet's), for
                            messages; static */
} tally_figfile;

/* Reads path ("-" = standard input), a CSV file in encoding ("utf-8", "gb18030",
 * "gbk"; NULL: UTF-8 if it is valid, else GB18030) or a workbook
 * (known by its first bytes; encoding is then unused). Returns 0 and *out
 * (free it with tally_figfile_release), or TALLY_ECSV / TALLY_EUSAGE (an
 * unknown encoding) / -errno with a message in err that names the file
 * and the line: every row's problem, a line each, in the file's order,
 * as many as err holds, then "(and N more problems)". */
int tally_figfile_read(const char *path, const char *encoding,
                       tally_figfile *out, char *err, size_t errlen);

/* The same, from text in memory; name is used in messages. */
int tally_figfile_parse_as(const char *name, const char *text, size_t len,
                           const char *encoding, tally_figfile *out,
                           char *err, size_t errlen);

/* tally_figfile_parse_as with the encoding detected. */
int tally_figfile_parse(const char *name, const char *text, size_t len,
                        tally_figfile *out, char *err, size_t errlen);

/* The figures of a workbook's sheet (read with tally_xlsx_parse); name
 * is used in messages. Returns as tally_figfile_parse. */
int tally_figfile_from_sheet(const char *name, const tally_xlsx_sheet *sheet,
                             tally_figfile *out, char *err, size_t errlen);

/* Text in encoding (NULL: UTF-8 if valid, else GB18030, unless it is UTF-8
 * with a few stray bytes: then refused) as UTF-8: *utf8
 * is text itself, or a copy to free (*copy). Returns 0, or TALLY_ECSV /
 * TALLY_EUSAGE with a message in err that names the file (name). */
int tally_figfile_to_utf8(const char *name, const char *text, size_t len,
                          const char *encoding, const char **utf8,
                          size_t *ulen, char **copy, char *err,
                          size_t errlen);

/* Whether a file's bytes cannot be text: an Excel 97-2003 workbook, or
 * a NUL byte. Returns 0, or TALLY_ECSV with a message in err that names
 * the file (name) and says what to do. */
int tally_figfile_not_text(const char *name, const char *data, size_t len,
                           char *err, size_t errlen);

/* "NAME line N: " ("row" for a sheet: line_word), in the user's
 * language, into buf; returns buf. */
const char *tally_figfile_where(char *buf, size_t n, const char *name,
                                const char *line_word, int line);

void tally_figfile_release(tally_figfile *list);

/* Parses a decimal number: [+-]digits[.digits][e[+-]digits], nothing
 * else (no hex, no inf or nan, no separators). Returns 0 or
 * TALLY_EVALUE. */
int tally_figfile_number(const char *s, double *out);

/* A figure as a spreadsheet may write it (blanks around it, thousands
 * separators, full-width digits) into *out. Returns 0, or TALLY_EVALUE
 * with why it is refused in why (a percentage, a unit, a negative). */
int tally_figfile_value(const char *text, double *out, char *why, size_t n);

/* A value as a spreadsheet may write it, made plain in place: full-width
 * digits, point and signs to ASCII, and thousands separators ("1,255",
 * "12,345.5": groups of three) dropped. Returns s. */
char *tally_figfile_plain_number(char *s);

#endif
