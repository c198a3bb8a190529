/* form_xlsx.h: a unit's blank form as an Excel workbook (libxlsxwriter).
 *
 * One sheet, 填报表: the unit and the period in labelled cells (B2, B3)
 * that tally submit checks, as it checks a CSV form's #form row; a
 * header row; then one row per data element the unit reports: its code,
 * Chinese and English names, unit of measure, last year's figure and
 * the cell to fill in (column F), which alone is unlocked and takes only
 * what the element takes (Excel's data validation: a whole number >= 0
 * for a count, a number >= 0 for an amount, a level for a status). Rows
 * for explanations (explain:RULE in A, the text in F) follow. The sheet
 * is protected without a password, so that a slip does not overwrite a
 * code, and the protection can be lifted when someone needs to.
 */
#ifndef TALLY_FORM_XLSX_H
#define TALLY_FORM_XLSX_H

#include "catalog.h"
#include "tally.pb-c.h"

#include <stddef.h>

/* The first row of elements (1-based), and the column filled in. */
#define TALLY_FORM_XLSX_FIRST_ROW 7
#define TALLY_FORM_XLSX_VALUE_COL 5 /* F */

/* Writes the form of unit (an index into cat) for period to path;
 * last_year (may be NULL) holds the unit's figures of the same period a
 * year before, shown beside each input cell. Returns 0, or -1 with a
 * message in err. */
int tally_form_xlsx_write(const tally_catalog *cat, int unit,
                          const char *period, const char *last_period,
                          const Tally__ValuesReply *last_year,
                          const char *path, char *err, size_t errlen);

#endif
