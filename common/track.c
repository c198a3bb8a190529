/* track.c: the path from a baseline to a later target, and where a
 * value stands on it. */
#include "track.h"

#include "error.h"
#include "indicator.h"

#include <math.h>
#include <string.h>

static int is_judged(tally_op op) {
  return op <= TALLY_OP_LT || tally_op_is_about(op);
}

double tally_track_bound(const tally_target *t) {
  switch (t->op) {
  case TALLY_OP_ABOUT_LE: return t->value + t->tolerance;
  case TALLY_OP_ABOUT_GE: return t->value - t->tolerance;
  default: return t->value;
  }
}

/* True when value is on the target's side of the path's point p. */
static int beside(const tally_target *t, double value, double p) {
  switch (t->op) {
  case TALLY_OP_GE:
  case TALLY_OP_GT:
  case TALLY_OP_ABOUT_GE: return value >= p;
  case TALLY_OP_LE:
  case TALLY_OP_LT:
  case TALLY_OP_ABOUT_LE: return value <= p;
  case TALLY_OP_ABOUT: return fabs(value - p) <= t->tolerance;
  default: return 0;
  }
}

int tally_track_judge(const tally_target *t, int from_year, double from,
                      int rate, int year, double value, tally_track *out) {
  memset(out, 0, sizeof *out);
  if (!is_judged(t->op) || t->has_level || from_year >= year ||
      year >= t->year)
    return TALLY_EVALUE;
  double to = tally_track_bound(t);
  double along = (double)(year - from_year) / (t->year - from_year);
  int left = t->year - year;
  rate = rate && from > 0 && to > 0;
  out->path = rate ? from * pow(to / from, along) : from + (to - from) * along;
  int met = tally_target_met(t, value);
  out->on_track = met || beside(t, value, out->path);
  if (!met) {
    out->has_needed = 1;
    out->needed_per_year = (to - value) / left;
    if (rate && value > 0) {
      out->has_needed_rate = 1;
      out->needed_rate = expm1(log(to / value) / left) * 100;
    }
  }
  return 0;
}

int tally_track_growth(const tally_target *t, int base_year, int year,
                       double average, tally_track *out) {
  memset(out, 0, sizeof *out);
  if (!is_judged(t->op) || t->has_level || base_year >= year ||
      year >= t->year)
    return TALLY_EVALUE;
  double g = tally_track_bound(t) / 100, a = average / 100;
  out->path = tally_track_bound(t);
  out->on_track = tally_target_met(t, average);
  if (!out->on_track && g > -1 && a > -1) {
    /* (1 + a)^(year - base) (1 + n)^(left) = (1 + g)^(t->year - base) */
    int left = t->year - year;
    out->has_needed_rate = 1;
    out->needed_rate =
        expm1(((t->year - base_year) * log1p(g) - (year - base_year) * log1p(a)) /
              left) *
        100;
  }
  return 0;
}
