/* catalog.c: load and check the catalog (JSON, read with jansson).
 *
 * Every entry is unpacked with a strict format, so an unknown or
 * misspelt key is an error rather than silently ignored. The strings in
 * the structures are borrowed from the parsed document, which the
 * catalog keeps until tally_catalog_free().
 */
#include "catalog.h"

#include "error.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CATALOG_FORMAT "tally-catalog/1"

struct loader {
  const char *origin;
  char *err;
  size_t errlen;
  tally_catalog *cat;
  json_t *doc;
};

/* Formats "ORIGIN: ENTRY: PROBLEM" into the loader's message buffer.
 * Returns TALLY_ECATALOG so callers can `return fail(...)`. */
__attribute__((format(printf, 3, 4))) static int
fail(struct loader *ld, const char *entry, const char *fmt, ...) {
  char problem[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(problem, sizeof problem, fmt, ap);
  va_end(ap);
  if (ld->err && ld->errlen)
    snprintf(ld->err, ld->errlen, "%s: %s: %s", ld->origin, entry, problem);
  return TALLY_ECATALOG;
}

static int code_ok(const char *s, int upper) {
  size_t n = strlen(s);
  if (n == 0 || n > TALLY_CODE_MAX)
    return 0;
  if (upper ? !(s[0] >= 'A' && s[0] <= 'Z') : !(s[0] >= 'a' && s[0] <= 'z'))
    return 0;
  for (size_t i = 1; i < n; i++) {
    char c = s[i];
    int ok = (c >= '0' && c <= '9') || c == '_' ||
             (upper ? (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                    : (c >= 'a' && c <= 'z'));
    if (!ok)
      return 0;
  }
  return 1;
}

static const char *describe(char *buf, size_t n, const char *what,
                            size_t index, const char *code) {
  if (code)
    snprintf(buf, n, "%s %s", what, code);
  else
    snprintf(buf, n, "%s #%zu", what, index + 1);
  return buf;
}

/* The code of entry i before it is unpacked, for messages. */
static const char *peek_code(json_t *entry) {
  json_t *c = json_object_get(entry, "code");
  return json_is_string(c) ? json_string_value(c) : NULL;
}

static int array_field(struct loader *ld, const char *key, json_t **out) {
  json_t *a = json_object_get(ld->doc, key);
  if (!json_is_array(a) || json_array_size(a) == 0)
    return fail(ld, key, "must be a non-empty array");
  *out = a;
  return 0;
}

/* A code and its position, sorted by code: lookups are binary searches,
 * so a catalog of many thousands of units stays fast. */
struct tally_code_ref {
  const char *code;
  int index;
};

static int ref_cmp(const void *a, const void *b) {
  const struct tally_code_ref *x = a, *y = b;
  int c = strcmp(x->code, y->code);
  return c ? c : x->index - y->index;
}

static const char *unit_code(const tally_catalog *c, size_t i) {
  return c->units[i].code;
}
static const char *element_code(const tally_catalog *c, size_t i) {
  return c->elements[i].code;
}
static const char *indicator_code(const tally_catalog *c, size_t i) {
  return c->indicators[i].code;
}

/* Builds the sorted index of n codes into *out. A code used twice is an
 * error naming its later entry. */
static int index_codes(struct loader *ld, size_t n,
                       const char *(*code_at)(const tally_catalog *, size_t),
                       const char *what, struct tally_code_ref **out) {
  struct tally_code_ref *idx = calloc(n ? n : 1, sizeof *idx);
  char who[96];
  if (idx == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < n; i++) {
    idx[i].code = code_at(ld->cat, i);
    idx[i].index = (int)i;
  }
  qsort(idx, n, sizeof *idx, ref_cmp);
  *out = idx;
  for (size_t i = 1; i < n; i++)
    if (strcmp(idx[i - 1].code, idx[i].code) == 0) {
      snprintf(who, sizeof who, "%s %s", what, idx[i].code);
      return fail(ld, who, "duplicate %s code", what);
    }
  return 0;
}

static int find_code(const struct tally_code_ref *idx, size_t n,
                     const char *code) {
  size_t lo = 0, hi = idx ? n : 0;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(idx[mid].code, code);
    if (c == 0)
      return idx[mid].index;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

static int load_units(struct loader *ld) {
  tally_catalog *cat = ld->cat;
  json_t *arr, *u;
  size_t i;
  int rc;
  char who[96];

  if ((rc = array_field(ld, "units", &arr)) != 0)
    return rc;
  cat->n_units = json_array_size(arr);
  cat->units = calloc(cat->n_units, sizeof *cat->units);
  if (cat->units == NULL)
    return -ENOMEM;
  const char **parents = calloc(cat->n_units, sizeof *parents);
  if (parents == NULL)
    return -ENOMEM;

  rc = 0;
  json_array_foreach(arr, i, u) {
    tally_unit *t = &cat->units[i];
    const char *role = NULL;
    json_error_t e;
    describe(who, sizeof who, "unit", i, peek_code(u));
    if (json_unpack_ex(u, &e, JSON_STRICT, "{s:s, s:s, s:s, s:s, s?s, s?s}",
                       "code", &t->code, "name_zh", &t->name_zh, "name_en",
                       &t->name_en, "level", &t->level, "parent", &parents[i],
                       "role", &role) != 0) {
      rc = fail(ld, who, "%s", e.text);
      goto out;
    }
    if (!code_ok(t->code, 0)) {
      rc = fail(ld, who, "code must be 1-%d characters of a-z, 0-9 and _, "
                "starting with a letter", TALLY_CODE_MAX);
      goto out;
    }
  }
  if ((rc = index_codes(ld, cat->n_units, unit_code, "unit",
                        &cat->unit_index)) != 0)
    goto out;

  cat->root = -1;
  for (i = 0; i < cat->n_units; i++) {
    tally_unit *t = &cat->units[i];
    describe(who, sizeof who, "unit", i, t->code);
    t->is_leaf = 1;
    if (parents[i] == NULL) {
      if (cat->root >= 0) {
        rc = fail(ld, who, "has no parent, but unit %s is already the root",
                  cat->units[cat->root].code);
        goto out;
      }
      cat->root = (int)i;
      t->parent = -1;
      continue;
    }
    t->parent = tally_catalog_unit(cat, parents[i]);
    if (t->parent < 0) {
      rc = fail(ld, who, "parent '%s' is not a unit of the catalog",
                parents[i]);
      goto out;
    }
  }
  if (cat->root < 0) {
    rc = fail(ld, "units", "no root unit (one unit must have no parent)");
    goto out;
  }
  for (i = 0; i < cat->n_units; i++) {
    /* A chain longer than the number of units has a cycle. */
    size_t steps = 0;
    for (int p = cat->units[i].parent; p >= 0; p = cat->units[p].parent)
      if (++steps > cat->n_units) {
        rc = fail(ld, describe(who, sizeof who, "unit", i, cat->units[i].code),
                  "its parents form a cycle");
        goto out;
      }
    if (cat->units[i].parent >= 0)
      cat->units[cat->units[i].parent].is_leaf = 0;
  }
out:
  free(parents);
  return rc;
}

static int load_plans(struct loader *ld) {
  tally_catalog *cat = ld->cat;
  json_t *arr, *p;
  size_t i;
  int rc;
  char who[96];

  if ((rc = array_field(ld, "plans", &arr)) != 0)
    return rc;
  cat->n_plans = json_array_size(arr);
  cat->plans = calloc(cat->n_plans, sizeof *cat->plans);
  if (cat->plans == NULL)
    return -ENOMEM;
  json_array_foreach(arr, i, p) {
    tally_plan *t = &cat->plans[i];
    const char *source = NULL;
    json_error_t e;
    describe(who, sizeof who, "plan", i, peek_code(p));
    if (json_unpack_ex(p, &e, JSON_STRICT, "{s:s, s:s, s:s, s:i, s?s}",
                       "code", &t->code, "name_zh", &t->name_zh, "name_en",
                       &t->name_en, "start_year", &t->start_year, "source",
                       &source) != 0)
      return fail(ld, who, "%s", e.text);
    if (!code_ok(t->code, 0))
      return fail(ld, who, "code must be lower-case letters, digits and _");
    for (size_t j = 0; j < i; j++)
      if (strcmp(cat->plans[j].code, t->code) == 0)
        return fail(ld, who, "duplicate plan code");
  }
  return 0;
}

static int load_elements(struct loader *ld) {
  tally_catalog *cat = ld->cat;
  json_t *arr, *d;
  size_t i;
  int rc;
  char who[96];

  if ((rc = array_field(ld, "data_elements", &arr)) != 0)
    return rc;
  cat->n_elements = json_array_size(arr);
  cat->elements = calloc(cat->n_elements, sizeof *cat->elements);
  if (cat->elements == NULL)
    return -ENOMEM;
  json_array_foreach(arr, i, d) {
    tally_element *t = &cat->elements[i];
    const char *type, *by = "unit", *note = NULL;
    json_error_t e;
    describe(who, sizeof who, "data element", i, peek_code(d));
    if (json_unpack_ex(d, &e, JSON_STRICT,
                       "{s:s, s:s, s:s, s:s, s:s, s?s, s?s}", "code", &t->code,
                       "name_zh", &t->name_zh, "name_en", &t->name_en, "unit",
                       &t->unit, "type", &type, "reported_by", &by, "note",
                       &note) != 0)
      return fail(ld, who, "%s", e.text);
    if (!code_ok(t->code, 0))
      return fail(ld, who, "code must be 1-%d characters of a-z, 0-9 and _, "
                  "starting with a letter", TALLY_CODE_MAX);
    if (strcmp(type, "count") == 0)
      t->type = TALLY_ELEMENT_COUNT;
    else if (strcmp(type, "amount") == 0)
      t->type = TALLY_ELEMENT_AMOUNT;
    else
      return fail(ld, who, "type '%s' is not one of: count, amount", type);
    if (strcmp(by, "unit") == 0)
      t->district_only = 0;
    else if (strcmp(by, "district") == 0)
      t->district_only = 1;
    else
      return fail(ld, who, "reported_by '%s' is not one of: unit, district",
                  by);
  }
  return index_codes(ld, cat->n_elements, element_code, "data element",
                     &cat->element_index);
}

static int parse_op(const char *s, tally_op *op) {
  static const struct { const char *text; tally_op op; } ops[] = {
      {">=", TALLY_OP_GE}, {">", TALLY_OP_GT},
      {"<=", TALLY_OP_LE}, {"<", TALLY_OP_LT}};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(s, ops[i].text) == 0) {
      *op = ops[i].op;
      return 0;
    }
  return -1;
}

const char *tally_op_text(tally_op op) {
  switch (op) {
  case TALLY_OP_GE: return ">=";
  case TALLY_OP_GT: return ">";
  case TALLY_OP_LE: return "<=";
  case TALLY_OP_LT: return "<";
  }
  return "?";
}

static int load_targets(struct loader *ld, const char *who, json_t *arr,
                        tally_indicator *t) {
  json_t *x;
  size_t i;

  if (arr == NULL)
    return 0;
  if (!json_is_array(arr))
    return fail(ld, who, "targets must be an array");
  t->n_targets = json_array_size(arr);
  t->targets = calloc(t->n_targets ? t->n_targets : 1, sizeof *t->targets);
  if (t->targets == NULL)
    return -ENOMEM;
  json_array_foreach(arr, i, x) {
    tally_target *g = &t->targets[i];
    const char *op, *text = NULL;
    json_error_t e;
    if (json_unpack_ex(x, &e, JSON_STRICT, "{s:i, s:s, s:F, s?s}", "year",
                       &g->year, "op", &op, "value", &g->value, "text",
                       &text) != 0)
      return fail(ld, who, "target #%zu: %s", i + 1, e.text);
    if (parse_op(op, &g->op) != 0)
      return fail(ld, who, "target #%zu: op '%s' is not one of: >=, >, <=, <",
                  i + 1, op);
    if (!isfinite(g->value))
      return fail(ld, who, "target #%zu: value is not a finite number", i + 1);
    if (i > 0 && g->year <= t->targets[i - 1].year)
      return fail(ld, who, "target #%zu: years must ascend (%d after %d)",
                  i + 1, g->year, t->targets[i - 1].year);
  }
  return 0;
}

static int load_baselines(struct loader *ld, const char *who, json_t *arr,
                          tally_indicator *t) {
  json_t *x;
  size_t i;

  if (arr == NULL)
    return 0;
  if (!json_is_array(arr))
    return fail(ld, who, "baselines must be an array");
  t->n_baselines = json_array_size(arr);
  t->baselines =
      calloc(t->n_baselines ? t->n_baselines : 1, sizeof *t->baselines);
  if (t->baselines == NULL)
    return -ENOMEM;
  json_array_foreach(arr, i, x) {
    tally_baseline *b = &t->baselines[i];
    json_t *value = NULL;
    json_error_t e;
    if (json_unpack_ex(x, &e, JSON_STRICT, "{s:s, s?i, s?o, s?s}", "scope",
                       &b->scope, "year", &b->year, "value", &value, "text",
                       &b->text) != 0)
      return fail(ld, who, "baseline #%zu: %s", i + 1, e.text);
    if (value != NULL) {
      if (!json_is_number(value))
        return fail(ld, who, "baseline #%zu: value must be a number", i + 1);
      b->has_value = 1;
      b->value = json_number_value(value);
    } else if (b->text == NULL) {
      return fail(ld, who, "baseline #%zu: needs a value or a text", i + 1);
    }
  }
  return 0;
}

/* Resolves a data element code named by an indicator. */
static int element_ref(struct loader *ld, const char *who, const char *role,
                       const char *code, int *out) {
  if (code == NULL)
    return fail(ld, who, "kind needs a %s", role);
  *out = tally_catalog_element(ld->cat, code);
  if (*out < 0)
    return fail(ld, who, "%s '%s' is not a defined data element", role, code);
  return 0;
}

static int load_indicators(struct loader *ld) {
  tally_catalog *cat = ld->cat;
  json_t *arr, *d;
  size_t i;
  int rc;
  char who[96];

  if ((rc = array_field(ld, "indicators", &arr)) != 0)
    return rc;
  cat->n_indicators = json_array_size(arr);
  cat->indicators = calloc(cat->n_indicators, sizeof *cat->indicators);
  if (cat->indicators == NULL)
    return -ENOMEM;
  json_array_foreach(arr, i, d) {
    tally_indicator *t = &cat->indicators[i];
    const char *plan, *kind, *direction, *num = NULL, *den = NULL,
                                          *elem = NULL, *note = NULL;
    json_t *targets = NULL, *baselines = NULL;
    json_error_t e;
    int seq = 0;

    t->factor = 1;
    t->decimals = 2;
    describe(who, sizeof who, "indicator", i, peek_code(d));
    if (json_unpack_ex(
            d, &e, JSON_STRICT,
            "{s:s, s:s, s?i, s?s, s?s, s:s, s:s, s:s, s:s, s?s, s?s, s?s, "
            "s?F, s:s, s?i, s?s, s:s, s?o, s?o, s?s}",
            "code", &t->code, "plan", &plan, "seq", &seq, "category_zh",
            &t->category_zh, "category_en", &t->category_en, "name_zh",
            &t->name_zh, "name_en", &t->name_en, "unit", &t->unit, "kind",
            &kind, "numerator", &num, "denominator", &den, "element", &elem,
            "factor", &t->factor, "direction", &direction, "decimals",
            &t->decimals, "attribute", &t->attribute, "source", &t->source,
            "baselines", &baselines, "targets", &targets, "note", &note) != 0)
      return fail(ld, who, "%s", e.text);
    if (!code_ok(t->code, 1))
      return fail(ld, who, "code must start with a capital letter and hold "
                  "only letters, digits and _");
    t->plan = -1;
    for (size_t j = 0; j < cat->n_plans; j++)
      if (strcmp(cat->plans[j].code, plan) == 0)
        t->plan = (int)j;
    if (t->plan < 0)
      return fail(ld, who, "plan '%s' is not a plan of the catalog", plan);
    if (strcmp(direction, "up") == 0)
      t->higher_is_better = 1;
    else if (strcmp(direction, "down") == 0)
      t->higher_is_better = 0;
    else
      return fail(ld, who, "direction '%s' is not one of: up, down",
                  direction);
    if (!isfinite(t->factor) || t->factor <= 0)
      return fail(ld, who, "factor must be a positive number");
    if (t->decimals < 0 || t->decimals > 6)
      return fail(ld, who, "decimals must be 0-6");
    if (t->attribute && strcmp(t->attribute, "expected") != 0 &&
        strcmp(t->attribute, "binding") != 0)
      return fail(ld, who, "attribute '%s' is not one of: expected, binding",
                  t->attribute);

    t->numerator = t->denominator = -1;
    if (strcmp(kind, "ratio") == 0) {
      t->kind = TALLY_KIND_RATIO;
      if (elem)
        return fail(ld, who, "a ratio has a numerator and a denominator, "
                    "not an element");
      if ((rc = element_ref(ld, who, "numerator", num, &t->numerator)) != 0 ||
          (rc = element_ref(ld, who, "denominator", den, &t->denominator)) != 0)
        return rc;
      if (t->numerator == t->denominator)
        return fail(ld, who, "numerator and denominator are the same element");
    } else if (strcmp(kind, "total") == 0) {
      t->kind = TALLY_KIND_TOTAL;
      if (num || den)
        return fail(ld, who, "a total has an element, not a numerator or "
                    "denominator");
      if ((rc = element_ref(ld, who, "element", elem, &t->numerator)) != 0)
        return rc;
    } else {
      return fail(ld, who, "kind '%s' is not one of: ratio, total", kind);
    }
    if ((rc = load_targets(ld, who, targets, t)) != 0 ||
        (rc = load_baselines(ld, who, baselines, t)) != 0)
      return rc;
  }
  return index_codes(ld, cat->n_indicators, indicator_code, "indicator",
                     &cat->indicator_index);
}

int tally_catalog_load_buffer(const char *origin, const char *json, size_t len,
                              tally_catalog **out, char *err, size_t errlen) {
  struct loader ld = {origin, err, errlen, NULL, NULL};
  json_error_t e;
  const char *format = NULL;
  int rc;

  ld.doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e);
  if (ld.doc == NULL) {
    snprintf(err, errlen, "%s:%d:%d: %s", origin, e.line, e.column, e.text);
    return TALLY_ECATALOG;
  }
  ld.cat = calloc(1, sizeof *ld.cat);
  if (ld.cat == NULL) {
    json_decref(ld.doc);
    return -ENOMEM;
  }
  ld.cat->origin = strdup(origin);
  if (ld.cat->origin == NULL) {
    rc = -ENOMEM;
    goto err_after_alloc;
  }

  if (json_unpack_ex(ld.doc, &e, 0, "{s:s, s:s}", "format", &format, "name",
                     &ld.cat->name) != 0) {
    rc = fail(&ld, "top level", "%s", e.text);
    goto err_after_alloc;
  }
  if (strcmp(format, CATALOG_FORMAT) != 0) {
    rc = fail(&ld, "format", "'%s' is not '%s'", format, CATALOG_FORMAT);
    goto err_after_alloc;
  }
  {
    const char *key;
    json_t *v;
    static const char *const known[] = {"format", "name", "description",
                                        "units", "plans", "data_elements",
                                        "indicators"};
    json_object_foreach(ld.doc, key, v) {
      size_t k = 0;
      while (k < sizeof known / sizeof known[0] && strcmp(key, known[k]) != 0)
        k++;
      if (k == sizeof known / sizeof known[0]) {
        rc = fail(&ld, "top level", "unknown key '%s'", key);
        goto err_after_alloc;
      }
    }
  }
  if ((rc = load_units(&ld)) != 0 || (rc = load_plans(&ld)) != 0 ||
      (rc = load_elements(&ld)) != 0 || (rc = load_indicators(&ld)) != 0)
    goto err_after_alloc;

  ld.cat->doc = ld.doc;
  *out = ld.cat;
  return 0;

err_after_alloc:
  if (rc == -ENOMEM)
    snprintf(err, errlen, "%s: out of memory", origin);
  ld.cat->doc = ld.doc;
  tally_catalog_free(ld.cat);
  return rc;
}

int tally_catalog_load_file(const char *path, tally_catalog **out, char *err,
                            size_t errlen) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t len = 0, cap = 0;
  int rc;

  if (f == NULL) {
    rc = -errno;
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return rc;
  }
  for (;;) {
    if (len == cap) {
      char *grown = realloc(buf, cap = cap ? cap * 2 : 65536);
      if (grown == NULL) {
        rc = -ENOMEM;
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
      }
      buf = grown;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0)
      break;
  }
  if (ferror(f)) {
    rc = -EIO;
    snprintf(err, errlen, "%s: read error", path);
    goto out;
  }
  rc = tally_catalog_load_buffer(path, buf, len, out, err, errlen);
out:
  free(buf);
  fclose(f);
  return rc;
}

extern const char tally_catalog_builtin_json[];
extern const size_t tally_catalog_builtin_len;

int tally_catalog_load_builtin(tally_catalog **out, char *err, size_t errlen) {
  return tally_catalog_load_buffer("catalog/changqing.json (built in)",
                                   tally_catalog_builtin_json,
                                   tally_catalog_builtin_len, out, err, errlen);
}

void tally_catalog_free(tally_catalog *cat) {
  if (cat == NULL)
    return;
  for (size_t i = 0; i < cat->n_indicators; i++) {
    free(cat->indicators[i].targets);
    free(cat->indicators[i].baselines);
  }
  free(cat->unit_index);
  free(cat->element_index);
  free(cat->indicator_index);
  free(cat->indicators);
  free(cat->elements);
  free(cat->plans);
  free(cat->units);
  free(cat->origin);
  json_decref((json_t *)cat->doc);
  free(cat);
}

int tally_catalog_unit(const tally_catalog *cat, const char *code) {
  return find_code(cat->unit_index, cat->n_units, code);
}

int tally_catalog_element(const tally_catalog *cat, const char *code) {
  return find_code(cat->element_index, cat->n_elements, code);
}

int tally_catalog_indicator(const tally_catalog *cat, const char *code) {
  return find_code(cat->indicator_index, cat->n_indicators, code);
}

int tally_catalog_unit_within(const tally_catalog *cat, int unit, int scope) {
  for (int u = unit; u >= 0; u = cat->units[u].parent)
    if (u == scope)
      return 1;
  return 0;
}

int tally_catalog_leaf_count(const tally_catalog *cat, int scope) {
  int n = 0;
  for (size_t i = 0; i < cat->n_units; i++)
    if (cat->units[i].is_leaf && tally_catalog_unit_within(cat, (int)i, scope))
      n++;
  return n;
}
