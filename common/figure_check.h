/* figure_check.h: one figure checked against the catalog, in the same words
 * wherever it is checked: by the server before it is stored, and by the
 * client before it is spooled. */
#ifndef TALLY_FIGURE_CHECK_H
#define TALLY_FIGURE_CHECK_H

#include "catalog.h"

#include <stddef.h>

/* Whether unit (a catalog index) may report value for element e (a
 * catalog index): a finite number, not negative, at most
 * TALLY_FIGURE_MAX, whole for a count, one of a status's levels, and an
 * element that unit reports. Returns 1, or 0 with why in Chinese, then
 * in English ("活产数：12.5 不是整数（人） / live_births: 12.5 is not a
 * whole number of persons"), cut between characters to n bytes. */
int tally_figure_ok(const tally_catalog *cat, int unit, int e, double value,
                    char *why, size_t n);

/* v as it was most likely written: the fewest digits (up to 17) that
 * read back as v, never in e-notation below 1e17, so that
 * 10000001000000 shows as such, not as 1e+13. Returns buf. */
const char *tally_figure_text(char *buf, size_t n, double v);

#endif
