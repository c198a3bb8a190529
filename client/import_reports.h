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
 * request's values are made only to be sent (tally_import_report_pack):
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

/* The codes of one import request's elements (ImportRequest's
 * element_codes), each catalog element's place in them. */
typedef struct {
  char **codes;      /* room for the catalog's n_elements */
  size_t n;
  int *place;        /* of each catalog element: its index, or -1 */
  size_t n_elements;
} tally_import_codes;

/* codes empty, with room for a catalog of n_elements. Returns 0 or
 * -ENOMEM. */
int tally_import_codes_init(tally_import_codes *codes, size_t n_elements);
void tally_import_codes_free(tally_import_codes *codes);

/* r as a packed report into pk (its arrays in elements and values, room
 * for r->req.n_values in each), each element by its index in codes: one
 * not there yet is added. */
void tally_import_report_pack(const tally_catalog *cat,
                              const tally_import_report *r,
                              Tally__PackedReport *pk, uint32_t *elements,
                              double *values, tally_import_codes *codes);

/* Takes out of codes those added since it held n. */
void tally_import_codes_cut(tally_import_codes *codes, size_t n);

void tally_import_reports_free(tally_import_report *reports, size_t n);

#endif
