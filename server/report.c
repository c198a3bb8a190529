/* report.c: reports, explanations and completeness, built from the
 * store through the indicator engine. */
#include "report.h"

#include "error.h"
#include "indicator.h"
#include "kind.h"
#include "rollup.h"
#include "store_figures.h"
#include "rows.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A tally_source over one snapshot of the store: units' figures read a
 * row at a time, and the sums kept for inner units. */
struct store_source {
  tally_rows rows;      /* first: rows.src is the engine's view */
  const tally_report_targets *targets;
};

static const tally_target *source_assigned(tally_source *src, int ind,
                                           int year) {
  struct store_source *s = (struct store_source *)src;
  return s->targets ? s->targets->find(s->targets, ind, year) : NULL;
}

static int source_kept(tally_source *src, int ind, int scope,
                       const tally_period *p, tally_sums *out) {
  struct store_source *s = (struct store_source *)src;
  return tally_rollup_read(s->rows.cat, s->rows.txn, ind, scope,
                           tally_period_key(p), out);
}

static void source_init(struct store_source *s, const tally_catalog *cat,
                        tally_store_txn *txn, const tally_report_targets *t) {
  tally_rows_init(&s->rows, cat, txn);
  s->rows.src.assigned = source_assigned;
  s->rows.src.kept = source_kept;
  s->targets = t;
}

static void source_free(struct store_source *s) {
  tally_rows_free(&s->rows);
}

/* The target as fields, in a. Returns NULL for none, or when out of
 * memory (*nomem). */
static Tally__TargetFields *target_fields(const tally_catalog *cat, int i,
                                          const tally_target *t,
                                          tally_arena *a, int *nomem) {
  if (t == NULL)
    return NULL;
  Tally__TargetFields *f = tally_arena_alloc(a, sizeof *f);
  if (f == NULL) {
    *nomem = 1;
    return NULL;
  }
  tally__target_fields__init(f);
  f->year = t->year;
  f->comparator = (char *)tally_op_text(t->op);
  f->has_value = t->op != TALLY_OP_TEXT && t->op != TALLY_OP_ASSIGNED;
  f->value = t->value;
  f->has_tolerance = tally_op_is_about(t->op);
  f->tolerance = t->tolerance;
  f->text = t->text ? t->text : "";
  f->level = "";
  if (t->has_level) {
    const tally_level *l = tally_element_level(
        &cat->elements[cat->indicators[i].element], (int)t->value);
    f->level = l ? tally_arena_printf(a, "%s (%s)", l->zh, l->en) : "";
    if (f->level == NULL)
      *nomem = 1;
  }
  return f;
}

/* What issue 14's definitions add to a row: the change over the units
 * in both periods, the average growth, the path, the target as fields
 * and the sums with their precision. Returns 0 or -ENOMEM. */
static int fill_track(const tally_catalog *cat, int i, const tally_result *r,
                      tally_arena *a, Tally__ReportRow *row) {
  int nomem = 0;
  row->has_change = r->has_change;
  row->change = r->change;
  row->units_change = (uint32_t)r->units_change;
  row->has_average = r->has_average;
  row->average = r->average;
  row->average_from = r->average_from;
  row->has_path = r->has_path;
  row->path_from_year = r->path_from_year;
  row->path_from = r->path_from;
  row->path_rate = r->path_rate;
  row->path = r->path;
  row->has_needed_rate = r->has_needed_rate;
  row->needed_rate = r->needed_rate;
  row->numerator_text = tally_arena_strdup(a, r->numerator_text);
  row->denominator_text = tally_arena_strdup(a, r->denominator_text);
  row->target_fields = target_fields(cat, i, r->target, a, &nomem);
  return nomem || !row->numerator_text || !row->denominator_text ? -ENOMEM
                                                                  : 0;
}

static int fill_row(const tally_catalog *cat, int i, const tally_result *r,
                    tally_arena *a, Tally__ReportRow *row) {
  const tally_indicator *in = &cat->indicators[i];
  char target[256];
  tally__report_row__init(row);
  row->code = in->code;
  row->name_zh = in->name_zh;
  row->name_en = in->name_en;
  row->unit = in->unit;
  row->unit_zh = in->unit_zh ? in->unit_zh : "";
  row->plan = cat->plans[in->plan].code;
  row->category_zh = in->category_zh ? in->category_zh : "";
  row->category_en = in->category_en ? in->category_en : "";
  row->kind = (char *)tally_kind_name(in->kind);
  row->decimals = (uint32_t)in->decimals;
  row->has_value = r->has_value;
  row->value = r->value;
  row->has_numerator = r->has_numerator;
  row->numerator = r->numerator;
  row->has_denominator = r->has_denominator;
  row->denominator = r->denominator;
  row->units_counted = (uint32_t)r->units_counted;
  row->units_expected = (uint32_t)r->units_expected;
  row->has_previous = r->has_previous;
  row->previous = r->previous;
  row->has_gap = r->has_gap;
  row->gap = r->gap;
  row->has_needed = r->has_needed;
  row->needed_per_year = r->needed_per_year;
  row->higher_is_better = in->higher_is_better;
  row->has_interval = r->has_interval;
  row->lower = r->lower;
  row->upper = r->upper;
  row->interval_method = (char *)(r->interval_method ? r->interval_method : "");
  row->change_compared = (Tally__Compare)r->change_compared;
  if (in->kind == TALLY_KIND_MILESTONE && r->has_value) {
    const tally_level *l =
        tally_element_level(&cat->elements[in->element], r->level);
    row->level = l ? tally_arena_printf(a, "%s (%s)", l->zh, l->en) : "";
  } else {
    row->level = "";
  }
  tally_target_text(cat, i, r->target, target, sizeof target);
  row->target = tally_arena_strdup(a, target);
  row->status = (Tally__Status)r->status;
  row->note = tally_arena_strdup(a, r->note);
  if (!row->target || !row->note || !row->level)
    return -ENOMEM;
  return fill_track(cat, i, r, a, row);
}

int tally_report_build(const tally_catalog *cat, tally_store_txn *txn,
                       const tally_report_targets *targets,
                       const tally_period *period, int scope,
                       const tally_report_filter *filter, tally_arena *a,
                       Tally__ReportReply **out) {
  struct store_source src;
  char ptext[TALLY_PERIOD_STRLEN];
  Tally__ReportReply *rep;
  int rc;

  source_init(&src, cat, txn, targets);
  src.rows.src.name_missing = filter && filter->name_missing;
  if (filter && filter->as_approved) {
    tally_rows_as_approved(&src.rows, filter->at);
    src.rows.src.kept = NULL; /* the kept sums are the live figures' */
    src.rows.src.approved = 1;
  }
  rc = -ENOMEM;
  rep = tally_arena_alloc(a, sizeof *rep);
  if (rep == NULL)
    goto out;
  tally__report_reply__init(rep);
  rep->period = tally_arena_strdup(a, tally_period_format(period, ptext));
  rep->unit = cat->units[scope].code;
  rep->unit_name_zh = cat->units[scope].name_zh;
  rep->unit_name_en = cat->units[scope].name_en;
  rep->rows = tally_arena_alloc(a, cat->n_indicators * sizeof *rep->rows);
  if (rep->rows == NULL || rep->period == NULL)
    goto out;
  for (size_t i = 0; i < cat->n_indicators; i++) {
    const tally_indicator *in = &cat->indicators[i];
    tally_result r;
    if (filter && filter->indicator >= 0 && (int)i != filter->indicator)
      continue;
    if (filter && filter->plan >= 0 && in->plan != filter->plan)
      continue;
    Tally__ReportRow *row = tally_arena_alloc(a, sizeof *row);
    if (row == NULL)
      goto out;
    if ((rc = tally_indicator_compute(cat, (int)i, &src.rows.src, scope, period,
                                      &r)) != 0 ||
        (rc = fill_row(cat, (int)i, &r, a, row)) != 0)
      goto out;
    rc = -ENOMEM;
    rep->rows[rep->n_rows++] = row;
  }
  *out = rep;
  rc = 0;
out:
  source_free(&src);
  return rc;
}

int tally_report_explain(const tally_catalog *cat, tally_store_txn *txn,
                         const tally_report_targets *targets,
                         const tally_period *period, int scope, int ind,
                         tally_arena *a, Tally__ExplainReply **out) {
  struct store_source src;
  tally_result r, scope_r;
  Tally__ExplainReply *rep = tally_arena_alloc(a, sizeof *rep);
  Tally__ReportRow *total = tally_arena_alloc(a, sizeof *total);
  int rc = -ENOMEM, units[1];
  char ptext[TALLY_PERIOD_STRLEN];

  source_init(&src, cat, txn, targets);
  if (rep == NULL || total == NULL)
    goto out;
  tally__explain_reply__init(rep);
  rep->period = tally_arena_strdup(a, tally_period_format(period, ptext));
  rep->unit = cat->units[scope].code;
  rep->formula = (char *)tally_indicator_formula(cat, ind, a);
  if (rep->period == NULL || rep->formula == NULL)
    goto out;
  if ((rc = tally_indicator_compute(cat, ind, &src.rows.src, scope, period, &r)) !=
          0 ||
      (rc = fill_row(cat, ind, &r, a, total)) != 0)
    goto out;
  rc = -ENOMEM;
  rep->total = total;
  scope_r = r;

  /* Each reporting unit's own sums and value. */
  int n = tally_indicator_units(cat, ind, scope, units, 0);
  int *list = tally_arena_alloc(a, (size_t)(n ? n : 1) * sizeof *list);
  rep->units = tally_arena_alloc(a, (size_t)(n ? n : 1) * sizeof *rep->units);
  if (list == NULL || rep->units == NULL)
    goto out;
  tally_indicator_units(cat, ind, scope, list, n);
  for (int k = 0; k < n; k++) {
    Tally__ExplainUnit *u = tally_arena_alloc(a, sizeof *u);
    Tally__ReportRow *row = tally_arena_alloc(a, sizeof *row);
    if (u == NULL || row == NULL)
      goto out;
    tally__explain_unit__init(u);
    if ((rc = tally_indicator_compute(cat, ind, &src.rows.src, list[k], period,
                                      &r)) != 0 ||
        (rc = fill_row(cat, ind, &r, a, row)) != 0)
      goto out;
    rc = -ENOMEM;
    u->unit = cat->units[list[k]].code;
    u->name_zh = cat->units[list[k]].name_zh;
    u->name_en = cat->units[list[k]].name_en;
    u->row = row;
    u->reported = r.units_counted > 0;
    u->compared =
        (Tally__Compare)tally_indicator_against(cat, ind, &r, &scope_r);
    rep->units[rep->n_units++] = u;
  }
  *out = rep;
  rc = 0;
out:
  source_free(&src);
  return rc;
}

/* One series of a trend: ind for unit, a row a year. */
static int trend_series(const tally_catalog *cat, struct store_source *src,
                        int ind, int unit, int from, int to, tally_arena *a,
                        Tally__TrendSeries **out) {
  Tally__TrendSeries *ts = tally_arena_alloc(a, sizeof *ts);
  if (ts == NULL)
    return -ENOMEM;
  tally__trend_series__init(ts);
  ts->unit = cat->units[unit].code;
  ts->name_zh = cat->units[unit].name_zh;
  ts->name_en = cat->units[unit].name_en;
  ts->rows = tally_arena_alloc(a, (size_t)(to - from + 1) * sizeof *ts->rows);
  if (ts->rows == NULL)
    return -ENOMEM;
  for (int y = from; y <= to; y++) {
    tally_period p = {.year = y, .kind = TALLY_PERIOD_YEAR};
    tally_result r;
    Tally__ReportRow *row = tally_arena_alloc(a, sizeof *row);
    int rc;
    if (row == NULL)
      return -ENOMEM;
    if ((rc = tally_indicator_compute(cat, ind, &src->rows.src, unit, &p,
                                      &r)) != 0 ||
        (rc = fill_row(cat, ind, &r, a, row)) != 0)
      return rc;
    ts->rows[ts->n_rows++] = row;
  }
  *out = ts;
  return 0;
}

/* The units directly below scope that report, or have units that do. */
static int reporting_child(const tally_catalog *cat, int u) {
  return cat->units[u].leaves > 0;
}

int tally_report_trend(const tally_catalog *cat, tally_store_txn *txn,
                       const tally_report_targets *targets, int ind,
                       int scope, int from, int to, int units,
                       tally_arena *a, Tally__TrendReply **out) {
  struct store_source src;
  const tally_unit *s = &cat->units[scope];
  int rc = -ENOMEM;

  source_init(&src, cat, txn, targets);
  Tally__TrendReply *rep = tally_arena_alloc(a, sizeof *rep);
  if (rep == NULL)
    goto out;
  tally__trend_reply__init(rep);
  rep->indicator = cat->indicators[ind].code;
  rep->from_year = from;
  rep->to_year = to;
  if ((rc = trend_series(cat, &src, ind, scope, from, to, a, &rep->total)) != 0)
    goto out;
  /* The units' lines: of the indicators the units' figures make. */
  if (units && tally_indicator_kept(cat, ind) && s->n_children > 0) {
    rc = -ENOMEM;
    rep->units = tally_arena_alloc(a, (size_t)s->n_children * sizeof *rep->units);
    if (rep->units == NULL)
      goto out;
    for (int k = 0; k < s->n_children; k++) {
      if (!reporting_child(cat, s->children[k]))
        continue;
      if ((rc = trend_series(cat, &src, ind, s->children[k], from, to, a,
                             &rep->units[rep->n_units])) != 0)
        goto out;
      rep->n_units++;
    }
  }
  *out = rep;
  rc = 0;
out:
  source_free(&src);
  return rc;
}

int tally_report_matrix(const tally_catalog *cat, tally_store_txn *txn,
                        const tally_report_targets *targets,
                        const tally_period *period, int scope, int plan,
                        tally_arena *a, Tally__MatrixReply **out) {
  struct store_source src;
  const tally_unit *s = &cat->units[scope];
  char ptext[TALLY_PERIOD_STRLEN];
  tally_result *scope_r = NULL;
  int *inds = NULL, n = 0, rc = -ENOMEM;

  source_init(&src, cat, txn, targets);
  Tally__MatrixReply *rep = tally_arena_alloc(a, sizeof *rep);
  inds = malloc((cat->n_indicators + 1) * sizeof *inds);
  scope_r = malloc((cat->n_indicators + 1) * sizeof *scope_r);
  if (rep == NULL || inds == NULL || scope_r == NULL)
    goto out;
  tally__matrix_reply__init(rep);
  rep->period = tally_arena_strdup(a, tally_period_format(period, ptext));
  rep->unit = s->code;
  rep->rows = tally_arena_alloc(a, (cat->n_indicators + 1) * sizeof *rep->rows);
  rep->units = tally_arena_alloc(a, ((size_t)s->n_children + 1) *
                                        sizeof *rep->units);
  if (rep->period == NULL || rep->rows == NULL || rep->units == NULL)
    goto out;
  /* The scope's row of each indicator the units' figures make. */
  for (size_t i = 0; i < cat->n_indicators; i++) {
    if ((plan >= 0 && cat->indicators[i].plan != plan) ||
        !tally_indicator_kept(cat, (int)i))
      continue;
    Tally__ReportRow *row = tally_arena_alloc(a, sizeof *row);
    if (row == NULL)
      goto out;
    if ((rc = tally_indicator_compute(cat, (int)i, &src.rows.src, scope,
                                      period, &scope_r[n])) != 0 ||
        (rc = fill_row(cat, (int)i, &scope_r[n], a, row)) != 0)
      goto out;
    rc = -ENOMEM;
    rep->rows[rep->n_rows++] = row;
    inds[n++] = (int)i;
  }
  /* Each unit below it, against the targets and the scope's value. */
  for (int k = 0; k < s->n_children; k++) {
    int c = s->children[k];
    if (!reporting_child(cat, c))
      continue;
    Tally__MatrixUnit *mu = tally_arena_alloc(a, sizeof *mu);
    if (mu == NULL)
      goto out;
    tally__matrix_unit__init(mu);
    mu->unit = cat->units[c].code;
    mu->name_zh = cat->units[c].name_zh;
    mu->name_en = cat->units[c].name_en;
    mu->leaf = cat->units[c].is_leaf;
    mu->cells = tally_arena_alloc(a, ((size_t)n + 1) * sizeof *mu->cells);
    Tally__MatrixCell *cells = tally_arena_alloc(a, ((size_t)n + 1) * sizeof *cells);
    if (mu->cells == NULL || cells == NULL)
      goto out;
    for (int j = 0; j < n; j++) {
      tally_result r;
      Tally__MatrixCell *cell = &cells[j];
      if ((rc = tally_indicator_compute(cat, inds[j], &src.rows.src, c,
                                        period, &r)) != 0)
        goto out;
      rc = -ENOMEM;
      tally__matrix_cell__init(cell);
      cell->has_value = r.has_value;
      cell->value = r.value;
      cell->status = (Tally__Status)r.status;
      cell->compared = (Tally__Compare)tally_indicator_against(
          cat, inds[j], &r, &scope_r[j]);
      cell->has_interval = r.has_interval;
      cell->lower = r.lower;
      cell->upper = r.upper;
      cell->units_counted = (uint32_t)r.units_counted;
      cell->units_expected = (uint32_t)r.units_expected;
      mu->cells[mu->n_cells++] = cell;
    }
    rep->units[rep->n_units++] = mu;
  }
  *out = rep;
  rc = 0;
out:
  free(inds);
  free(scope_r);
  source_free(&src);
  return rc;
}

int tally_report_completeness(const tally_catalog *cat, tally_store_txn *txn,
                              const tally_period *period, int scope,
                              int counts_only, tally_arena *a,
                              Tally__CompletenessReply **out) {
  char ptext[TALLY_PERIOD_STRLEN];
  tally_rows rows;
  int rc = -ENOMEM;

  tally_rows_init(&rows, cat, txn);
  Tally__CompletenessReply *rep = tally_arena_alloc(a, sizeof *rep);
  if (rep == NULL)
    goto out;
  tally__completeness_reply__init(rep);
  rep->period = tally_arena_strdup(a, tally_period_format(period, ptext));
  rep->unit = cat->units[scope].code;
  rep->units = tally_arena_alloc(a, (cat->n_units + 1) * sizeof *rep->units);
  if (rep->units == NULL || rep->period == NULL)
    goto out;
  rep->elements_total = (uint32_t)cat->n_elements;

  /* Every reporting unit in scope, and the root for what it reports. */
  for (size_t u = 0; u < cat->n_units; u++) {
    int is_root = (int)u == cat->root;
    if (!(cat->units[u].is_leaf || is_root) ||
        !tally_catalog_unit_within(cat, (int)u, scope))
      continue;
    Tally__UnitCompleteness *uc = tally_arena_alloc(a, sizeof *uc);
    if (uc == NULL)
      goto out;
    tally__unit_completeness__init(uc);
    uc->unit = cat->units[u].code;
    uc->name_zh = cat->units[u].name_zh;
    uc->name_en = cat->units[u].name_en;
    uc->missing = counts_only ? NULL
                              : tally_arena_alloc(a, (cat->n_elements + 1) *
                                                         sizeof(char *));
    if (uc->missing == NULL && !counts_only)
      goto out;
    const double *value;
    const unsigned char *has;
    if ((rc = tally_rows_read(&rows, (int)u, period, &value, &has)) != 0)
      goto out;
    rc = -ENOMEM;
    for (size_t e = 0; e < cat->n_elements; e++) {
      if (cat->elements[e].district_only != is_root)
        continue;
      uc->expected++;
      if (has[e])
        uc->reported++;
      else if (!counts_only)
        uc->missing[uc->n_missing++] = cat->elements[e].code;
    }
    if (uc->expected == 0)
      continue; /* a root that reports nothing of its own */
    if (uc->reported == uc->expected)
      rep->complete++;
    else if (uc->reported == 0)
      rep->none++;
    else
      rep->partial++;
    rep->units[rep->n_units++] = uc;
  }
  *out = rep;
  rc = 0;
out:
  tally_rows_free(&rows);
  return rc;
}
