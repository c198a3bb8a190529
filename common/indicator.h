/* indicator.h: indicator values from raw figures.
 *
 * Units submit raw, additive figures; an indicator's value for a scope
 * (one unit, or a unit and everything below it) is computed from sums of
 * those figures over the reporting units in scope, never from the units'
 * own rates. Kinds that combine elements (ratio, weighted mean, growth,
 * ...) sum every element over the same units: those that reported all
 * the kind needs. Missing is not zero: without inputs there is no value.
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
  TALLY_STATUS_UNDEFINED = 5,   /* inputs there, value undefined (0 / 0) */
  TALLY_STATUS_NOT_JUDGED = 6,  /* a target in words, or not assigned yet */
  TALLY_STATUS_TOO_SMALL = 7    /* a life table of too small a population */
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

/* Where the engine finds the figures of any period it needs (the
 * previous year for a growth, the base year for a reduction, ...), and
 * targets entered on the server. */
typedef struct tally_source tally_source;
struct tally_source {
  /* The figures of p (possibly empty), or NULL when they cannot be read. */
  const tally_figures *(*figures)(tally_source *src, const tally_period *p);
  /* A target entered for indicator ind and year, or NULL. May be NULL. */
  const tally_target *(*assigned)(tally_source *src, int ind, int year);
};

typedef struct {
  int has_value;
  double value;
  int has_numerator;
  double numerator;     /* the sum above the line, over the counted units */
  int has_denominator;
  double denominator;   /* the sum below it */
  int units_counted;    /* units whose figures are in the sums */
  int units_expected;   /* units that report the indicator's inputs */
  int has_previous;
  double previous;      /* the value of the previous period */
  const tally_target *target; /* the target for the period, or NULL */
  int has_gap;
  double gap;           /* value - target */
  int has_needed;
  double needed_per_year; /* change a year needed to reach a later target */
  int level;            /* a milestone's status value */
  tally_status status;
  char note[512];       /* what is missing, or why there is no value */
} tally_result;

/* Computes indicator ind for scope (a unit index) and period. Always
 * fills *out; returns 0, or -ENOMEM. */
int tally_indicator_compute(const tally_catalog *cat, int ind,
                            tally_source *src, int scope,
                            const tally_period *period, tally_result *out);

/* The target of ind that applies to period: the first target year at or
 * after the period's year, from the plan's start year on; an assigned
 * target the server holds replaces the catalog's placeholder. NULL if
 * none. */
const tally_target *tally_indicator_target(const tally_catalog *cat, int ind,
                                           tally_source *src,
                                           const tally_period *period);

/* For comparators and about: 1 when value satisfies target, else 0. */
int tally_target_met(const tally_target *t, double value);

/* A target as text: "<= 3.3 (2022)", "about 3 +- 0.5 (2030)",
 * "change <= -1 (2022)", "完成市下达任务 (2025)". */
void tally_target_text(const tally_catalog *cat, int ind,
                       const tally_target *t, char *buf, size_t n);

/* The indicator's formula in words, in arena (NULL: no memory). */
const char *tally_indicator_formula(const tally_catalog *cat, int ind,
                                    tally_arena *arena);

/* The reporting units whose figures ind is computed from, in scope:
 * the root alone for an indicator of district-reported elements, else
 * the leaf units within scope. Writes up to max unit indexes; returns
 * how many there are. */
int tally_indicator_units(const tally_catalog *cat, int ind, int scope,
                          int *units, int max);

#endif
