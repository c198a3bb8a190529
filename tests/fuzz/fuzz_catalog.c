/* fuzz_catalog.c: the catalog loader (common/catalog.h).
 *
 * The input is catalog JSON. When it loads, every index between the
 * catalog's arrays must be in range, the unit tree must reach the root
 * from every unit, and each indicator must compute for the root without
 * reading out of bounds, with figures set for every unit and element.
 */
#include "catalog.h"
#include "indicator.h"
#include "period.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "fuzz_catalog: %s:%d: check failed: %s\n", __FILE__,    \
              __LINE__, #cond);                                               \
      abort();                                                                \
    }                                                                         \
  } while (0)

#define IN(i, n) ((i) >= 0 && (size_t)(i) < (n))

static void check_catalog(const tally_catalog *cat) {
  CHECK(cat->name != NULL);
  CHECK(cat->n_units > 0 && cat->n_elements > 0 && cat->n_plans > 0 &&
        cat->n_indicators > 0);
  CHECK(IN(cat->root, cat->n_units));
  CHECK(cat->units[cat->root].parent == -1);

  for (size_t i = 0; i < cat->n_units; i++) {
    const tally_unit *u = &cat->units[i];
    CHECK(u->code && u->name_zh && u->name_en && u->level);
    CHECK(tally_catalog_unit(cat, u->code) == (int)i);
    if ((int)i == cat->root)
      continue;
    CHECK(IN(u->parent, cat->n_units));
    CHECK(!cat->units[u->parent].is_leaf);
    CHECK(tally_catalog_unit_within(cat, (int)i, cat->root));
  }
  CHECK(cat->units[cat->root].leaves >= 1);

  for (size_t i = 0; i < cat->n_plans; i++)
    CHECK(cat->plans[i].code && cat->plans[i].name_zh && cat->plans[i].name_en);

  for (size_t i = 0; i < cat->n_elements; i++) {
    const tally_element *e = &cat->elements[i];
    CHECK(e->code && e->name_zh && e->name_en && e->unit);
    CHECK(e->type == TALLY_ELEMENT_COUNT || e->type == TALLY_ELEMENT_AMOUNT ||
          e->type == TALLY_ELEMENT_STATUS);
    if (e->type == TALLY_ELEMENT_STATUS)
      CHECK(e->n_levels > 0 && e->levels != NULL);
    CHECK(e->group == -1 || IN(e->group, cat->n_age_groups));
    CHECK(tally_catalog_element(cat, e->code) == (int)i);
  }

  for (size_t i = 0; i < cat->n_age_groups; i++) {
    const tally_age_groups *g = &cat->age_groups[i];
    CHECK(g->n > 0 && IN(g->first, cat->n_elements) &&
          (size_t)g->first + (size_t)g->n <= cat->n_elements);
    for (int k = 0; k < g->n; k++)
      CHECK(cat->elements[g->first + k].group == (int)i);
  }

  for (size_t i = 0; i < cat->n_indicators; i++) {
    const tally_indicator *in = &cat->indicators[i];
    CHECK(in->code && in->name_zh && in->name_en && in->unit);
    CHECK(tally_catalog_indicator(cat, in->code) == (int)i);
    CHECK(IN(in->plan, cat->n_plans));
    /* Element indexes: -1 where the kind uses none, else in range. */
    CHECK(in->numerator == -1 || IN(in->numerator, cat->n_elements));
    CHECK(in->denominator == -1 || IN(in->denominator, cat->n_elements));
    CHECK(in->element == -1 || IN(in->element, cat->n_elements));
    CHECK(in->weight == -1 || IN(in->weight, cat->n_elements));
    CHECK(in->births == -1 || IN(in->births, cat->n_elements));
    CHECK(in->deaths_groups == -1 ||
          IN(in->deaths_groups, cat->n_age_groups));
    CHECK(in->population_groups == -1 ||
          IN(in->population_groups, cat->n_age_groups));
    if (in->kind == TALLY_KIND_RATIO) {
      /* An element, or an element reported by age groups, all summed. */
      CHECK(IN(in->numerator, cat->n_elements) ||
            (in->numerator == -1 &&
             IN(in->numerator_groups, cat->n_age_groups)));
      CHECK(IN(in->denominator, cat->n_elements) ||
            (in->denominator == -1 &&
             IN(in->denominator_groups, cat->n_age_groups)));
      CHECK(in->numerator >= 0 ? in->denominator != in->numerator
                               : in->denominator >= 0 ||
                                     in->denominator_groups != in->numerator_groups);
    }
    CHECK(isfinite(in->factor) && in->factor > 0);
    CHECK(in->decimals >= 0 && in->decimals <= 6);
    CHECK(in->n_targets == 0 || in->targets != NULL);
    for (size_t t = 0; t < in->n_targets; t++) {
      CHECK(isfinite(in->targets[t].value));
      CHECK(t == 0 || in->targets[t].year > in->targets[t - 1].year);
    }
    CHECK(in->n_baselines == 0 || in->baselines != NULL);
    for (size_t b = 0; b < in->n_baselines; b++)
      CHECK(in->baselines[b].scope != NULL &&
            (in->baselines[b].has_value || in->baselines[b].text != NULL));
  }
}

/* Computes every indicator for the root, first with no figures, then
 * with a figure for every unit and element, the same in every period.
 * The figures come from a row callback of its own rather than a store:
 * a store opened for every input would slow the fuzzer down manyfold,
 * and the row reader (server/rows.c) is tested in tests/test_rows.c. */
struct same_rows {
  tally_source src;        /* first: the engine's view */
  const tally_catalog *cat;
  int pass;                /* 0: no figures; 1: unit + element */
  double *value[2];        /* the two rows the engine may hold */
  unsigned char *has;
  int next;                /* which of value to fill next */
};

static int same_row(tally_source *src, int unit, const tally_period *p,
                    const double **value, const unsigned char **has) {
  struct same_rows *r = (struct same_rows *)src;
  double *v = r->value[r->next];
  r->next ^= 1;
  for (size_t e = 0; e < r->cat->n_elements; e++)
    v[e] = (double)((size_t)unit + e);
  memset(r->has, r->pass, r->cat->n_elements ? r->cat->n_elements : 1);
  *value = v;
  *has = r->has;
  return 0;
}

static void compute_all(const tally_catalog *cat) {
  size_t n = cat->n_elements ? cat->n_elements : 1;
  struct same_rows rows = {.src = {.row = same_row}, .cat = cat};
  tally_period p = {2022, TALLY_PERIOD_YEAR, 0};
  tally_result r;

  rows.value[0] = malloc(n * sizeof(double));
  rows.value[1] = malloc(n * sizeof(double));
  rows.has = malloc(n);
  if (rows.value[0] && rows.value[1] && rows.has)
    for (rows.pass = 0; rows.pass < 2; rows.pass++)
      for (size_t i = 0; i < cat->n_indicators; i++) {
        tally_indicator_compute(cat, (int)i, &rows.src, cat->root, &p, &r);
        CHECK(memchr(r.note, 0, sizeof r.note) != NULL);
        CHECK(r.units_counted <= r.units_expected ||
              cat->indicators[i].kind == TALLY_KIND_MILESTONE);
        if (rows.pass == 0)
          CHECK(!r.has_value);
      }
  free(rows.value[0]);
  free(rows.value[1]);
  free(rows.has);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tally_catalog *cat = NULL;
  char err[512];

  /* A copy of exactly size bytes, so that a read past the end is seen. */
  char *json = malloc(size ? size : 1);
  if (json == NULL)
    return 0;
  memcpy(json, data, size);
  memset(err, 0x55, sizeof err);
  int rc = tally_catalog_load_buffer("fuzz.json", json, size, &cat, err,
                                     sizeof err);
  free(json);
  if (rc != 0) {
    CHECK(rc < 0);
    CHECK(memchr(err, 0, sizeof err) != NULL);
    CHECK(strncmp(err, "fuzz.json", 9) == 0);
    return 0;
  }
  CHECK(cat != NULL);
  check_catalog(cat);
  /* Keep the work per input bounded: a wide catalog is checked above. */
  if (cat->n_units * cat->n_elements <= 100000 && cat->n_units <= 2000)
    compute_all(cat);
  tally_catalog_free(cat);
  return 0;
}
