/* indicator.h: indicator values from raw figures.
 *
 * Units submit raw, additive figures; an indicator's value for a scope
 * (one unit, or a unit and everything below it) is computed from the
 * sums of those figures over the reporting units in scope, never from
 * the units' own rates. A ratio sums its numerator and denominator over
 * the same units: those that reported both.
 */
#ifndef TALLY_INDICATOR_H
#define TALLY_INDICATOR_H

#include "catalog.h"
#include "period.h"

/* Values match the wire's Status enum. */
typedef enum {
  TALLY_STATUS_MET = 1,
  TALLY_STATUS_NOT_MET = 2,
  TALLY_STATUS_NO_TARGET = 3,
  TALLY_STATUS_INSUFFICIENT_DATA = 4,
  TALLY_STATUS_UNDEFINED = 5
} tally_status;

/* The figures of one period: a value, or nothing, per unit and element. */
typedef struct {
  const tally_catalog *cat;
  double *value;        /* [unit * n_elements + element] */
  unsigned char *has;   /* 1 where a value was submitted */
} tally_figures;

/* Returns 0 or -ENOMEM. Free with tally_figures_free. */
int tally_figures_init(tally_figures *f, const tally_catalog *cat);
void tally_figures_free(tally_figures *f);
void tally_figures_set(tally_figures *f, int unit, int element, double v);
int tally_figures_get(const tally_figures *f, int unit, int element,
                      double *v);

typedef struct {
  int has_value;
  double value;
  int has_numerator;
  double numerator;     /* sum over the counted units */
  int has_denominator;
  double denominator;   /* sum over the counted units */
  int units_counted;    /* units whose figures are in the sums */
  int units_expected;   /* reporting units in scope */
  const tally_target *target; /* the target for the period, or NULL */
  tally_status status;
  char note[256];       /* what is missing, or why there is no value */
} tally_result;

/* Computes indicator ind of cat for scope (a unit index) and period
 * from f. Always fills *out; returns 0. */
int tally_indicator_compute(const tally_catalog *cat, int ind,
                            const tally_figures *f, int scope,
                            const tally_period *period, tally_result *out);

/* The target of ind that applies to period: the first target year at or
 * after the period's year, from the plan's start year on. NULL if none. */
const tally_target *tally_indicator_target(const tally_catalog *cat, int ind,
                                           const tally_period *period);

/* True when value satisfies target. */
int tally_target_met(const tally_target *t, double value);

#endif
