/* track.h: on track or not, for a year before a target's year.
 *
 * A value for a year before its target's year is judged against the
 * path from a baseline (a year and its value) to the target: a straight
 * line for levels and shares, a constant rate for totals. A target that
 * is itself a rate of growth (a growth judged by its average annual
 * growth since a base year) is its own path: the average so far must
 * keep up with it. Pure arithmetic: the engine (indicator.c) finds the
 * baseline and the value.
 */
#ifndef TALLY_TRACK_H
#define TALLY_TRACK_H

#include "catalog.h"

typedef struct {
  int on_track;           /* 1: on the target's side of the path */
  double path;            /* the value the path reaches in the year */
  int has_needed;
  double needed_per_year; /* from the value, a year, to the target */
  int has_needed_rate;
  double needed_rate;     /* the same as a growth rate, % a year */
} tally_track;

/* The value a target with a comparator or an about asks for at most or
 * at least: its value, or value +- tolerance for about<= and about>=. */
double tally_track_bound(const tally_target *t);

/* Judges value, the figure of year, against the path from from (the
 * value in from_year) to the target t (t->year after year), in a
 * straight line (rate 0) or at a constant rate (rate 1; a line when
 * either end is not above 0). A value that already meets the target
 * is on track. Returns 0 and *out, or TALLY_EINVAL when there is no
 * path (from_year not before year, year not before t->year, or t not
 * a comparator or an about). */
int tally_track_judge(const tally_target *t, int from_year, double from,
                      int rate, int year, double value, tally_track *out);

/* Judges average, the average annual growth (%) from base_year to
 * year, against a target t that is a growth rate to keep a year up to
 * t->year: on track when it meets it; the rate needed for the years
 * left is what makes the whole span's average the target's. Returns 0
 * and *out, or TALLY_EINVAL as above. */
int tally_track_growth(const tally_target *t, int base_year, int year,
                       double average, tally_track *out);

#endif
