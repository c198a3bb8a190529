/* figure_check.c: one figure checked against the catalog. */
#include "figure_check.h"

#include "indicator.h"
#include "utf8.h"

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

/* Each problem in Chinese first, with the element's Chinese name, then
 * in English with its code, as the server's other refusals are. */
/* What is wrong with a figure, if anything. */
enum figure_problem {
  FIGURE_OK, NOT_FINITE, NEGATIVE, TOO_LARGE, NOT_WHOLE, NOT_A_LEVEL,
  OTHER_REPORTER
};

static enum figure_problem figure_problem(const tally_catalog *cat, int unit,
                                          const tally_element *el, double v) {
  if (!isfinite(v))
    return NOT_FINITE;
  if (v < 0)
    return NEGATIVE;
  if (v > TALLY_FIGURE_MAX)
    return TOO_LARGE;
  if (el->type == TALLY_ELEMENT_COUNT && v != floor(v))
    return NOT_WHOLE;
  if (el->type == TALLY_ELEMENT_STATUS &&
      (v != floor(v) || v > INT32_MAX || tally_element_level(el, (int)v) == NULL))
    return NOT_A_LEVEL;
  if (el->district_only != (unit == cat->root))
    return OTHER_REPORTER;
  return FIGURE_OK;
}

int tally_figure_ok(const tally_catalog *cat, int unit, int e, double value,
                    char *why, size_t n) {
  const tally_element *el = &cat->elements[e];
  enum figure_problem p = figure_problem(cat, unit, el, value);
  if (p == FIGURE_OK)
    return 1; /* without formatting the figure: most are fine */

  const char *zh = el->name_zh, *uom = el->unit_zh ? el->unit_zh : el->unit;
  char fig[40];
  tally_figure_text(fig, sizeof fig, value);
  switch (p) {
  case NOT_FINITE:
    snprintf(why, n, "%s：不是有限的数 / %s: value is not a finite number", zh,
             el->code);
    break;
  case NEGATIVE:
    snprintf(why, n, "%s：%s 是负数，数据不能为负 / %s: %s is negative; "
             "figures are never negative", zh, fig, el->code, fig);
    break;
  case TOO_LARGE:
    snprintf(why, n, "%s：%s 超过允许的最大值 %.0f / %s: %s is over the "
             "largest figure allowed, %.0f", zh, fig, TALLY_FIGURE_MAX,
             el->code, fig, TALLY_FIGURE_MAX);
    break;
  case NOT_WHOLE:
    snprintf(why, n, "%s：%s 不是整数（%s） / %s: %s is not a whole number "
             "of %s", zh, fig, uom, el->code, fig, el->unit);
    break;
  case NOT_A_LEVEL:
    snprintf(why, n, "%s：%g 不是它的等级之一（%d-%d） / %s: %g is not one "
             "of its levels (%d-%d)", zh, value, el->levels[0].value,
             el->levels[el->n_levels - 1].value, el->code, value,
             el->levels[0].value, el->levels[el->n_levels - 1].value);
    break;
  case OTHER_REPORTER:
  default:
    snprintf(why, n, "%s 由%s报送，不由%s报送 / %s is reported by %s, not by "
             "%s", zh, el->district_only ? "区（中心）" : "各报送单位",
             cat->units[unit].name_zh, el->code,
             el->district_only ? "the district office alone"
                               : "each reporting unit",
             cat->units[unit].code);
    break;
  }
  tally_utf8_trim(why); /* a long name cut inside a character */
  return 0;
}
