#include "report.h"

#include "error.h"
#include "indicator.h"

#include <errno.h>
#include <stdio.h>

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

static char *target_text(tally_arena *a, const tally_target *t) {
  if (t == NULL)
    return "";
  return tally_arena_printf(a, "%s %g (%d)", tally_op_text(t->op), t->value,
                            t->year);
}

static int fill_row(const tally_catalog *cat, int i, const tally_result *r,
                    tally_arena *a, Tally__ReportRow *row) {
  const tally_indicator *in = &cat->indicators[i];
  tally__report_row__init(row);
  row->code = in->code;
  row->name_zh = in->name_zh;
  row->name_en = in->name_en;
  row->unit = in->unit;
  row->plan = cat->plans[in->plan].code;
  row->decimals = (uint32_t)in->decimals;
  row->kind = in->kind == TALLY_KIND_RATIO ? "ratio" : "total";
  row->has_value = r->has_value;
  row->value = r->value;
  row->has_numerator = r->has_numerator;
  row->numerator = r->numerator;
  row->has_denominator = r->has_denominator;
  row->denominator = r->denominator;
  row->units_counted = (uint32_t)r->units_counted;
  row->units_expected = (uint32_t)r->units_expected;
  row->target = target_text(a, r->target);
  row->status = (Tally__Status)r->status;
  row->note = tally_arena_strdup(a, r->note);
  return row->target && row->note ? 0 : -ENOMEM;
}

int tally_report_build(const tally_catalog *cat, tally_store *store,
                       const tally_period *period, int scope, int ind,
                       tally_arena *a, Tally__ReportReply **out) {
  tally_figures fig;
  struct load_ctx lc = {cat, &fig};
  char ptext[TALLY_PERIOD_STRLEN];
  Tally__ReportReply *rep;
  int rc;

  if ((rc = tally_figures_init(&fig, cat)) != 0)
    return rc;
  rc = tally_store_scan(store, tally_period_key(period), NULL, load_value, &lc);
  if (rc != 0)
    goto out;

  rc = -ENOMEM;
  rep = tally_arena_alloc(a, sizeof *rep);
  if (rep == NULL)
    goto out;
  tally__report_reply__init(rep);
  rep->period = tally_arena_strdup(a, tally_period_format(period, ptext));
  rep->unit = cat->units[scope].code;
  rep->unit_name_zh = cat->units[scope].name_zh;
  rep->unit_name_en = cat->units[scope].name_en;
  size_t n = ind >= 0 ? 1 : cat->n_indicators;
  rep->rows = tally_arena_alloc(a, n * sizeof *rep->rows);
  if (rep->rows == NULL || rep->period == NULL)
    goto out;
  for (size_t i = 0; i < cat->n_indicators; i++) {
    tally_result r;
    if (ind >= 0 && (int)i != ind)
      continue;
    Tally__ReportRow *row = tally_arena_alloc(a, sizeof *row);
    if (row == NULL)
      goto out;
    tally_indicator_compute(cat, (int)i, &fig, scope, period, &r);
    if (fill_row(cat, (int)i, &r, a, row) != 0)
      goto out;
    rep->rows[rep->n_rows++] = row;
  }
  *out = rep;
  rc = 0;
out:
  tally_figures_free(&fig);
  return rc;
}
