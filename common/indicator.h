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

#include <stdint.h>

/* Values match the wire's Status enum. */
typedef enum {
  TALLY_STATUS_MET = 1,
  TALLY_STATUS_NOT_MET = 2,
  TALLY_STATUS_NO_TARGET = 3,
  TALLY_STATUS_INSUFFICIENT_DATA = 4,
  TALLY_STATUS_UNDEFINED = 5,   /* inputs there, value undefined (0 / 0) */
  TALLY_STATUS_NOT_JUDGED = 6,  /* a target in words, or not assigned yet */
  TALLY_STATUS_TOO_SMALL = 7,   /* a life table of too small a population */
  TALLY_STATUS_ON_TRACK = 8,    /* before the target's year: on the path */
  TALLY_STATUS_OFF_TRACK = 9    /* ...or behind it */
} tally_status;

/* Exact sums: figures in millionths as 128-bit integers, so that a sum
 * kept up to date by adding and taking away shares is equal, to the
 * last digit, to one made afresh in any order. */
typedef __int128 tally_amount;
#define TALLY_AMOUNT_SCALE 1e6
/* Submitted figures are at most this large, so that no sum can overflow
 * (a weighted mean sums products of two figures). */
#define TALLY_FIGURE_MAX 1e13

tally_amount tally_amount_of(double v);
double tally_amount_value(tally_amount a);

#define TALLY_SUMS_MAX (2 * 64 + 1) /* two sets of age groups, births */

/* An indicator's sums over a set of units, for one period: what a
 * report needs, whatever the number of units. */
typedef struct {
  int64_t counted;  /* units whose figures are in cur: those that reported
                       everything the kind needs */
  int64_t both;     /* of those, units counted the period before too */
  int64_t misses;   /* unit_threshold: counted units whose own rate misses
                       the unit target */
  tally_amount cur[TALLY_SUMS_MAX];  /* the period's sums */
  tally_amount prev[TALLY_SUMS_MAX]; /* the period before's, over both */
  tally_amount both_cur[TALLY_SUMS_MAX]; /* the period's, over both: a
                                            change is taken over the units
                                            in both periods */
} tally_sums;

/* Where the engine finds the figures of any period it needs (the
 * previous year for a growth, the base year for a reduction, ...), and
 * targets entered on the server. */
typedef struct tally_source tally_source;
struct tally_source {
  /* One unit's figures of p, n_elements values and flags (1 =
   * submitted; none for a unit without a report), valid at least until
   * one more row is asked for (the engine holds two at a time). Returns
   * 0 or < 0. Required: the server's is tally_rows (server/rows.h). */
  int (*row)(tally_source *src, int unit, const tally_period *p,
             const double **value, const unsigned char **has);
  /* A target entered for indicator ind and year, or NULL. May be NULL. */
  const tally_target *(*assigned)(tally_source *src, int ind, int year);
  /* Optional: the sums of ind over the inner unit scope, kept up to
   * date by the store, for indicators tally_indicator_kept says are
   * kept. Returns 0 or < 0. Without it sums are made from rows. */
  int (*kept)(tally_source *src, int ind, int scope, const tally_period *p,
              tally_sums *out);
  /* Name the units left out of a sum (or under a unit target) whatever
   * the scope's size; else only in a scope of at most TALLY_NAMED_UNITS
   * reporting units, so that a report stays a read of kept sums. */
  int name_missing;
  /* The figures are units' as approved (tally report --as-approved): a
   * unit left out may have reported, and not been approved. */
  int approved;
};

#define TALLY_NAMED_UNITS 64

/* How many of cur (and prev) ind's kind uses. */
int tally_sums_size(const tally_catalog *cat, int ind);

/* to += sign * s, over the first n sums. */
void tally_sums_add(tally_sums *to, const tally_sums *s, int n, int sign);
int tally_sums_equal(const tally_sums *a, const tally_sums *b, int n);

/* One reporting unit's share of ind's sums for p (all zero when it did
 * not report everything the kind needs; sums past tally_sums_size are
 * left as they were). Returns 0 or < 0. */
int tally_sums_unit(const tally_catalog *cat, int ind, tally_source *src,
                    int unit, const tally_period *p, tally_sums *out);

/* True when ind is computed from the leaf units' figures, so that its
 * sums are kept for every inner unit (not from the root's alone). */
int tally_indicator_kept(const tally_catalog *cat, int ind);

/* How a value compares with another, beyond chance. Values match the
 * wire's Compare enum. */
typedef enum {
  TALLY_COMPARE_NONE = 0,    /* not compared: no interval */
  TALLY_COMPARE_SIMILAR = 1, /* chance explains the difference */
  TALLY_COMPARE_BETTER = 2,  /* in the indicator's direction */
  TALLY_COMPARE_WORSE = 3
} tally_compare;

typedef struct {
  int has_value;
  double value;
  int has_interval;
  double lower, upper;           /* the value's 95 % confidence interval */
  double variance;               /* the value's, for comparisons */
  const char *interval_method;   /* static: "Wilson score", ...; or NULL */
  tally_compare change_compared; /* the change on the previous value
                                    against chance */
  int has_numerator;
  double numerator;     /* the sum above the line, over the counted units */
  int has_denominator;
  double denominator;   /* the sum below it */
  char numerator_text[64];   /* the two with the precision they have */
  char denominator_text[64]; /* (figure.h; TALLY_FIGURE_STRLEN) */
  int units_counted;    /* units whose figures are in the sums */
  int units_expected;   /* units that report the indicator's inputs */
  int has_previous;
  double previous;      /* the value of the previous period, over the units
                           counted in both periods */
  int has_change;
  double change;        /* on the previous period, over those units */
  int units_change;     /* how many they are */
  const tally_target *target; /* the target for the period, or NULL */
  int has_gap;
  double gap;           /* value - target */
  int has_needed;
  double needed_per_year; /* change a year needed to reach a later target */
  int has_needed_rate;
  double needed_rate;   /* the same as a growth rate, % a year (a path at
                           a constant rate) */
  int has_path;         /* on track or off track: the path from */
  int path_from_year;   /* the baseline's year */
  double path_from;     /* and value (for a growth: none, the path is the
                           target's rate) to the target */
  int path_rate;        /* 1: at a constant rate, 0: in a straight line */
  double path;          /* the value the path reaches in the period */
  int has_average;      /* a growth with a base year, for a later year: */
  double average;       /* the average annual growth since then, in % */
  int average_from;     /* that base year */
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

/* How a unit's value compares with its scope's (the district's): better
 * or worse when the unit's interval lies wholly on one side of the
 * scope's value, as the UK indicators compare an area with its region;
 * TALLY_COMPARE_NONE without an interval or a value. */
tally_compare tally_indicator_against(const tally_catalog *cat, int ind,
                                      const tally_result *unit,
                                      const tally_result *scope);

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
