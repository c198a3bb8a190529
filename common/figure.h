/* figure.h: figures as text, with the precision they have.
 *
 * A sum of figures is exact (tally_amount, in millionths) and is
 * written exactly, with the decimals it uses and no more. A quotient of
 * two such sums (an intensity) has the significant digits of the
 * shorter of the two. A value computed in doubles (a rate, a change on
 * the year before, a gap to the target) carries about 15 significant
 * digits of the figures it was computed from, and less after a
 * subtraction: it is written to 12 significant digits of the largest
 * figure that went into it (its scale), which keeps every digit it has
 * and none of the binary noise (0.810699999999997 is 0.8107).
 */
#ifndef TALLY_FIGURE_H
#define TALLY_FIGURE_H

#include "indicator.h"

#include <stddef.h>

/* Long enough for any of the texts below (tally_result's texts are). */
#define TALLY_FIGURE_STRLEN 64

/* An exact sum: "109626.6", "-3", "0.000001". */
void tally_figure_amount(char *buf, size_t n, tally_amount a);

/* a / b to the significant digits of the shorter of a and b (written
 * as tally_figure_amount writes them); "" when b is 0. */
void tally_figure_quotient(char *buf, size_t n, tally_amount a,
                           tally_amount b);

/* v rounded to 12 significant digits of scale (|v| when scale is 0),
 * trailing zeros dropped: "6", "0.8107", "-0.15". */
void tally_figure_computed(char *buf, size_t n, double v, double scale);

#endif
