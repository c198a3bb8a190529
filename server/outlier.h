/* outlier.h: the catalog's outlier tests (warnings) on one unit's
 * figures of one period, read through rows: they read more than the
 * unit's row, so rule.c skips them and validate.c asks here.
 *
 * history: the element's value against its values in the same period
 * of the unit's earlier years (at most years back, at least min_years of
 * them): the modified z-score 0.6745 (x - median) / MAD of Iglewicz and
 * Hoaglin, as DHIS2's outlier detection uses it, above threshold. A
 * history with no spread (MAD 0) says nothing.
 *
 * units: the unit's count of a ratio's numerator against the other
 * units' under the same parent (at most TALLY_OUTLIER_UNITS_MAX of
 * them; from five on, the highest and the lowest rates, a tenth at each
 * end, left out, so that one wild sibling does not make the others
 * outliers), given the two denominators: were the two rates the same, the
 * unit's count would be binomial(all the counts, its share of the
 * denominators), the exact conditional test of two Poisson rates; a
 * two-sided p (twice the smaller tail) below alpha breaks it. The other
 * units are those that have reported both figures.
 */
#ifndef TALLY_OUTLIER_H
#define TALLY_OUTLIER_H

#include "catalog.h"
#include "period.h"
#include "rows.h"
#include "validate.h"

#define TALLY_OUTLIER_UNITS_MAX 64
#define TALLY_OUTLIER_EXACT_MAX 100000 /* trials summed exactly, at most */
#define TALLY_MODIFIED_Z 0.6745

/* Checks outlier test rule on unit's figures of p. Returns 1 with *v
 * set when it is broken, 0 when it holds or says nothing, or -ENOMEM
 * or a store error. */
int tally_outlier_check(const tally_catalog *cat, tally_rows *rows, int rule,
                        int unit, const tally_period *p, tally_violation *v);

/* Two-sided p of k against binomial(n, q): twice the smaller tail, at
 * most 1; past TALLY_OUTLIER_EXACT_MAX trials by the normal
 * approximation with a continuity correction. */
double tally_outlier_binomial_p(unsigned long k, unsigned long n, double q);

/* The median of x[0..n-1] (sorted in place), n > 0. */
double tally_outlier_median(double *x, size_t n);

#endif
