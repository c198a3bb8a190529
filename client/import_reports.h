/* import_reports.h: the rows of an import file as reports, one per unit
 * and period, each with the submission id its content makes.
 *
 * The rows' units and elements (codes or names) are looked up in the
 * catalog; a row naming no reporting unit or no element, or a figure
 * given twice, is a problem of the file, added to its errors with the
 * row's line. A province's file (4,000,000 rows) is worked on in two
 * threads, each taking half the rows and then half the reports; what
 * comes out is the same as one thread would make.
 */
#ifndef TALLY_IMPORT_REPORTS_H
#define TALLY_IMPORT_REPORTS_H

#include "catalog.h"
#include "importfile.h"
#include "period.h"
#include "tally.pb-c.h"

/* "imp-PERIOD-UNIT-" and 20 hex digits: the server's longest id (64)
 * for the longest unit code (31) and period ("2022-01"). */
#define TALLY_IMPORT_ID_MAX (4 + 7 + 1 + 31 + 1 + 20)

/* One figure of a report: its element (the catalog's index), its value
 * and where the file has it. */
typedef struct {
  double value;
  int element, line;
} tally_import_figure;

/* One report: a unit's figures of a period, from rows of the file. Its
 * request's values are made only to be sent (tally_import_report_values):
 * as protobuf-c's messages they took three times the memory. */
typedef struct {
  Tally__SubmitRequest req; /* its unit's code, period and id; n_values:
                               how many figures, values NULL */
  tally_import_figure *figures; /* in catalog order */
  char id[TALLY_IMPORT_ID_MAX + 1];
  char period[TALLY_PERIOD_STRLEN];
} tally_import_report;

/* f's rows as reports in the order of the store's keys (period, then
 * unit code), each report's values in catalog order; problems added to
 * f's errors. Returns the reports (*n of them; free them with
 * tally_import_reports_free), or NULL when out of memory. */
tally_import_report *tally_import_reports_make(const tally_catalog *cat,
                                               tally_importfile *f, size_t *n);

/* Points r's request at its figures as protobuf-c's values, made in
 * values and ptrs (room for r->req.n_values in each), for it to be
 * packed; until those are used again or freed. */
void tally_import_report_values(const tally_catalog *cat,
                                tally_import_report *r, Tally__Value *values,
                                Tally__Value **ptrs);

void tally_import_reports_free(tally_import_report *reports, size_t n);

#endif
