/* report_xlsx.h: the annual monitoring report as an Excel workbook
 * (tally report --format xlsx), written with libxlsxwriter. */
#ifndef TALLY_REPORT_XLSX_H
#define TALLY_REPORT_XLSX_H

#include "report_doc.h"

#include <stddef.h>

/* Writes d to the workbook file path: a summary sheet, a sheet of the
 * district's indicators for each plan, the unit x indicator matrix,
 * every unit's figures and the notes; Chinese column headers (English
 * in the row below), numbers as numbers shown to each indicator's
 * decimals, statuses as words with their colour. Returns 0, or -1 with
 * the reason in err. */
int tally_report_xlsx_write(const tally_report_doc *d, const char *path,
                            char *err, size_t n);

#endif
