/* figure_check.c: one figure checked against the catalog. */
#include "figure_check.h"

#include "indicator.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

const char *tally_figure_text(char *buf, size_t n, double v) {
  for (int digits = 15; digits <= 17; digits++) {
    if (fabs(v) < 1e17 && v == floor(v))
      snprintf(buf, n, "%.0f", v);
    else
      snprintf(buf, n, "%.*g", digits, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  return buf;
}

int tally_figure_ok(const tally_catalog *cat, int unit, int e, double value,
                    char *why, size_t n) {
  const tally_element *el = &cat->elements[e];
  char fig[40];
  if (!isfinite(value))
    snprintf(why, n, "%s: value is not a finite number", el->code);
  else if (value < 0)
    snprintf(why, n, "%s: %s is negative; figures are never negative",
             el->code, tally_figure_text(fig, sizeof fig, value));
  else if (value > TALLY_FIGURE_MAX)
    snprintf(why, n, "%s: %s is over the largest figure allowed, %.0f",
             el->code, tally_figure_text(fig, sizeof fig, value),
             TALLY_FIGURE_MAX);
  else if (el->type == TALLY_ELEMENT_COUNT && value != floor(value))
    snprintf(why, n, "%s: %s is not a whole number of %s", el->code,
             tally_figure_text(fig, sizeof fig, value), el->unit);
  else if (el->type == TALLY_ELEMENT_STATUS &&
           (value != floor(value) || value > INT32_MAX ||
            tally_element_level(el, (int)value) == NULL))
    snprintf(why, n, "%s: %g is not one of its levels (%d-%d)", el->code,
             value, el->levels[0].value, el->levels[el->n_levels - 1].value);
  else if (el->district_only != (unit == cat->root))
    snprintf(why, n, "%s is reported by %s, not by %s", el->code,
             el->district_only ? "the district office alone"
                               : "each reporting unit",
             cat->units[unit].code);
  else
    return 1;
  return 0;
}
