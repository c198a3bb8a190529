/* figures.h: units' figures for the engine's tests, written into a real
 * store in a temporary directory and read back through the server's
 * row reader (server/rows.h), the one input path production takes.
 *
 * Set figures, then ask for a source: what was set since the last one
 * is written in one transaction, and the source reads a fresh snapshot.
 * Failures abort the test. */
#ifndef TALLY_TEST_FIGURES_H
#define TALLY_TEST_FIGURES_H

#include "catalog.h"
#include "fixture.h"
#include "indicator.h"
#include "store_figures.h"

typedef struct tally_test_figures tally_test_figures;

/* An empty store for cat's figures; cat must outlive it. Free with
 * tally_test_figures_free, which removes the directory too. */
tally_test_figures *tally_test_figures_new(const tally_catalog *cat);
void tally_test_figures_free(tally_test_figures *f);

/* Sets unit's figure of element (catalog indexes) for period ("2022",
 * "2022Q3", "2022-07"), replacing one set before. */
void tally_test_figures_set(tally_test_figures *f, int unit, int element,
                            const char *period, double v);

/* Removes every figure of unit for period, those set before included. */
void tally_test_figures_drop(tally_test_figures *f, int unit,
                             const char *period);

/* Writes what was set and returns the engine's view of a fresh
 * snapshot: a tally_rows reader, its assigned and kept callbacks NULL
 * (the caller may set them). Valid until the next call, or until
 * tally_test_figures_free. */
tally_source *tally_test_figures_source(tally_test_figures *f);

/* Through a fresh source: 1 and *v when unit has a figure of element
 * for period, else 0 (and *v is left as it was). */
int tally_test_figures_get(tally_test_figures *f, int unit, int element,
                           const char *period, double *v);

/* Writes n submissions of unit's element for period, each a correction
 * of the one before, into the store in dir (no tallyd running on it):
 * a history n entries long, with an audit entry each, by account 1
 * (the admin tallyd init makes). */
void tally_test_history_write(const char *dir, const char *unit,
                              const char *period, const char *element, int n);

/* A unit's report as it is written straight into a store: its figures
 * and when they were sent. */
typedef struct {
  const char *unit;
  const char *period;
  tally_store_item items[4];
  size_t n;
  int64_t now;
} tally_test_report;

/* Writes n reports into s's store as they would have been stored at
 * their times (by account 1, no rules checked: as an older tallyd, or a
 * clerk on another day, left them), with s stopped, then starts s again
 * on the same directory and points $TALLY_SERVER at it. */
void tally_test_store_reports(tally_test_server *s,
                              const tally_test_report *reports, size_t n);

#endif
