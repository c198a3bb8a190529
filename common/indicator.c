#include "indicator.h"

#include "error.h"
#include "interval.h"
#include "kind.h"
#include "track.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- targets ---- */

const tally_target *tally_indicator_target(const tally_catalog *cat, int ind,
                                           tally_source *src,
                                           const tally_period *period) {
  const tally_indicator *in = &cat->indicators[ind];
  if (period->year < cat->plans[in->plan].start_year)
    return NULL;
  for (size_t i = 0; i < in->n_targets; i++) {
    const tally_target *t = &in->targets[i];
    if (t->year < period->year)
      continue;
    if (t->op == TALLY_OP_ASSIGNED && src && src->assigned) {
      const tally_target *set = src->assigned(src, ind, t->year);
      if (set)
        return set;
    }
    return t;
  }
  return NULL;
}

int tally_target_met(const tally_target *t, double value) {
  switch (t->op) {
  case TALLY_OP_GE: return value >= t->value;
  case TALLY_OP_GT: return value > t->value;
  case TALLY_OP_LE: return value <= t->value;
  case TALLY_OP_LT: return value < t->value;
  case TALLY_OP_ABOUT: return fabs(value - t->value) <= t->tolerance;
  case TALLY_OP_ABOUT_LE: return value <= t->value + t->tolerance;
  case TALLY_OP_ABOUT_GE: return value >= t->value - t->tolerance;
  default: return 0;
  }
}

/* The same comparison on a change. */
static int change_met(const tally_target *t, double change) {
  switch (t->op) {
  case TALLY_OP_CHANGE_LE: return change <= t->value;
  case TALLY_OP_CHANGE_GE: return change >= t->value;
  case TALLY_OP_CHANGE_LT: return change < t->value;
  case TALLY_OP_CHANGE_GT: return change > t->value;
  default: return 0;
  }
}

static int is_change(tally_op op) {
  return op >= TALLY_OP_CHANGE_LE && op <= TALLY_OP_CHANGE_GT;
}

void tally_target_text(const tally_catalog *cat, int ind,
                       const tally_target *t, char *buf, size_t n) {
  const tally_indicator *in = &cat->indicators[ind];
  if (t == NULL) {
    snprintf(buf, n, "%s", "");
    return;
  }
  if (t->has_level) {
    const tally_level *l =
        tally_element_level(&cat->elements[in->element], (int)t->value);
    snprintf(buf, n, "%s %s (%d)", tally_op_text(t->op),
             l ? l->zh : "?", t->year);
  } else if (t->op == TALLY_OP_TEXT) {
    snprintf(buf, n, "%s (%d)", t->text, t->year);
  } else if (t->op == TALLY_OP_ASSIGNED) {
    snprintf(buf, n, "%s (%d): not set yet", t->text ? t->text : "assigned",
             t->year);
  } else if (t->op == TALLY_OP_ABOUT) {
    snprintf(buf, n, "about %g +- %g (%d)", t->value, t->tolerance, t->year);
  } else if (t->op == TALLY_OP_ABOUT_LE || t->op == TALLY_OP_ABOUT_GE) {
    int le = t->op == TALLY_OP_ABOUT_LE;
    snprintf(buf, n, "at %s about %g (%s %g) (%d)", le ? "most" : "least",
             t->value, le ? "<=" : ">=", tally_track_bound(t), t->year);
  } else if (is_change(t->op)) {
    snprintf(buf, n, "change %s %g on the year before (%d)",
             tally_op_text(t->op) + 6, t->value, t->year);
  } else {
    snprintf(buf, n, "%s %g (%d)", tally_op_text(t->op), t->value, t->year);
  }
  if (in->kind == TALLY_KIND_UNIT_THRESHOLD) {
    size_t len = strlen(buf);
    snprintf(buf + len, n - len, "; %s %g in every unit",
             tally_op_text(in->unit_target.op), in->unit_target.value);
  }
}

/* ---- which units ---- */

/* True when the indicator's inputs are reported by the district alone. */
static int district_reported(const tally_catalog *cat,
                             const tally_indicator *in) {
  int e = in->numerator >= 0 ? in->numerator : in->element;
  if (e < 0 && in->numerator_groups >= 0)
    e = cat->age_groups[in->numerator_groups].first;
  if (e < 0 && in->deaths_groups >= 0)
    e = cat->age_groups[in->deaths_groups].first;
  return e >= 0 && cat->elements[e].district_only;
}

int tally_indicator_kept(const tally_catalog *cat, int ind) {
  return !district_reported(cat, &cat->indicators[ind]);
}

int tally_indicator_units(const tally_catalog *cat, int ind, int scope,
                          int *units, int max) {
  const tally_indicator *in = &cat->indicators[ind];
  int n = 0;
  if (district_reported(cat, in)) {
    if (scope == cat->root) {
      if (max > 0)
        units[0] = cat->root;
      return 1;
    }
    return 0;
  }
  if (cat->units[scope].is_leaf) { /* itself: no need to look at the rest */
    if (max > 0)
      units[0] = scope;
    return 1;
  }
  for (size_t u = 0; u < cat->n_units; u++)
    if (cat->units[u].is_leaf && tally_catalog_unit_within(cat, (int)u, scope)) {
      if (n < max)
        units[n] = (int)u;
      n++;
    }
  return n;
}

/* ---- exact sums ---- */

tally_amount tally_amount_of(double v) {
  /* Submissions are at most TALLY_FIGURE_MAX; a larger figure stored
   * before that limit is held at 1e36 millionths rather than overflow. */
  double m = nearbyint(v * TALLY_AMOUNT_SCALE);
  if (!(m > -1e36))
    m = -1e36;
  if (!(m < 1e36))
    m = 1e36;
  return (tally_amount)m;
}

double tally_amount_value(tally_amount a) {
  return (double)a / TALLY_AMOUNT_SCALE;
}

int tally_sums_size(const tally_catalog *cat, int ind) {
  return tally_kind_sums(cat, &cat->indicators[ind]);
}

void tally_sums_add(tally_sums *to, const tally_sums *s, int n, int sign) {
  to->counted += sign * s->counted;
  to->both += sign * s->both;
  to->misses += sign * s->misses;
  for (int k = 0; k < n; k++) {
    to->cur[k] += sign * s->cur[k];
    to->prev[k] += sign * s->prev[k];
    to->both_cur[k] += sign * s->both_cur[k];
  }
}

int tally_sums_equal(const tally_sums *a, const tally_sums *b, int n) {
  if (a->counted != b->counted || a->both != b->both || a->misses != b->misses)
    return 0;
  for (int k = 0; k < n; k++)
    if (a->cur[k] != b->cur[k] || a->prev[k] != b->prev[k] ||
        a->both_cur[k] != b->both_cur[k])
      return 0;
  return 1;
}

/* A unit's own rate against the unit target of a unit_threshold. */
static int misses_unit_target(const tally_indicator *in, const tally_amount *v,
                              double *rate) {
  if (v[1] == 0)
    return 0;
  *rate = (double)v[0] / (double)v[1] * in->factor;
  return !tally_target_met(&in->unit_target, *rate);
}

int tally_sums_unit(const tally_catalog *cat, int ind, tally_source *src,
                    int unit, const tally_period *p, tally_sums *out) {
  const tally_indicator *in = &cat->indicators[ind];
  const tally_kind_def *k = tally_kind_get(in->kind);
  tally_period prev;
  double rate;
  size_t used = (size_t)tally_sums_size(cat, ind) * sizeof(tally_amount);
  out->counted = out->both = out->misses = 0;
  memset(out->prev, 0, used);
  memset(out->both_cur, 0, used);
  int rc = k->share(cat, in, src, unit, p, out->cur);
  if (rc <= 0) {
    memset(out->cur, 0, used);
    return rc;
  }
  out->counted = 1;
  if (in->kind == TALLY_KIND_UNIT_THRESHOLD)
    out->misses = misses_unit_target(in, out->cur, &rate);
  if (tally_period_prev(p, &prev) == 0) {
    rc = k->share(cat, in, src, unit, &prev, out->prev);
    if (rc < 0)
      return rc;
    out->both = rc;
  }
  if (out->both)
    memcpy(out->both_cur, out->cur, used);
  else
    memset(out->prev, 0, used);
  return 0;
}

/* ---- the value for a scope ---- */

/* What one computation works on. */
struct calc {
  const tally_catalog *cat;
  const tally_indicator *in;
  int ind;
  tally_source *src;
  const tally_period *period;
  tally_result *r;
};

/* The units ind is computed from within scope: those whose sums the
 * store keeps, for an inner unit; else each one's own figures. */
static int scope_sums(struct calc *c, int scope, const tally_period *p,
                      tally_sums *out) {
  const tally_catalog *cat = c->cat;
  int n = tally_sums_size(cat, c->ind);
  if (c->in->kind == TALLY_KIND_MILESTONE)
    return tally_sums_unit(cat, c->ind, c->src, cat->root, p, out);
  if (c->src->kept && !cat->units[scope].is_leaf &&
      tally_indicator_kept(cat, c->ind))
    return c->src->kept(c->src, c->ind, scope, p, out);
  int nu = tally_indicator_units(cat, c->ind, scope, NULL, 0);
  int *units = malloc((size_t)(nu ? nu : 1) * sizeof *units);
  tally_sums *one = malloc(sizeof *one);
  int rc = 0;
  if (units == NULL || one == NULL) {
    rc = -ENOMEM;
    goto out;
  }
  tally_indicator_units(cat, c->ind, scope, units, nu);
  memset(out, 0, sizeof *out);
  for (int i = 0; i < nu && rc == 0; i++)
    if ((rc = tally_sums_unit(cat, c->ind, c->src, units[i], p, one)) == 0)
      tally_sums_add(out, one, n, 1);
out:
  free(units);
  free(one);
  return rc;
}

/* Names, into buf, the units within node that are left out of ind's sums
 * (which 0) or whose own rate misses the unit target (which 1). Goes
 * down only into parts of the tree that have such units, and looks at
 * no more than *budget units in all. */
#define NAMES_BUDGET 2000
static int name_units(struct calc *c, int node, int which, char *buf,
                      size_t n, int *budget) {
  const tally_catalog *cat = c->cat;
  const tally_unit *u = &cat->units[node];
  tally_sums *s = malloc(sizeof *s);
  int rc = 0;
  if (s == NULL)
    return -ENOMEM;
  for (int i = 0; i < u->n_children && rc == 0; i++) {
    int ch = u->children[i];
    size_t len = strlen(buf);
    if (--*budget < 0 || len + 4 >= n)
      break;
    if ((rc = scope_sums(c, ch, c->period, s)) != 0)
      break;
    if (!cat->units[ch].is_leaf) {
      if (which ? s->misses > 0 : s->counted < cat->units[ch].leaves)
        rc = name_units(c, ch, which, buf, n, budget);
      continue;
    }
    double rate;
    if (which == 0 && s->counted == 0)
      snprintf(buf + len, n - len, "%s%s", len ? ", " : "",
               cat->units[ch].code);
    else if (which == 1 && s->misses)
      snprintf(buf + len, n - len, "%s%s %.4g", len ? ", " : "",
               cat->units[ch].code,
               misses_unit_target(c->in, s->cur, &rate) ? rate : 0);
  }
  free(s);
  return rc;
}

/* Whether to name units within scope: a walk down the tree, which a
 * report of a large scope does only when asked. */
static int names_wanted(const struct calc *c, int scope) {
  return c->src->name_missing ||
         c->cat->units[scope].leaves <= TALLY_NAMED_UNITS;
}

#define NAMES_ON_REQUEST "named with 'tally report --missing'"

/* The value of the indicator from its sums s over r->units_counted
 * units, for period p: returns 0 when there is one, else a status. */
static int value_of(struct calc *c, const tally_period *p,
                    const tally_amount *s, tally_result *r) {
  const tally_kind_def *k = tally_kind_get(c->in->kind);
  int rc = k->value(c->cat, c->in, p, s, r);
  if (rc == 0 && k->interval && !c->in->no_interval)
    k->interval(c->cat, c->in, s, r);
  return rc;
}

/* A difference in the direction sign (+1 up, -1 down, 0 none) as better
 * or worse for the indicator. */
static tally_compare compared(const tally_indicator *in, int sign) {
  if (sign == 0)
    return TALLY_COMPARE_SIMILAR;
  return (sign > 0) == (in->higher_is_better != 0) ? TALLY_COMPARE_BETTER
                                                   : TALLY_COMPARE_WORSE;
}

/* The change from prev to r against chance: the z-test of two
 * independent estimates at 95 %, with each one's variance. */
static tally_compare change_compared(const tally_indicator *in,
                                     const tally_result *r,
                                     const tally_result *prev) {
  if (!r->has_interval || !prev->has_interval)
    return TALLY_COMPARE_NONE;
  return compared(in, tally_interval_differ(
                          r->value, r->variance, prev->value, prev->variance,
                          tally_interval_z(TALLY_INTERVAL_CONFIDENCE)));
}

tally_compare tally_indicator_against(const tally_catalog *cat, int ind,
                                      const tally_result *unit,
                                      const tally_result *scope) {
  if (!unit->has_value || !unit->has_interval || !scope->has_value)
    return TALLY_COMPARE_NONE;
  tally_interval iv = {unit->lower, unit->upper, unit->variance};
  return compared(&cat->indicators[ind],
                  tally_interval_against(&iv, scope->value));
}

/* The change on the period before, over the units counted in both
 * periods, whichever period the others are missing from (so that a
 * change is never a change of units): the value of each period over
 * those units. None when no unit was counted in both. Returns 0 or
 * -ENOMEM. */
static int change_of(struct calc *c, const tally_sums *s) {
  tally_result *r = c->r;
  tally_period prev;
  if (s->both == 0 || tally_period_prev(c->period, &prev) != 0)
    return 0;
  tally_result *pr = calloc(2, sizeof *pr), *now = pr + 1;
  if (pr == NULL)
    return -ENOMEM;
  pr->units_counted = now->units_counted = (int)s->both;
  int have = value_of(c, &prev, s->prev, pr) == 0;
  if (have && s->both == s->counted)
    now->value = r->value; /* the same units: this period's value */
  else if (have)
    have = value_of(c, c->period, s->both_cur, now) == 0;
  if (have) {
    r->has_previous = r->has_change = 1;
    r->previous = pr->value;
    r->change = now->value - pr->value;
    r->units_change = (int)s->both;
    /* Against chance, over the same units (r itself when they are). */
    r->change_compared =
        change_compared(c->in, s->both == s->counted ? r : now, pr);
    if (s->both < s->counted) {
      size_t len = strlen(r->note);
      snprintf(r->note + len, sizeof r->note - len,
               "%sthe change is over the %lld of %lld units counted in both "
               "periods",
               len ? "; " : "", (long long)s->both, (long long)s->counted);
    }
  }
  free(pr);
  return 0;
}

/* The value of the indicator for scope in period p, into *v: 1 when
 * there is one, 0 when not, or -ENOMEM. */
static int value_at(struct calc *c, int scope, const tally_period *p,
                    double *v) {
  tally_sums *s = malloc(sizeof *s);
  tally_result *r = calloc(1, sizeof *r);
  int rc = s && r ? scope_sums(c, scope, p, s) : -ENOMEM;
  if (rc == 0) {
    r->units_counted = (int)s->counted;
    rc = value_of(c, p, s->cur, r) == 0 && r->has_value;
    *v = r->value;
  }
  free(s);
  free(r);
  return rc;
}

/* The baseline of the path to a later target, for scope: a five-year
 * total's 0 in the year before it starts; the plan's value for its
 * base year (the district's, for the district); else the first year
 * from the plan's base year on that has a value. Returns 1 and the
 * year and value, 0 when there is none before the period, or < 0. */
static int baseline(struct calc *c, int scope, int *year, double *value) {
  const tally_indicator *in = c->in;
  int base = c->cat->plans[in->plan].start_year - 1;
  if (in->kind == TALLY_KIND_CUMULATIVE) {
    *year = in->from_year - 1;
    *value = 0;
    return *year < c->period->year;
  }
  for (size_t i = 0; scope == c->cat->root && i < in->n_baselines; i++) {
    const tally_baseline *b = &in->baselines[i];
    if (b->has_value && b->year > 0 && b->year < c->period->year &&
        strcmp(b->scope, "district") == 0) {
      *year = b->year;
      *value = b->value;
      return 1;
    }
  }
  for (int y = base; y < c->period->year; y++) {
    tally_period p = {y, TALLY_PERIOD_YEAR, 0};
    int rc = value_at(c, scope, &p, value);
    if (rc != 0) {
      *year = y;
      return rc;
    }
  }
  return 0;
}

/* For a year before the target's: on track or off track, against the
 * path from the baseline to the target (for a growth judged by its
 * average, the target's rate itself), x being the figure judged and met
 * whether it meets the target already. Without a path (a quarter or a
 * month, or no baseline before the period) the status stays met or not
 * met. Returns 0 or -ENOMEM. */
static int track(struct calc *c, int scope, double x, int met,
                 tally_status *out) {
  tally_result *r = c->r;
  const tally_target *t = r->target;
  int year = c->period->year, from_year = 0, rc = TALLY_EVALUE;
  double from = 0;
  tally_track tr;
  if (c->period->kind == TALLY_PERIOD_YEAR && r->has_average) {
    rc = tally_track_growth(t, r->average_from, year, x, &tr);
  } else if (c->period->kind == TALLY_PERIOD_YEAR &&
             c->in->kind == TALLY_KIND_GROWTH) {
    rc = tally_track_growth(t, year - 1, year, x, &tr); /* the year's own */
  } else if (c->period->kind == TALLY_PERIOD_YEAR) {
    int found = baseline(c, scope, &from_year, &from);
    if (found < 0)
      return found;
    if (found) {
      rc = tally_track_judge(t, from_year, from, c->in->path_rate, year, x,
                             &tr);
      r->has_path = rc == 0;
    }
  }
  if (rc != 0) {
    if (!met) { /* the change a year still needed, in a straight line */
      r->has_needed = 1;
      r->needed_per_year = (tally_track_bound(t) - x) / (t->year - year);
    }
    if (c->period->kind == TALLY_PERIOD_YEAR) {
      size_t len = strlen(r->note);
      snprintf(r->note + len, sizeof r->note - len,
               "%sno earlier year to draw the path to the target from",
               len ? "; " : "");
    }
    return 0;
  }
  r->path = tr.path;
  r->path_from_year = from_year;
  r->path_from = from;
  r->path_rate = r->has_path ? c->in->path_rate : 1;
  r->has_needed = tr.has_needed;
  r->needed_per_year = tr.needed_per_year;
  r->has_needed_rate = tr.has_needed_rate;
  r->needed_rate = tr.needed_rate;
  *out = tr.on_track ? TALLY_STATUS_ON_TRACK : TALLY_STATUS_OFF_TRACK;
  return 0;
}

/* Judges the value against the target; the value is there. */
static int judge(struct calc *c, int scope, const tally_sums *s,
                 tally_status *out) {
  tally_result *r = c->r;
  const tally_target *t = r->target;
  if (c->in->kind == TALLY_KIND_UNIT_THRESHOLD && t != NULL) {
    if (s->misses) {
      char names[256] = "";
      int budget = NAMES_BUDGET, rc = 0;
      if (c->cat->units[scope].is_leaf) {
        double rate = 0;
        misses_unit_target(c->in, s->cur, &rate);
        snprintf(names, sizeof names, "%s %.4g", c->cat->units[scope].code,
                 rate);
      } else if (!names_wanted(c, scope)) {
        snprintf(names, sizeof names, "%s", NAMES_ON_REQUEST);
      } else if ((rc = name_units(c, scope, 1, names, sizeof names,
                                  &budget)) != 0) {
        return rc;
      }
      size_t len = strlen(r->note);
      snprintf(r->note + len, sizeof r->note - len,
               "%sunits under the target (%lld): %s", len ? "; " : "",
               (long long)s->misses, names);
      *out = TALLY_STATUS_NOT_MET;
      return 0;
    }
    *out = s->counted < r->units_expected ? TALLY_STATUS_INSUFFICIENT_DATA
                                          : TALLY_STATUS_MET;
    return 0;
  }
  if (t == NULL) {
    *out = TALLY_STATUS_NO_TARGET;
    return 0;
  }
  if (t->op == TALLY_OP_TEXT || t->op == TALLY_OP_ASSIGNED) {
    *out = TALLY_STATUS_NOT_JUDGED;
    return 0;
  }
  if (is_change(t->op)) {
    if (!r->has_change) {
      size_t len = strlen(r->note);
      snprintf(r->note + len, sizeof r->note - len,
               "%sno value for the period before, to judge the change",
               len ? "; " : "");
      *out = TALLY_STATUS_INSUFFICIENT_DATA;
      return 0;
    }
    *out = change_met(t, r->change) ? TALLY_STATUS_MET : TALLY_STATUS_NOT_MET;
    return 0;
  }
  /* A growth with a base year is judged by its average annual growth. */
  double x = r->has_average ? r->average : r->value;
  int met = tally_target_met(t, x);
  *out = met ? TALLY_STATUS_MET : TALLY_STATUS_NOT_MET;
  if (t->has_level)
    return 0;
  r->has_gap = 1;
  r->gap = x - t->value;
  if (t->year <= c->period->year)
    return 0;
  return track(c, scope, x, met, out);
}

/* Units ind is expected from within scope. A milestone, like every
 * figure the district office alone reports, is the district's: a unit's
 * report does not show it (its reporter may not read the district
 * office's figures). */
static int expected_units(const tally_catalog *cat, int ind, int scope) {
  const tally_indicator *in = &cat->indicators[ind];
  if (in->kind == TALLY_KIND_MILESTONE || district_reported(cat, in))
    return scope == cat->root;
  return cat->units[scope].leaves;
}

int tally_indicator_compute(const tally_catalog *cat, int ind,
                            tally_source *src, int scope,
                            const tally_period *period, tally_result *out) {
  struct calc c = {cat, &cat->indicators[ind], ind, src, period, out};
  tally_sums *s = malloc(sizeof *s);
  tally_status status;
  int rc = 0;

  memset(out, 0, sizeof *out);
  if (s == NULL)
    return -ENOMEM;
  out->units_expected = expected_units(cat, ind, scope);
  out->target = tally_indicator_target(cat, ind, src, period);
  if (out->units_expected == 0) {
    out->status = TALLY_STATUS_INSUFFICIENT_DATA;
    snprintf(out->note, sizeof out->note,
             "reported by the district office alone, not by %s",
             cat->units[scope].code);
    goto out;
  }
  if ((rc = scope_sums(&c, scope, period, s)) != 0)
    goto out;
  out->units_counted = (int)s->counted;
  rc = value_of(&c, period, s->cur, out);
  if (rc > 0) {
    out->status = (tally_status)rc;
    rc = 0;
    goto out;
  }
  if (out->units_counted < out->units_expected && out->note[0] == 0) {
    char names[256] = NAMES_ON_REQUEST;
    int budget = NAMES_BUDGET;
    if (names_wanted(&c, scope) &&
        (*names = 0, rc = name_units(&c, scope, 0, names, sizeof names,
                                     &budget)) != 0)
      goto out;
    snprintf(out->note, sizeof out->note, "%s by %d of %d: %s",
             src->approved ? "not reported or not approved" : "not reported",
             out->units_expected - out->units_counted, out->units_expected,
             names);
  }

  if ((rc = change_of(&c, s)) != 0)
    goto out;
  if ((rc = judge(&c, scope, s, &status)) == 0)
    out->status = status;
out:
  free(s);
  return rc;
}

const char *tally_indicator_formula(const tally_catalog *cat, int ind,
                                    tally_arena *a) {
  const tally_indicator *in = &cat->indicators[ind];
  return tally_kind_get(in->kind)->formula(cat, in, a);
}
