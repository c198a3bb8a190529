/* catalog.c: load and check the catalog (JSON, read with jansson).
 *
 * Every entry is unpacked with a strict format, so an unknown or
 * misspelt key is an error rather than silently ignored. The strings in
 * the structures are borrowed from the parsed document, which the
 * catalog keeps until tally_catalog_free().
 */
#include "catalog.h"
#include "catalog_impl.h"

#include "error.h"
#include "file.h"
#include "hash.h"
#include "kind.h"
#include "lifetable.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CATALOG_FORMAT "tally-catalog/1"

/* Formats "ORIGIN: ENTRY: PROBLEM" into the loader's message buffer.
 * Returns TALLY_ECATALOG so callers can return it. */
int tally__catalog_fail(struct loader *ld, const char *entry, const char *fmt,
                        ...) {
  char problem[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(problem, sizeof problem, fmt, ap);
  va_end(ap);
  if (ld->err && ld->errlen)
    snprintf(ld->err, ld->errlen, "%s: %s: %s", ld->origin, entry, problem);
  return TALLY_ECATALOG;
}

int tally__catalog_code_ok(const char *s, int upper) {
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

const char *tally__catalog_describe(char *buf, size_t n, const char *what,
                                    size_t index, const char *code) {
  if (code)
    snprintf(buf, n, "%s %s", what, code);
  else
    snprintf(buf, n, "%s #%zu", what, index + 1);
  return buf;
}

/* The code of entry i before it is unpacked, for messages. */
const char *tally__catalog_peek_code(json_t *entry) {
  json_t *c = json_object_get(entry, "code");
  return json_is_string(c) ? json_string_value(c) : NULL;
}

static int array_field(struct loader *ld, const char *key, json_t **out) {
  json_t *a = json_object_get(ld->doc, key);
  if (!json_is_array(a) || json_array_size(a) == 0)
    return tally__catalog_fail(ld, key, "must be a non-empty array");
  *out = a;
  return 0;
}

/* The codes of one kind (units, elements, indicators) in an open
 * addressing hash table: a lookup is a hash and, nearly always, one
 * strcmp, so a catalog of many thousands of units and a scan of
 * millions of rows stay fast. A slot holds its code and its position;
 * an empty slot has no code. */
struct tally_code_ref {
  const char *code;
  int index;
};

struct tally_code_index {
  size_t mask; /* slots - 1; slots a power of two, at least twice n */
  struct tally_code_ref slot[];
};

static size_t code_hash(const char *code) {
  uint64_t h = 14695981039346656037ull;
  for (const unsigned char *c = (const unsigned char *)code; *c; c++)
    h = (h ^ *c) * 1099511628211ull;
  return (size_t)(h ^ h >> 32);
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

/* Builds the index of n codes into *out. A code used twice is an
 * error naming its later entry. */
static int index_codes(struct loader *ld, size_t n,
                       const char *(*code_at)(const tally_catalog *, size_t),
                       const char *what, struct tally_code_index **out) {
  size_t slots = 16;
  while (slots < 2 * n)
    slots *= 2;
  struct tally_code_index *idx =
      calloc(1, sizeof *idx + slots * sizeof idx->slot[0]);
  char who[96];
  if (idx == NULL)
    return -ENOMEM;
  idx->mask = slots - 1;
  *out = idx;
  for (size_t i = 0; i < n; i++) {
    const char *code = code_at(ld->cat, i);
    size_t at = code_hash(code) & idx->mask;
    while (idx->slot[at].code && strcmp(idx->slot[at].code, code) != 0)
      at = (at + 1) & idx->mask;
    if (idx->slot[at].code) {
      snprintf(who, sizeof who, "%s %s", what, code);
      return tally__catalog_fail(ld, who, "duplicate %s code", what);
    }
    idx->slot[at] = (struct tally_code_ref){code, (int)i};
  }
  return 0;
}

static int find_code(const struct tally_code_index *idx, const char *code) {
  if (idx == NULL)
    return -1;
  for (size_t at = code_hash(code) & idx->mask; idx->slot[at].code;
       at = (at + 1) & idx->mask)
    if (strcmp(idx->slot[at].code, code) == 0)
      return idx->slot[at].index;
  return -1;
}

static int by_code(const void *a, const void *b) {
  return strcmp(((const struct tally_code_ref *)a)->code,
                ((const struct tally_code_ref *)b)->code);
}

/* The elements in the order of their codes, and each one's place. */
static int order_elements(tally_catalog *cat) {
  size_t n = cat->n_elements ? cat->n_elements : 1;
  struct tally_code_ref *ref = malloc(n * sizeof *ref);
  cat->element_by_code = tally_arena_alloc(&cat->arena, n * sizeof(int));
  cat->element_rank = tally_arena_alloc(&cat->arena, n * sizeof(int));
  if (ref == NULL || cat->element_by_code == NULL ||
      cat->element_rank == NULL) {
    free(ref);
    return -ENOMEM;
  }
  for (size_t i = 0; i < cat->n_elements; i++)
    ref[i] = (struct tally_code_ref){cat->elements[i].code, (int)i};
  qsort(ref, cat->n_elements, sizeof *ref, by_code);
  for (size_t i = 0; i < cat->n_elements; i++) {
    cat->element_by_code[i] = ref[i].index;
    cat->element_rank[ref[i].index] = (int)i;
  }
  free(ref);
  return 0;
}

/* Each unit's children, in catalog order, and its number of leaves. */
static int link_children(tally_catalog *cat) {
  int *all = tally_arena_alloc(&cat->arena,
                               (cat->n_units ? cat->n_units : 1) * sizeof *all);
  if (all == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < cat->n_units; i++) {
    cat->units[i].n_children = 0;
    cat->units[i].leaves = 0;
  }
  for (size_t i = 0; i < cat->n_units; i++)
    if (cat->units[i].parent >= 0)
      cat->units[cat->units[i].parent].n_children++;
  int next = 0;
  for (size_t i = 0; i < cat->n_units; i++) {
    cat->units[i].children = all + next;
    next += cat->units[i].n_children;
    cat->units[i].n_children = 0;
  }
  for (size_t i = 0; i < cat->n_units; i++) {
    tally_unit *t = &cat->units[i];
    if (t->parent >= 0) {
      tally_unit *p = &cat->units[t->parent];
      p->children[p->n_children++] = (int)i;
    }
    if (t->is_leaf)
      for (int u = (int)i; u >= 0; u = cat->units[u].parent)
        cat->units[u].leaves++;
  }
  return 0;
}

static int load_units(struct loader *ld) {
  tally_catalog *cat = ld->cat;
  json_t *arr = NULL, *u;
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
    tally__catalog_describe(who, sizeof who, "unit", i,
                            tally__catalog_peek_code(u));
    if (json_unpack_ex(u, &e, JSON_STRICT, "{s:s, s:s, s:s, s:s, s?s, s?s}",
                       "code", &t->code, "name_zh", &t->name_zh, "name_en",
                       &t->name_en, "level", &t->level, "parent", &parents[i],
                       "role", &role) != 0) {
      rc = tally__catalog_fail(ld, who, "%s", e.text);
      goto out;
    }
    if (!tally__catalog_code_ok(t->code, 0)) {
      rc =
          tally__catalog_fail(ld, who,
                              "code must be 1-%d characters of a-z, 0-9 and _, "
                              "starting with a letter",
                              TALLY_CODE_MAX);
      goto out;
    }
  }
  if ((rc = index_codes(ld, cat->n_units, unit_code, "unit",
                        &cat->unit_index)) != 0)
    goto out;

  cat->root = -1;
  for (i = 0; i < cat->n_units; i++) {
    tally_unit *t = &cat->units[i];
    tally__catalog_describe(who, sizeof who, "unit", i, t->code);
    t->is_leaf = 1;
    if (parents[i] == NULL) {
      if (cat->root >= 0) {
        rc = tally__catalog_fail(
            ld, who, "has no parent, but unit %s is already the root",
            cat->units[cat->root].code);
        goto out;
      }
      cat->root = (int)i;
      t->parent = -1;
      continue;
    }
    t->parent = tally_catalog_unit(cat, parents[i]);
    if (t->parent < 0) {
      rc = tally__catalog_fail(
          ld, who, "parent '%s' is not a unit of the catalog", parents[i]);
      goto out;
    }
  }
  if (cat->root < 0) {
    rc = tally__catalog_fail(ld, "units",
                             "no root unit (one unit must have no parent)");
    goto out;
  }
  for (i = 0; i < cat->n_units; i++) {
    /* A chain longer than the number of units has a cycle. */
    size_t steps = 0;
    for (int p = cat->units[i].parent; p >= 0; p = cat->units[p].parent)
      if (++steps > cat->n_units) {
        rc =
            tally__catalog_fail(ld,
                                tally__catalog_describe(who, sizeof who, "unit",
                                                        i, cat->units[i].code),
                                "its parents form a cycle");
        goto out;
      }
    if (cat->units[i].parent >= 0)
      cat->units[cat->units[i].parent].is_leaf = 0;
  }
  rc = link_children(cat);
out:
  free(parents);
  return rc;
}

/* "deadlines" (optional): {"year": "MM-DD" of the next year, "quarter":
 * days after it, "month": the day of the next month}; by default those
 * of the national health statistics reporting system: 20 January, the
 * 10th day, the 20th. */
static int load_deadlines(struct loader *ld) {
  tally_catalog *cat = ld->cat;
  json_t *d = json_object_get(ld->doc, "deadlines");
  const char *year = NULL;
  json_error_t e;
  cat->deadlines.year_month = 1;
  cat->deadlines.year_day = 20;
  cat->deadlines.quarter_days = 10;
  cat->deadlines.month_day = 20;
  if (d == NULL)
    return 0;
  if (json_unpack_ex(d, &e, JSON_STRICT, "{s?s, s?i, s?i}", "year", &year,
                     "quarter", &cat->deadlines.quarter_days, "month",
                     &cat->deadlines.month_day) != 0)
    return tally__catalog_fail(ld, "deadlines", "%s", e.text);
  if (year && (sscanf(year, "%2d-%2d", &cat->deadlines.year_month,
                      &cat->deadlines.year_day) != 2 ||
               cat->deadlines.year_month < 1 || cat->deadlines.year_month > 12 ||
               cat->deadlines.year_day < 1 || cat->deadlines.year_day > 28))
    return tally__catalog_fail(ld, "deadlines", "year is \"MM-DD\" of the "
                               "next year, a day 1-28 (\"01-20\")");
  if (cat->deadlines.quarter_days < 1 || cat->deadlines.quarter_days > 90 ||
      cat->deadlines.month_day < 1 || cat->deadlines.month_day > 28)
    return tally__catalog_fail(ld, "deadlines", "quarter is 1-90 days after "
                               "the quarter, month a day 1-28 of the next "
                               "month");
  return 0;
}

/* A plan's actions: numbered 1, 2, ... in order, each with its name and
 * its lead department. */
static int load_actions(struct loader *ld, const char *plan, json_t *arr,
                        tally_plan *t) {
  tally_catalog *cat = ld->cat;
  json_t *a;
  size_t i;
  char who[128];

  if (!json_is_array(arr) || json_array_size(arr) == 0)
    return tally__catalog_fail(ld, plan, "actions must be a non-empty array");
  t->n_actions = json_array_size(arr);
  t->actions = tally_arena_alloc(&cat->arena, t->n_actions * sizeof *t->actions);
  if (t->actions == NULL)
    return -ENOMEM;
  json_array_foreach(arr, i, a) {
    tally_action *x = &t->actions[i];
    json_error_t e;
    memset(x, 0, sizeof *x);
    snprintf(who, sizeof who, "%s: action #%zu", plan, i + 1);
    if (json_unpack_ex(a, &e, JSON_STRICT,
                       "{s:i, s:s, s:s, s?s, s?s, s:s, s:s}", "number",
                       &x->number, "name_zh", &x->name_zh, "name_en",
                       &x->name_en, "part_zh", &x->part_zh, "part_en",
                       &x->part_en, "lead_zh", &x->lead_zh, "lead_en",
                       &x->lead_en) != 0)
      return tally__catalog_fail(ld, who, "%s", e.text);
    if (x->number != (int)i + 1)
      return tally__catalog_fail(ld, who,
                                 "number is %d: the actions are numbered "
                                 "1, 2, ... in order",
                                 x->number);
    if (!*x->name_zh || !*x->name_en || !*x->lead_zh || !*x->lead_en)
      return tally__catalog_fail(ld, who,
                                 "name_zh, name_en, lead_zh and lead_en "
                                 "must not be empty");
    if ((x->part_zh == NULL) != (x->part_en == NULL))
      return tally__catalog_fail(ld, who,
                                 "part_zh and part_en go together");
  }
  return 0;
}

static int load_plans(struct loader *ld) {
  tally_catalog *cat = ld->cat;
  json_t *arr = NULL, *p;
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
    json_t *actions = NULL;
    json_error_t e;
    tally__catalog_describe(who, sizeof who, "plan", i,
                            tally__catalog_peek_code(p));
    if (json_unpack_ex(p, &e, JSON_STRICT, "{s:s, s:s, s:s, s:i, s?s, s?o}",
                       "code", &t->code, "name_zh", &t->name_zh, "name_en",
                       &t->name_en, "start_year", &t->start_year, "source",
                       &source, "actions", &actions) != 0)
      return tally__catalog_fail(ld, who, "%s", e.text);
    if (!tally__catalog_code_ok(t->code, 0))
      return tally__catalog_fail(
          ld, who, "code must be lower-case letters, digits and _");
    for (size_t j = 0; j < i; j++)
      if (strcmp(cat->plans[j].code, t->code) == 0)
        return tally__catalog_fail(ld, who, "duplicate plan code");
    if (actions && (rc = load_actions(ld, who, actions, t)) != 0)
      return rc;
  }
  return 0;
}

/* Parses an age-group label: "0", "A-B" or "A+". Returns 0 or
 * TALLY_ECATALOG. */
static int parse_age_group(const char *label, int *from, int *width) {
  char *end;
  long a = strtol(label, &end, 10);
  if (end == label || a < 0 || a > 150 || label[0] == '+' || label[0] == '-')
    return TALLY_ECATALOG;
  *from = (int)a;
  if (*end == 0) {
    *width = 1;
    return a == 0 ? 0 : TALLY_ECATALOG; /* a single year only for "0" */
  }
  if (end[0] == '+' && end[1] == 0) {
    *width = 0;
    return 0;
  }
  if (end[0] != '-')
    return TALLY_ECATALOG;
  const char *b = end + 1;
  long z = strtol(b, &end, 10);
  if (end == b || *end != 0 || z < a || z > 150)
    return TALLY_ECATALOG;
  *width = (int)(z - a + 1);
  return 0;
}

static int load_levels(struct loader *ld, const char *who, json_t *arr,
                       tally_element *t) {
  json_t *x;
  size_t i;
  if (!json_is_array(arr) || json_array_size(arr) < 2)
    return tally__catalog_fail(
        ld, who, "levels must be an array of at least two levels");
  t->n_levels = json_array_size(arr);
  t->levels = tally_arena_alloc(&ld->cat->arena, t->n_levels * sizeof *t->levels);
  if (t->levels == NULL)
    return -ENOMEM;
  json_array_foreach(arr, i, x) {
    tally_level *l = &t->levels[i];
    json_error_t e;
    if (json_unpack_ex(x, &e, JSON_STRICT, "{s:i, s:s, s:s}", "value",
                       &l->value, "zh", &l->zh, "en", &l->en) != 0)
      return tally__catalog_fail(ld, who, "level #%zu: %s", i + 1, e.text);
    if (i > 0 && l->value <= t->levels[i - 1].value)
      return tally__catalog_fail(ld, who, "level #%zu: values must ascend",
                                 i + 1);
  }
  return 0;
}

/* Counts the elements the catalog will have once age groups are
 * expanded, and the elements with age groups. */
static int count_elements(struct loader *ld, json_t *arr, size_t *n,
                          size_t *grouped) {
  json_t *d;
  size_t i;
  *n = *grouped = 0;
  json_array_foreach(arr, i, d) {
    json_t *groups = json_object_get(d, "age_groups");
    if (groups == NULL) {
      (*n)++;
      continue;
    }
    char who[96];
    tally__catalog_describe(who, sizeof who, "data element", i,
                            tally__catalog_peek_code(d));
    if (!json_is_array(groups) || json_array_size(groups) < 1 ||
        json_array_size(groups) > 64)
      return tally__catalog_fail(ld, who,
                                 "age_groups must be an array of 1-64 labels");
    *n += json_array_size(groups);
    (*grouped)++;
  }
  return 0;
}

/* Makes the elements of one age-grouped element: CODE.LABEL each. */
static int expand_groups(struct loader *ld, const char *who, json_t *groups,
                         const tally_element *base, size_t *next) {
  tally_catalog *cat = ld->cat;
  tally_age_groups *g = &cat->age_groups[cat->n_age_groups];
  json_t *x;
  size_t i;

  g->code = base->code;
  g->first = (int)*next;
  g->n = (int)json_array_size(groups);
  json_array_foreach(groups, i, x) {
    tally_element *t = &cat->elements[(*next)++];
    const char *label = json_string_value(x);
    *t = *base;
    if (label == NULL ||
        parse_age_group(label, &t->age_from, &t->age_width) != 0)
      return tally__catalog_fail(
          ld, who, "age group #%zu is not \"0\", \"A-B\" or \"A+\"", i + 1);
    if (i > 0) {
      const tally_element *prev = t - 1;
      if (prev->age_width == 0)
        return tally__catalog_fail(
            ld, who, "age group %s follows the open group", label);
      if (t->age_from != prev->age_from + prev->age_width)
        return tally__catalog_fail(
            ld, who, "age group %s does not follow %d-%d", label,
            prev->age_from, prev->age_from + prev->age_width - 1);
    }
    t->group = (int)cat->n_age_groups;
    t->code = tally_arena_printf(&cat->arena, "%s.%s", base->code, label);
    t->name_zh = tally_arena_printf(&cat->arena, "%s（%s岁）", base->name_zh,
                                    label);
    t->name_en = tally_arena_printf(&cat->arena, "%s, aged %s", base->name_en,
                                    label);
    if (t->code == NULL || t->name_zh == NULL || t->name_en == NULL)
      return -ENOMEM;
  }
  cat->n_age_groups++;
  return 0;
}

static int load_elements(struct loader *ld) {
  tally_catalog *cat = ld->cat;
  json_t *arr = NULL, *d;
  size_t i, n, grouped, next = 0;
  int rc;
  char who[96];

  if ((rc = array_field(ld, "data_elements", &arr)) != 0 ||
      (rc = count_elements(ld, arr, &n, &grouped)) != 0)
    return rc;
  cat->elements = tally_arena_alloc(&cat->arena, n * sizeof *cat->elements);
  cat->age_groups =
      tally_arena_alloc(&cat->arena, (grouped + 1) * sizeof *cat->age_groups);
  if (cat->elements == NULL || cat->age_groups == NULL)
    return -ENOMEM;
  json_array_foreach(arr, i, d) {
    tally_element t = {0};
    const char *type, *by = "unit", *note = NULL;
    json_t *groups = NULL, *levels = NULL;
    json_error_t e;
    tally__catalog_describe(who, sizeof who, "data element", i,
                            tally__catalog_peek_code(d));
    if (json_unpack_ex(d, &e, JSON_STRICT,
                       "{s:s, s:s, s:s, s:s, s?s, s:s, s?s, s?o, s?o, s?s}",
                       "code", &t.code, "name_zh", &t.name_zh, "name_en",
                       &t.name_en, "unit", &t.unit, "unit_zh", &t.unit_zh,
                       "type", &type, "reported_by", &by,
                       "age_groups", &groups, "levels", &levels, "note",
                       &note) != 0)
      return tally__catalog_fail(ld, who, "%s", e.text);
    if (!tally__catalog_code_ok(t.code, 0))
      return tally__catalog_fail(
          ld, who,
          "code must be 1-%d characters of a-z, 0-9 and _, "
          "starting with a letter",
          TALLY_CODE_MAX);
    if (strcmp(type, "count") == 0)
      t.type = TALLY_ELEMENT_COUNT;
    else if (strcmp(type, "amount") == 0)
      t.type = TALLY_ELEMENT_AMOUNT;
    else if (strcmp(type, "status") == 0)
      t.type = TALLY_ELEMENT_STATUS;
    else
      return tally__catalog_fail(
          ld, who, "type '%s' is not one of: count, amount, status", type);
    if (strcmp(by, "unit") == 0)
      t.district_only = 0;
    else if (strcmp(by, "district") == 0)
      t.district_only = 1;
    else
      return tally__catalog_fail(
          ld, who, "reported_by '%s' is not one of: unit, district", by);
    if ((t.type == TALLY_ELEMENT_STATUS) != (levels != NULL))
      return tally__catalog_fail(ld, who,
                                 "a status element has levels, and only it");
    if (levels && (rc = load_levels(ld, who, levels, &t)) != 0)
      return rc;
    t.group = -1;
    if (groups) {
      if (t.type == TALLY_ELEMENT_STATUS)
        return tally__catalog_fail(ld, who,
                                   "a status element has no age groups");
      if ((rc = expand_groups(ld, who, groups, &t, &next)) != 0)
        return rc;
    } else {
      cat->elements[next++] = t;
    }
  }
  cat->n_elements = next;
  if ((rc = index_codes(ld, cat->n_elements, element_code, "data element",
                        &cat->element_index)) != 0)
    return rc;
  return order_elements(cat);
}

static const struct {
  const char *text;
  tally_op op;
} ops[] = {
    {">=", TALLY_OP_GE},          {">", TALLY_OP_GT},
    {"<=", TALLY_OP_LE},          {"<", TALLY_OP_LT},
    {"about", TALLY_OP_ABOUT},    {"about<=", TALLY_OP_ABOUT_LE},
    {"about>=", TALLY_OP_ABOUT_GE}, {"change<=", TALLY_OP_CHANGE_LE},
    {"change>=", TALLY_OP_CHANGE_GE}, {"change<", TALLY_OP_CHANGE_LT},
    {"change>", TALLY_OP_CHANGE_GT},  {"text", TALLY_OP_TEXT},
    {"assigned", TALLY_OP_ASSIGNED}};

int tally_op_parse(const char *s, tally_op *op) {
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(s, ops[i].text) == 0) {
      *op = ops[i].op;
      return 0;
    }
  return TALLY_ENOTFOUND;
}

const char *tally_op_text(tally_op op) {
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (ops[i].op == op)
      return ops[i].text;
  return "?";
}

static int is_comparator(tally_op op) { return op <= TALLY_OP_LT; }

int tally_op_is_about(tally_op op) {
  return op == TALLY_OP_ABOUT || op == TALLY_OP_ABOUT_LE ||
         op == TALLY_OP_ABOUT_GE;
}

/* Reads one target, in a target list or as a unit_target. */
static int load_target(struct loader *ld, const char *who, const char *what,
                       json_t *x, int need_year, tally_target *g) {
  const char *op;
  json_t *value = NULL, *tolerance = NULL, *level = NULL;
  json_error_t e;

  if (json_unpack_ex(x, &e, JSON_STRICT, "{s?i, s:s, s?o, s?o, s?o, s?s}",
                     "year", &g->year, "op", &op, "value", &value, "tolerance",
                     &tolerance, "level", &level, "text", &g->text) != 0)
    return tally__catalog_fail(ld, who, "%s: %s", what, e.text);
  if (need_year && g->year == 0)
    return tally__catalog_fail(ld, who, "%s: needs a year", what);
  if (tally_op_parse(op, &g->op) != 0)
    return tally__catalog_fail(
        ld, who,
        "%s: op '%s' is not one of: >=, >, <=, <, about, about<=, "
        "about>=, change<=, change>=, change<, change>, text, assigned",
        what, op);
  if ((value && !json_is_number(value)) ||
      (tolerance && !json_is_number(tolerance)) ||
      (level && !json_is_integer(level)))
    return tally__catalog_fail(
        ld, who,
        "%s: value and tolerance are numbers, level a whole "
        "number",
        what);
  if (level) {
    if (!is_comparator(g->op) || value)
      return tally__catalog_fail(
          ld, who,
          "%s: a level goes with >=, >, <= or <, without a "
          "value",
          what);
    g->has_level = 1;
    g->value = (double)json_integer_value(level);
  } else if (g->op == TALLY_OP_TEXT || g->op == TALLY_OP_ASSIGNED) {
    if (value || tolerance)
      return tally__catalog_fail(ld, who, "%s: op %s takes no value", what, op);
    if (g->op == TALLY_OP_TEXT && g->text == NULL)
      return tally__catalog_fail(ld, who, "%s: op text needs the text", what);
  } else {
    if (value == NULL)
      return tally__catalog_fail(ld, who, "%s: op %s needs a value", what, op);
    g->value = json_number_value(value);
  }
  if (tally_op_is_about(g->op)) {
    if (tolerance == NULL || json_number_value(tolerance) < 0)
      return tally__catalog_fail(ld, who, "%s: %s needs a tolerance >= 0",
                                 what, op);
    g->tolerance = json_number_value(tolerance);
  } else if (tolerance) {
    return tally__catalog_fail(
        ld, who, "%s: only about, about<= and about>= take a tolerance", what);
  }
  if (!isfinite(g->value) || !isfinite(g->tolerance))
    return tally__catalog_fail(ld, who, "%s: value is not a finite number",
                               what);
  return 0;
}

static int load_targets(struct loader *ld, const char *who, json_t *arr,
                        tally_indicator *t) {
  json_t *x;
  size_t i;
  int rc;

  if (arr == NULL)
    return 0;
  if (!json_is_array(arr))
    return tally__catalog_fail(ld, who, "targets must be an array");
  t->n_targets = json_array_size(arr);
  t->targets = tally_arena_alloc(&ld->cat->arena,
                                 (t->n_targets + 1) * sizeof *t->targets);
  if (t->targets == NULL)
    return -ENOMEM;
  json_array_foreach(arr, i, x) {
    tally_target *g = &t->targets[i];
    char what[32];
    snprintf(what, sizeof what, "target #%zu", i + 1);
    if ((rc = load_target(ld, who, what, x, 1, g)) != 0)
      return rc;
    if (i > 0 && g->year <= t->targets[i - 1].year)
      return tally__catalog_fail(ld, who,
                                 "target #%zu: years must ascend (%d after %d)",
                                 i + 1, g->year, t->targets[i - 1].year);
    if (g->has_level != (t->kind == TALLY_KIND_MILESTONE) &&
        g->op != TALLY_OP_TEXT && g->op != TALLY_OP_ASSIGNED)
      return tally__catalog_fail(ld, who, "target #%zu: %s", i + 1,
                                 t->kind == TALLY_KIND_MILESTONE
                                     ? "a milestone's target is a level"
                                     : "a level is a milestone's target");
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
    return tally__catalog_fail(ld, who, "baselines must be an array");
  t->n_baselines = json_array_size(arr);
  t->baselines = tally_arena_alloc(&ld->cat->arena,
                                   (t->n_baselines + 1) * sizeof *t->baselines);
  if (t->baselines == NULL)
    return -ENOMEM;
  json_array_foreach(arr, i, x) {
    tally_baseline *b = &t->baselines[i];
    json_t *value = NULL;
    json_error_t e;
    if (json_unpack_ex(x, &e, JSON_STRICT, "{s:s, s?i, s?o, s?s}", "scope",
                       &b->scope, "year", &b->year, "value", &value, "text",
                       &b->text) != 0)
      return tally__catalog_fail(ld, who, "baseline #%zu: %s", i + 1, e.text);
    if (value != NULL) {
      if (!json_is_number(value))
        return tally__catalog_fail(
            ld, who, "baseline #%zu: value must be a number", i + 1);
      b->has_value = 1;
      b->value = json_number_value(value);
    } else if (b->text == NULL) {
      return tally__catalog_fail(
          ld, who, "baseline #%zu: needs a value or a text", i + 1);
    }
  }
  return 0;
}

/* The kinds' keys (kind.h), by shorter names. */
enum {
  K_NUM = TALLY_KEY_NUM, K_DEN = TALLY_KEY_DEN, K_ELEM = TALLY_KEY_ELEM,
  K_WEIGHT = TALLY_KEY_WEIGHT, K_BIRTHS = TALLY_KEY_BIRTHS,
  K_DEATHS = TALLY_KEY_DEATHS, K_POP = TALLY_KEY_POP,
  K_FACTOR = TALLY_KEY_FACTOR, K_BOUNDED = TALLY_KEY_BOUNDED,
  K_BASE = TALLY_KEY_BASE, K_FROM = TALLY_KEY_FROM,
  K_METHOD = TALLY_KEY_METHOD, K_PARAMS = TALLY_KEY_PARAMS,
  K_MINPOP = TALLY_KEY_MINPOP, K_UTARGET = TALLY_KEY_UTARGET
};
#define key_names tally_kind_keys

int tally_catalog_age_groups(const tally_catalog *cat, const char *code) {
  for (size_t i = 0; i < cat->n_age_groups; i++)
    if (strcmp(cat->age_groups[i].code, code) == 0)
      return (int)i;
  return -1;
}

const tally_level *tally_element_level(const tally_element *e, int value) {
  for (size_t i = 0; i < e->n_levels; i++)
    if (e->levels[i].value == value)
      return &e->levels[i];
  return NULL;
}

/* Resolves a data element code named by an indicator. */
static int element_ref(struct loader *ld, const char *who, const char *role,
                       const char *code, int *out) {
  *out = tally_catalog_element(ld->cat, code);
  if (*out < 0)
    return tally__catalog_fail(ld, who, "%s '%s' is not a defined data element",
                               role, code);
  if (ld->cat->elements[*out].type == TALLY_ELEMENT_STATUS)
    return tally__catalog_fail(ld, who, "%s '%s' is a status, not a figure",
                               role, code);
  return 0;
}

/* Resolves a ratio's numerator or denominator: a plain element (*out),
 * or an element reported by age groups, all of them summed (*groups).
 * Only the kinds that sum a ratio's two terms (ratio, unit_threshold)
 * take one by age groups. */
static int term_ref(struct loader *ld, const char *who, const char *role,
                    const char *code, tally_kind kind, int *out, int *groups) {
  int g = tally_catalog_age_groups(ld->cat, code);
  *groups = -1;
  if (g < 0)
    return element_ref(ld, who, role, code, out);
  if (kind != TALLY_KIND_RATIO && kind != TALLY_KIND_UNIT_THRESHOLD)
    return tally__catalog_fail(ld, who,
                               "%s '%s' is reported by age groups: only a "
                               "ratio sums them",
                               role, code);
  *out = -1;
  *groups = g;
  return 0;
}

/* Resolves an element reported by age groups. */
static int groups_ref(struct loader *ld, const char *who, const char *role,
                      const char *code, int *out) {
  *out = tally_catalog_age_groups(ld->cat, code);
  if (*out < 0)
    return tally__catalog_fail(
        ld, who, "%s '%s' is not a data element with age groups", role, code);
  return 0;
}

static const tally_element *group_element(const tally_catalog *cat, int g,
                                          int k) {
  return &cat->elements[cat->age_groups[g].first + k];
}

/* A life table's groups: 0, 1-4, then five-year groups, ending open. */
/* The label of group k of g: "85+" of "deaths.85+". */
static const char *group_label(const tally_catalog *cat, int g, int k) {
  const char *code = group_element(cat, g, k)->code, *dot = strchr(code, '.');
  return dot ? dot + 1 : code;
}

static int check_life_table_groups(struct loader *ld, const char *who, int g) {
  const tally_catalog *cat = ld->cat;
  int n = cat->age_groups[g].n;
  if (n < 3 || group_element(cat, g, 0)->age_from != 0 ||
      group_element(cat, g, 0)->age_width != 1 ||
      group_element(cat, g, 1)->age_width != 4 ||
      group_element(cat, g, n - 1)->age_width != 0)
    return tally__catalog_fail(
        ld, who,
        "life-table groups must be 0, 1-4, 5-9, ... ending "
        "with an open group such as 85+");
  for (int k = 2; k < n - 1; k++)
    if (group_element(cat, g, k)->age_width != 5)
      return tally__catalog_fail(
          ld, who, "life-table groups after 1-4 are five years wide");
  return 0;
}

/* Premature mortality: deaths in 30-34 ... 65-69, and a population
 * element that has each of those groups. */
static int check_sdg_groups(struct loader *ld, const char *who, int deaths,
                            int pop) {
  const tally_catalog *cat = ld->cat;
  if (cat->age_groups[deaths].n != TALLY_SDG341_GROUPS)
    return tally__catalog_fail(ld, who,
                               "deaths must be by the groups 30-34 ... 65-69");
  for (int k = 0; k < TALLY_SDG341_GROUPS; k++) {
    const tally_element *d = group_element(cat, deaths, k);
    if (d->age_from != 30 + 5 * k || d->age_width != 5)
      return tally__catalog_fail(
          ld, who, "deaths must be by the groups 30-34 ... 65-69");
    int found = 0;
    for (int j = 0; j < cat->age_groups[pop].n; j++) {
      const tally_element *p = group_element(cat, pop, j);
      found |= p->age_from == d->age_from && p->age_width == 5;
    }
    if (!found)
      return tally__catalog_fail(ld, who, "population has no group %d-%d",
                                 d->age_from, d->age_from + 4);
  }
  return 0;
}

/* params.nax (years) or params.a_by_group (Chiang's fractions of the
 * group's width), one of them, as {"GROUP": number, ...} over the closed
 * groups of the indicator's deaths: into t->nax, in years, NAN for the
 * groups not given. */
static int load_nax(struct loader *ld, const char *who, json_t *obj,
                    int fractions, tally_indicator *t) {
  const char *name = fractions ? "a_by_group" : "nax";
  const tally_age_groups *g = &ld->cat->age_groups[t->deaths_groups];
  const char *label;
  json_t *v;
  if (!json_is_object(obj))
    return tally__catalog_fail(ld, who,
                               "params: %s is an object of age groups and "
                               "numbers",
                               name);
  t->nax = tally_arena_alloc(&ld->cat->arena, (size_t)g->n * sizeof *t->nax);
  if (t->nax == NULL)
    return -ENOMEM;
  for (int k = 0; k < g->n; k++)
    t->nax[k] = NAN;
  json_object_foreach(obj, label, v) {
    int k = 0;
    while (k < g->n &&
           strcmp(group_label(ld->cat, t->deaths_groups, k), label) != 0)
      k++;
    if (k == g->n)
      return tally__catalog_fail(ld, who,
                                 "params: %s: '%s' is no age group "
                                 "of %s",
                                 name, label, g->code);
    int width = ld->cat->elements[g->first + k].age_width;
    if (width == 0)
      return tally__catalog_fail(ld, who,
                                 "params: %s: the open group %s has no a (its "
                                 "L is l / M)",
                                 name, label);
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    if (!(x > 0 && x < (fractions ? 1 : width)))
      return tally__catalog_fail(
          ld, who,
          fractions ? "params: %s: %s is a fraction of the group, between 0 "
                      "and 1"
                    : "params: %s: %s is in years, between 0 and the "
                      "group's width",
          name, label);
    t->nax[k] = fractions ? x * width : x;
  }
  return 0;
}

static int load_params(struct loader *ld, const char *who, json_t *params,
                       tally_indicator *t) {
  json_t *a0 = NULL, *a = NULL, *nax = NULL, *fractions = NULL;
  const char *sex = "both", *q0 = "births";
  json_error_t e;
  int rc;
  t->nax = NULL;
  if (params &&
      json_unpack_ex(params, &e, JSON_STRICT, "{s?o, s?o, s?s, s?s, s?o, s?o}",
                     "a0", &a0, "a", &a, "sex", &sex, "q0", &q0, "nax", &nax,
                     "a_by_group", &fractions) != 0)
    return tally__catalog_fail(ld, who, "params: %s", e.text);
  if (nax && fractions)
    return tally__catalog_fail(ld, who,
                               "params: nax (years) or a_by_group "
                               "(fractions), not both");
  if ((nax || fractions) && (rc = load_nax(ld, who, nax ? nax : fractions,
                                           fractions != NULL, t)) != 0)
    return rc;
  if (strcmp(q0, "births") == 0)
    t->q0_population = 0;
  else if (strcmp(q0, "population") == 0)
    t->q0_population = 1;
  else
    return tally__catalog_fail(
        ld, who, "params: q0 '%s' is not one of: births, population", q0);
  if ((a0 && (!json_is_number(a0) || json_number_value(a0) <= 0 ||
              json_number_value(a0) >= 1)) ||
      (a && (!json_is_number(a) || json_number_value(a) <= 0 ||
             json_number_value(a) >= 1)))
    return tally__catalog_fail(ld, who,
                               "params: a0 and a are fractions of a year, "
                               "between 0 and 1");
  t->a0 = a0 ? json_number_value(a0) : NAN;
  t->a = a ? json_number_value(a) : NAN;
  if (strcmp(sex, "both") == 0)
    t->sex = TALLY_LIFETABLE_BOTH;
  else if (strcmp(sex, "male") == 0)
    t->sex = TALLY_LIFETABLE_MALE;
  else if (strcmp(sex, "female") == 0)
    t->sex = TALLY_LIFETABLE_FEMALE;
  else
    return tally__catalog_fail(
        ld, who, "params: sex '%s' is not one of: both, male, female", sex);
  return 0;
}

/* Checks and resolves the keys of the indicator's kind. keys[k] is the
 * JSON value of key_names[k], or NULL. */
static int load_kind(struct loader *ld, const char *who, const char *kind,
                     json_t **keys, tally_indicator *t) {
  const tally_kind_def *k = tally_kind_find(kind);
  unsigned have = 0;
  int rc;

  if (k == NULL) {
    char names[256] = "";
    for (size_t i = 0; i < TALLY_KIND_COUNT; i++) {
      size_t len = strlen(names);
      snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "",
               tally_kinds[i].name);
    }
    return tally__catalog_fail(ld, who, "kind '%s' is not one of: %s", kind,
                               names);
  }
  t->kind = k->kind;
  for (size_t b = 0; b < sizeof key_names / sizeof key_names[0]; b++)
    if (keys[b])
      have |= 1u << b;
  for (size_t b = 0; b < sizeof key_names / sizeof key_names[0]; b++) {
    if ((k->need & (1u << b)) && !(have & (1u << b)))
      return tally__catalog_fail(ld, who, "kind needs a %s", key_names[b]);
    if ((have & (1u << b)) && !((k->need | k->allow) & (1u << b)))
      return tally__catalog_fail(ld, who, "kind %s does not take %s", kind,
                                 key_names[b]);
  }

#define STR(K) json_string_value(keys[__builtin_ctz(K)])
#define HAS(K) (keys[__builtin_ctz(K)] != NULL)
  for (size_t b = 0; b < sizeof key_names / sizeof key_names[0]; b++) {
    json_t *v = keys[b];
    unsigned bit = 1u << b;
    int is_string = bit & (K_NUM | K_DEN | K_ELEM | K_WEIGHT | K_BIRTHS |
                           K_DEATHS | K_POP | K_METHOD);
    if (v && is_string && !json_is_string(v))
      return tally__catalog_fail(ld, who, "%s must be a string", key_names[b]);
  }
  if (HAS(K_NUM) &&
      (rc = term_ref(ld, who, "numerator", STR(K_NUM), t->kind, &t->numerator,
                     &t->numerator_groups)) != 0)
    return rc;
  if (HAS(K_DEN) &&
      (rc = term_ref(ld, who, "denominator", STR(K_DEN), t->kind,
                     &t->denominator, &t->denominator_groups)) != 0)
    return rc;
  if (HAS(K_NUM) && t->numerator == t->denominator &&
      t->numerator_groups == t->denominator_groups)
    return tally__catalog_fail(
        ld, who, "numerator and denominator are the same element");
  if (HAS(K_WEIGHT) &&
      (rc = element_ref(ld, who, "weight", STR(K_WEIGHT), &t->weight)) != 0)
    return rc;
  if (HAS(K_BIRTHS) &&
      (rc = element_ref(ld, who, "births", STR(K_BIRTHS), &t->births)) != 0)
    return rc;
  if (HAS(K_ELEM)) {
    t->element = tally_catalog_element(ld->cat, STR(K_ELEM));
    if (t->element < 0)
      return tally__catalog_fail(
          ld, who, "element '%s' is not a defined data element", STR(K_ELEM));
    int status = ld->cat->elements[t->element].type == TALLY_ELEMENT_STATUS;
    if (status != (t->kind == TALLY_KIND_MILESTONE))
      return tally__catalog_fail(ld, who,
                                 status
                                     ? "element '%s' is a status: only a "
                                       "milestone takes one"
                                     : "a milestone's element '%s' must be a "
                                       "status",
                                 STR(K_ELEM));
  }
  if (HAS(K_DEATHS) &&
      ((rc = groups_ref(ld, who, "deaths", STR(K_DEATHS), &t->deaths_groups)) ||
       (rc = groups_ref(ld, who, "population", STR(K_POP),
                        &t->population_groups))))
    return rc;
  if (HAS(K_FACTOR)) {
    if (!json_is_number(keys[__builtin_ctz(K_FACTOR)]))
      return tally__catalog_fail(ld, who, "factor must be a positive number");
    t->factor = json_number_value(keys[__builtin_ctz(K_FACTOR)]);
  }
  if (!isfinite(t->factor) || t->factor <= 0)
    return tally__catalog_fail(ld, who, "factor must be a positive number");
  if (HAS(K_BOUNDED))
    t->bounded = json_is_true(keys[__builtin_ctz(K_BOUNDED)]);
  if (t->bounded && (t->numerator_groups >= 0 || t->denominator_groups >= 0))
    return tally__catalog_fail(ld, who,
                               "bounded takes a numerator and a denominator "
                               "that are plain elements, not age groups");
  if (HAS(K_BASE)) {
    json_t *v = keys[__builtin_ctz(K_BASE)];
    if (!json_is_integer(v))
      return tally__catalog_fail(ld, who, "base_year must be a year");
    t->base_year = (int)json_integer_value(v);
  }
  if (HAS(K_FROM)) {
    json_t *v = keys[__builtin_ctz(K_FROM)];
    if (!json_is_integer(v))
      return tally__catalog_fail(ld, who, "from_year must be a year");
    t->from_year = (int)json_integer_value(v);
  }
  t->min_population = TALLY_LIFETABLE_MIN_POPULATION;
  if (HAS(K_MINPOP)) {
    json_t *v = keys[__builtin_ctz(K_MINPOP)];
    if (!json_is_number(v) || json_number_value(v) < 0)
      return tally__catalog_fail(ld, who,
                                 "min_population must be a number >= 0");
    t->min_population = json_number_value(v);
  }
  if (t->kind == TALLY_KIND_LIFE_EXPECTANCY) {
    const char *m = STR(K_METHOD);
    if (strcmp(m, "chiang2") == 0)
      t->method = TALLY_LIFETABLE_CHIANG2;
    else if (strcmp(m, "coale_demeny") == 0)
      t->method = TALLY_LIFETABLE_COALE_DEMENY;
    else if (strcmp(m, "cn_textbook") == 0)
      t->method = TALLY_LIFETABLE_CN_TEXTBOOK;
    else
      return tally__catalog_fail(ld, who,
                                 "method '%s' is not one of: chiang2, "
                                 "coale_demeny, cn_textbook",
                                 m);
    if ((rc = check_life_table_groups(ld, who, t->deaths_groups)) != 0 ||
        (rc = load_params(ld, who, keys[__builtin_ctz(K_PARAMS)], t)) != 0)
      return rc;
    if (t->method == TALLY_LIFETABLE_CN_TEXTBOOK && t->births < 0 &&
        !t->q0_population)
      return tally__catalog_fail(
          ld, who,
          "method cn_textbook needs births (or params q0: "
          "population)");
    const tally_age_groups *dg = &ld->cat->age_groups[t->deaths_groups],
                           *pg = &ld->cat->age_groups[t->population_groups];
    if (dg->n != pg->n)
      return tally__catalog_fail(
          ld, who, "deaths and population have different age groups");
    for (int g = 0; g < dg->n; g++)
      if (group_element(ld->cat, t->deaths_groups, g)->age_from !=
              group_element(ld->cat, t->population_groups, g)->age_from ||
          group_element(ld->cat, t->deaths_groups, g)->age_width !=
              group_element(ld->cat, t->population_groups, g)->age_width)
        return tally__catalog_fail(ld, who,
                                   "deaths and population have different age "
                                   "groups");
  }
  if (t->kind == TALLY_KIND_PREMATURE_MORTALITY &&
      (rc = check_sdg_groups(ld, who, t->deaths_groups,
                             t->population_groups)) != 0)
    return rc;
  if (t->kind == TALLY_KIND_UNIT_THRESHOLD) {
    if ((rc = load_target(ld, who, "unit_target", keys[__builtin_ctz(K_UTARGET)],
                          0, &t->unit_target)) != 0)
      return rc;
    if (!is_comparator(t->unit_target.op) || t->unit_target.has_level)
      return tally__catalog_fail(
          ld, who,
          "unit_target: op is one of >=, >, <=, < with a "
          "value");
  }
  if (t->kind == TALLY_KIND_MILESTONE &&
      !ld->cat->elements[t->element].district_only)
    return tally__catalog_fail(
        ld, who, "a milestone's element is reported by the district");
  /* The inputs one value combines come from the same reporters. */
  int inputs[] = {t->numerator, t->denominator, t->element, t->weight,
                  t->births,
                  t->numerator_groups >= 0
                      ? ld->cat->age_groups[t->numerator_groups].first
                      : -1,
                  t->denominator_groups >= 0
                      ? ld->cat->age_groups[t->denominator_groups].first
                      : -1,
                  t->deaths_groups >= 0
                      ? ld->cat->age_groups[t->deaths_groups].first
                      : -1,
                  t->population_groups >= 0
                      ? ld->cat->age_groups[t->population_groups].first
                      : -1};
  int level = -1;
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    if (inputs[i] < 0)
      continue;
    int by = ld->cat->elements[inputs[i]].district_only;
    if (level >= 0 && by != level)
      return tally__catalog_fail(
          ld, who,
          "its data elements are reported at different "
          "levels (some by each unit, some by the district office)");
    level = by;
  }
  return 0;
#undef STR
#undef HAS
}

static int load_indicators(struct loader *ld) {
  tally_catalog *cat = ld->cat;
  json_t *arr = NULL, *d;
  size_t i;
  int rc;
  char who[96];

  if ((rc = array_field(ld, "indicators", &arr)) != 0)
    return rc;
  cat->n_indicators = json_array_size(arr);
  cat->indicators =
      tally_arena_alloc(&cat->arena, cat->n_indicators * sizeof *cat->indicators);
  if (cat->indicators == NULL)
    return -ENOMEM;
  json_array_foreach(arr, i, d) {
    tally_indicator *t = &cat->indicators[i];
    const char *plan, *kind, *direction, *note = NULL, *path = NULL,
               *interval = NULL;
    json_t *targets = NULL, *baselines = NULL;
    json_t *keys[sizeof key_names / sizeof key_names[0]] = {0};
    json_error_t e;
    int action = 0;

    t->factor = 1;
    t->decimals = 2;
    t->numerator = t->denominator = t->element = t->weight = t->births = -1;
    t->numerator_groups = t->denominator_groups = -1;
    t->deaths_groups = t->population_groups = -1;
    tally__catalog_describe(who, sizeof who, "indicator", i,
                            tally__catalog_peek_code(d));
    if (json_unpack_ex(
            d, &e, JSON_STRICT,
            "{s:s, s:s, s?i, s?s, s?s, s:s, s:s, s:s, s?s, s:s, s:s, s?i, s?s, "
            "s:s, s?o, s?o, s?s, s?s, s?s, s?i, "
            "s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, "
            "s?o, s?o}",
            "code", &t->code, "plan", &plan, "seq", &t->seq, "category_zh",
            &t->category_zh, "category_en", &t->category_en, "name_zh",
            &t->name_zh, "name_en", &t->name_en, "unit", &t->unit, "unit_zh",
            &t->unit_zh, "kind",
            &kind, "direction", &direction, "decimals", &t->decimals,
            "attribute", &t->attribute, "source", &t->source, "baselines",
            &baselines, "targets", &targets, "note", &note, "path", &path,
            "interval", &interval, "action", &action, key_names[0], &keys[0], key_names[1], &keys[1], key_names[2],
            &keys[2], key_names[3], &keys[3], key_names[4], &keys[4],
            key_names[5], &keys[5], key_names[6], &keys[6], key_names[7],
            &keys[7], key_names[8], &keys[8], key_names[9], &keys[9],
            key_names[10], &keys[10], key_names[11], &keys[11], key_names[12],
            &keys[12], key_names[13], &keys[13], key_names[14],
            &keys[14]) != 0)
      return tally__catalog_fail(ld, who, "%s", e.text);
    if (!tally__catalog_code_ok(t->code, 1))
      return tally__catalog_fail(
          ld, who,
          "code must start with a capital letter and hold "
          "only letters, digits and _");
    t->plan = -1;
    for (size_t j = 0; j < cat->n_plans; j++)
      if (strcmp(cat->plans[j].code, plan) == 0)
        t->plan = (int)j;
    if (t->plan < 0)
      return tally__catalog_fail(
          ld, who, "plan '%s' is not a plan of the catalog", plan);
    /* The plan's action the indicator belongs to, by its number. */
    t->action = -1;
    if (json_object_get(d, "action")) {
      const tally_plan *pl = &cat->plans[t->plan];
      if (pl->n_actions == 0)
        return tally__catalog_fail(ld, who, "plan %s has no actions",
                                   pl->code);
      if (action < 1 || (size_t)action > pl->n_actions)
        return tally__catalog_fail(
            ld, who, "action %d is not one of plan %s's actions (1-%zu)",
            action, pl->code, pl->n_actions);
      t->action = action - 1;
    }
    if (strcmp(direction, "up") == 0)
      t->higher_is_better = 1;
    else if (strcmp(direction, "down") == 0)
      t->higher_is_better = 0;
    else
      return tally__catalog_fail(
          ld, who, "direction '%s' is not one of: up, down", direction);
    if (t->decimals < 0 || t->decimals > 6)
      return tally__catalog_fail(ld, who, "decimals must be 0-6");
    if (t->attribute && strcmp(t->attribute, "expected") != 0 &&
        strcmp(t->attribute, "binding") != 0)
      return tally__catalog_fail(
          ld, who, "attribute '%s' is not one of: expected, binding",
          t->attribute);
    if ((rc = load_kind(ld, who, kind, keys, t)) != 0)
      return rc;
    /* A total and a growth reach a later target at a constant rate;
     * levels and shares in a straight line, unless the catalog says. */
    t->path_rate = t->kind == TALLY_KIND_TOTAL || t->kind == TALLY_KIND_GROWTH;
    if (path && strcmp(path, "rate") == 0)
      t->path_rate = 1;
    else if (path && strcmp(path, "line") == 0)
      t->path_rate = 0;
    else if (path)
      return tally__catalog_fail(ld, who, "path '%s' is not one of: line, rate",
                                 path);
    /* "none": figures no chance produces (institutions, a census of a
     * structure) have no confidence interval. */
    if (interval && strcmp(interval, "none") != 0)
      return tally__catalog_fail(ld, who,
                                 "interval '%s' is not none (leave it out "
                                 "for the kind's interval)",
                                 interval);
    t->no_interval = interval != NULL;
    if ((rc = load_targets(ld, who, targets, t)) != 0 ||
        (rc = load_baselines(ld, who, baselines, t)) != 0)
      return rc;
  }
  return index_codes(ld, cat->n_indicators, indicator_code, "indicator",
                     &cat->indicator_index);
}

/* Loads the catalog; with_text, with its canonical text too. */
static int load(const char *origin, const char *json, size_t len,
                int with_text, tally_catalog **out, char *err, size_t errlen) {
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
  /* FNV-1a of the text: what the store's kept sums were made for. */
  ld.cat->fingerprint = tally_hash_fnv1a(json, len);
  if (ld.cat->origin == NULL) {
    rc = -ENOMEM;
    goto err_after_alloc;
  }

  if (json_unpack_ex(ld.doc, &e, 0, "{s:s, s:s}", "format", &format, "name",
                     &ld.cat->name) != 0) {
    rc = tally__catalog_fail(&ld, "top level", "%s", e.text);
    goto err_after_alloc;
  }
  if (strcmp(format, CATALOG_FORMAT) != 0) {
    rc = tally__catalog_fail(&ld, "format", "'%s' is not '%s'", format,
                             CATALOG_FORMAT);
    goto err_after_alloc;
  }
  {
    const char *key;
    json_t *v;
    static const char *const known[] = {"format",     "name",  "description",
                                        "units",      "plans", "data_elements",
                                        "indicators", "rules", "outliers",
                                        "deadlines"};
    json_object_foreach(ld.doc, key, v) {
      size_t k = 0;
      while (k < sizeof known / sizeof known[0] && strcmp(key, known[k]) != 0)
        k++;
      if (k == sizeof known / sizeof known[0]) {
        rc = tally__catalog_fail(&ld, "top level", "unknown key '%s'", key);
        goto err_after_alloc;
      }
    }
  }
  if ((rc = load_units(&ld)) != 0 || (rc = load_plans(&ld)) != 0 ||
      (rc = load_elements(&ld)) != 0 || (rc = load_indicators(&ld)) != 0 ||
      (rc = tally__catalog_load_rules(&ld)) != 0 ||
      (rc = load_deadlines(&ld)) != 0)
    goto err_after_alloc;

  ld.cat->doc = ld.doc;
  if (with_text) {
    ld.cat->text = json_dumps(ld.doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (ld.cat->text == NULL) {
      rc = -ENOMEM;
      goto err_after_alloc;
    }
    ld.cat->text_len = strlen(ld.cat->text);
    ld.cat->text_fingerprint =
        tally_hash_fnv1a(ld.cat->text, ld.cat->text_len);
  }
  *out = ld.cat;
  return 0;

err_after_alloc:
  if (rc == -ENOMEM)
    snprintf(err, errlen, "%s: out of memory", origin);
  ld.cat->doc = ld.doc;
  tally_catalog_free(ld.cat);
  return rc;
}

int tally_catalog_load_buffer(const char *origin, const char *json, size_t len,
                              tally_catalog **out, char *err, size_t errlen) {
  return load(origin, json, len, 1, out, err, errlen);
}

int tally_catalog_read_buffer(const char *origin, const char *json, size_t len,
                              tally_catalog **out, char *err, size_t errlen) {
  return load(origin, json, len, 0, out, err, errlen);
}

int tally_catalog_load_file(const char *path, tally_catalog **out, char *err,
                            size_t errlen) {
  char *buf;
  size_t len;
  int rc = tally_file_read(path, &buf, &len);

  if (rc != 0) {
    snprintf(err, errlen, "%s: %s", path, tally_file_strerror(rc));
    return rc;
  }
  rc = tally_catalog_load_buffer(path, buf, len, out, err, errlen);
  free(buf);
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
  free(cat->unit_index);
  free(cat->element_index);
  free(cat->indicator_index);
  tally_arena_free(&cat->arena);
  free(cat->plans);
  free(cat->units);
  free(cat->origin);
  json_decref((json_t *)cat->doc);
  free(cat->text);
  free(cat);
}

int tally_catalog_unit(const tally_catalog *cat, const char *code) {
  return find_code(cat->unit_index, code);
}

int tally_catalog_element(const tally_catalog *cat, const char *code) {
  return find_code(cat->element_index, code);
}

int tally_catalog_element_guess(const tally_catalog *cat, const char *code,
                                int guess) {
  if (guess >= 0 && (size_t)guess < cat->n_elements &&
      (cat->elements[guess].code == code ||
       strcmp(cat->elements[guess].code, code) == 0))
    return guess;
  return find_code(cat->element_index, code);
}

int tally_catalog_indicator(const tally_catalog *cat, const char *code) {
  return find_code(cat->indicator_index, code);
}

int tally_catalog_unit_within(const tally_catalog *cat, int unit, int scope) {
  for (int u = unit; u >= 0; u = cat->units[u].parent)
    if (u == scope)
      return 1;
  return 0;
}
