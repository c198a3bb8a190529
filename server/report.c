/* report.c: reports, explanations and completeness, built from the
 * store through the indicator engine. */
#include "report.h"

#include "error.h"
#include "indicator.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A tally_source over the store: each period's figures are read with
 * one range scan, once per report. */
struct store_source {
  tally_source src;     /* first: the engine's view */
  const tally_catalog *cat;
  tally_store *store;
  struct cached {
    uint32_t key;
    tally_figures *fig; /* its own allocation: the engine holds pointers
                           to it while the cache grows */
  } *cache;            /* the periods read so far */
  int n, cap;
  const tally_report_targets *targets;
};

struct load_ctx {
  const tally_catalog *cat;
  tally_figures *fig;
};

/* Store visitor: places a stored value in the figures table. Values of
 * units or elements no longer in the catalog are left out. */
static int load_value(void *arg, const char *unit, const char *element,
                      double value, int64_t updated) {
  struct load_ctx *lc = arg;
  int u = tally_catalog_unit(lc->cat, unit);
  int e = tally_catalog_element(lc->cat, element);
  if (u >= 0 && e >= 0)
    tally_figures_set(lc->fig, u, e, value);
  return 0;
}

static const tally_figures *source_figures(tally_source *src,
                                           const tally_period *p) {
  struct store_source *s = (struct store_source *)src;
  uint32_t key = tally_period_key(p);
  for (int i = 0; i < s->n; i++)
    if (s->cache[i].key == key)
      return s->cache[i].fig;
  if (s->n == s->cap) {
    int cap = s->cap ? s->cap * 2 : 8;
    struct cached *grown = realloc(s->cache, (size_t)cap * sizeof *grown);
    if (grown == NULL)
      return NULL;
    s->cache = grown;
    s->cap = cap;
  }
  tally_figures *fig = malloc(sizeof *fig);
  if (fig == NULL)
    return NULL;
  if (tally_figures_init(fig, s->cat) != 0) {
    free(fig);
    return NULL;
  }
  struct load_ctx lc = {s->cat, fig};
  if (tally_store_scan(s->store, key, NULL, load_value, &lc) != 0) {
    tally_figures_free(fig);
    free(fig);
    return NULL;
  }
  s->cache[s->n].key = key;
  s->cache[s->n++].fig = fig;
  return fig;
}

static const tally_target *source_assigned(tally_source *src, int ind,
                                           int year) {
  struct store_source *s = (struct store_source *)src;
  return s->targets ? s->targets->find(s->targets, ind, year) : NULL;
}

static void source_init(struct store_source *s, const tally_catalog *cat,
                        tally_store *store, const tally_report_targets *t) {
  memset(s, 0, sizeof *s);
  s->src.figures = source_figures;
  s->src.assigned = source_assigned;
  s->cat = cat;
  s->store = store;
  s->targets = t;
}

static void source_free(struct store_source *s) {
  for (int i = 0; i < s->n; i++) {
    tally_figures_free(s->cache[i].fig);
    free(s->cache[i].fig);
  }
  free(s->cache);
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
  return row->target && row->note && row->level ? 0 : -ENOMEM;
}

int tally_report_build(const tally_catalog *cat, tally_store *store,
                       const tally_report_targets *targets,
                       const tally_period *period, int scope,
                       const tally_report_filter *filter, tally_arena *a,
                       Tally__ReportReply **out) {
  struct store_source src;
  char ptext[TALLY_PERIOD_STRLEN];
  Tally__ReportReply *rep;
  int rc = -ENOMEM;

  source_init(&src, cat, store, targets);
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
    if ((rc = tally_indicator_compute(cat, (int)i, &src.src, scope, period,
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

int tally_report_explain(const tally_catalog *cat, tally_store *store,
                         const tally_report_targets *targets,
                         const tally_period *period, int scope, int ind,
                         tally_arena *a, Tally__ExplainReply **out) {
  struct store_source src;
  tally_result r;
  Tally__ExplainReply *rep = tally_arena_alloc(a, sizeof *rep);
  Tally__ReportRow *total = tally_arena_alloc(a, sizeof *total);
  int rc = -ENOMEM, units[1];
  char ptext[TALLY_PERIOD_STRLEN];

  source_init(&src, cat, store, targets);
  if (rep == NULL || total == NULL)
    goto out;
  tally__explain_reply__init(rep);
  rep->period = tally_arena_strdup(a, tally_period_format(period, ptext));
  rep->unit = cat->units[scope].code;
  rep->formula = (char *)tally_indicator_formula(cat, ind, a);
  if (rep->period == NULL || rep->formula == NULL)
    goto out;
  if ((rc = tally_indicator_compute(cat, ind, &src.src, scope, period, &r)) !=
          0 ||
      (rc = fill_row(cat, ind, &r, a, total)) != 0)
    goto out;
  rc = -ENOMEM;
  rep->total = total;

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
    if ((rc = tally_indicator_compute(cat, ind, &src.src, list[k], period,
                                      &r)) != 0 ||
        (rc = fill_row(cat, ind, &r, a, row)) != 0)
      goto out;
    rc = -ENOMEM;
    u->unit = cat->units[list[k]].code;
    u->name_zh = cat->units[list[k]].name_zh;
    u->name_en = cat->units[list[k]].name_en;
    u->row = row;
    u->reported = r.units_counted > 0;
    rep->units[rep->n_units++] = u;
  }
  *out = rep;
  rc = 0;
out:
  source_free(&src);
  return rc;
}

int tally_report_completeness(const tally_catalog *cat, tally_store *store,
                              const tally_period *period, int scope,
                              tally_arena *a,
                              Tally__CompletenessReply **out) {
  struct store_source src;
  char ptext[TALLY_PERIOD_STRLEN];
  int rc = -ENOMEM;

  source_init(&src, cat, store, NULL);
  const tally_figures *f = source_figures(&src.src, period);
  Tally__CompletenessReply *rep = tally_arena_alloc(a, sizeof *rep);
  if (f == NULL || rep == NULL)
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
    uc->missing = tally_arena_alloc(a, (cat->n_elements + 1) * sizeof(char *));
    if (uc->missing == NULL)
      goto out;
    for (size_t e = 0; e < cat->n_elements; e++) {
      double v;
      if (cat->elements[e].district_only != is_root)
        continue;
      uc->expected++;
      if (tally_figures_get(f, (int)u, (int)e, &v))
        uc->reported++;
      else
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
  source_free(&src);
  return rc;
}
