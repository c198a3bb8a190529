/* catalog_rules.c: the catalog's validation rules, loaded and checked.
 *
 * A rule compares two sides, each factor x (a sum of data elements) +
 * constant, over one unit's figures of one period. A side is written as
 * a number (a constant), a string (one element: "infant_deaths",
 * "deaths.0"; an age-grouped element's code alone sums all its groups;
 * "midyear_population.0..65-69" sums the groups from one label to
 * another), or {"sum": [strings], "factor": F, "constant": C}. Each
 * bounded ratio of the indicators becomes a rule too (numerator <=
 * denominator, an error), so that there is one mechanism. So do the
 * outlier tests of the "outliers" section: warnings whose figures the
 * server reads beyond the one row (server/outlier.c checks them).
 */
#include "catalog_impl.h"

#include "error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct {
  const char *text;
  tally_rule_op op;
} rule_ops[] = {{"<=", TALLY_RULE_LE},
                {"<", TALLY_RULE_LT},
                {"=", TALLY_RULE_EQ},
                {">=", TALLY_RULE_GE},
                {">", TALLY_RULE_GT}};

/* A rule's code: a letter, then letters, digits and _, at most 31. */
static int rule_code_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > TALLY_CODE_MAX ||
      !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
    return 0;
  for (size_t i = 1; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
          (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
      return 0;
  return 1;
}

/* The element of an age group by its label within groups g, or -1. */
static int group_label(const tally_catalog *cat, int g, const char *label,
                       size_t len) {
  const tally_age_groups *ag = &cat->age_groups[g];
  size_t code_len = strlen(ag->code);
  for (int i = 0; i < ag->n; i++) {
    const char *c = cat->elements[ag->first + i].code + code_len + 1;
    if (strlen(c) == len && memcmp(c, label, len) == 0)
      return ag->first + i;
  }
  return -1;
}

/* The elements a term names, from *first to *last (consecutive). */
static int term_elements(struct loader *ld, const char *who, const char *term,
                         int *first, int *last) {
  const tally_catalog *cat = ld->cat;
  int e = tally_catalog_element(cat, term), g;
  if (e >= 0) {
    *first = *last = e;
    return 0;
  }
  if ((g = tally_catalog_age_groups(cat, term)) >= 0) {
    *first = cat->age_groups[g].first;
    *last = *first + cat->age_groups[g].n - 1;
    return 0;
  }
  const char *dot = strchr(term, '.'), *range = strstr(term, "..");
  char code[TALLY_CODE_MAX + 1];
  if (dot && range && dot < range && (size_t)(dot - term) <= TALLY_CODE_MAX) {
    memcpy(code, term, (size_t)(dot - term));
    code[dot - term] = 0;
    if ((g = tally_catalog_age_groups(cat, code)) >= 0) {
      *first = group_label(cat, g, dot + 1, (size_t)(range - dot - 1));
      *last = group_label(cat, g, range + 2, strlen(range + 2));
      if (*first < 0 || *last < 0 || *last < *first)
        return tally__catalog_fail(
            ld, who,
            "'%s': the groups of %s run from a label to a later "
            "one, e.g. %s.0..65-69",
            term, code, code);
      return 0;
    }
  }
  return tally__catalog_fail(ld, who,
                             "'%s' is not a data element, an "
                             "age-grouped element, or CODE.FROM..TO",
                             term);
}

/* Reads one side of a rule. */
static int load_side(struct loader *ld, const char *who, const char *name,
                     json_t *x, tally_rule_side *side) {
  tally_catalog *cat = ld->cat;
  json_t *terms = NULL, *one = NULL;
  json_error_t e;
  size_t i, n = 0;
  int first, last, rc;

  side->factor = 1;
  side->constant = 0;
  if (json_is_number(x)) {
    side->constant = json_number_value(x);
    return 0;
  }
  if (json_is_string(x)) {
    terms = one = json_array();
    if (one == NULL || json_array_append(one, x) != 0) {
      json_decref(one);
      return -ENOMEM;
    }
  } else if (json_unpack_ex(x, &e, JSON_STRICT, "{s:o, s?F, s?F}", "sum",
                            &terms, "factor", &side->factor, "constant",
                            &side->constant) != 0) {
    return tally__catalog_fail(ld, who,
                               "%s: a number, an element's code, or "
                               "{\"sum\": [...], \"factor\": F, \"constant\": "
                               "C}: %s",
                               name, e.text);
  }
  rc = 0;
  if (!json_is_array(terms) || json_array_size(terms) == 0) {
    rc = tally__catalog_fail(ld, who,
                             "%s: sum must be a non-empty array of "
                             "element codes",
                             name);
    goto out;
  }
  for (i = 0; i < json_array_size(terms); i++) {
    const char *t = json_string_value(json_array_get(terms, i));
    if (t == NULL) {
      rc = tally__catalog_fail(ld, who, "%s: sum #%zu is not a string", name,
                               i + 1);
      goto out;
    }
    if ((rc = term_elements(ld, who, t, &first, &last)) != 0)
      goto out;
    n += (size_t)(last - first + 1);
  }
  side->elements = tally_arena_alloc(&cat->arena, n * sizeof *side->elements);
  if (side->elements == NULL) {
    rc = -ENOMEM;
    goto out;
  }
  for (i = 0; i < json_array_size(terms); i++) {
    term_elements(ld, who, json_string_value(json_array_get(terms, i)), &first,
                  &last);
    for (int k = first; k <= last; k++) {
      for (size_t j = 0; j < side->n; j++)
        if (side->elements[j] == k) {
          rc = tally__catalog_fail(ld, who, "%s: %s is summed twice", name,
                                   cat->elements[k].code);
          goto out;
        }
      side->elements[side->n++] = k;
    }
  }
  if (!isfinite(side->factor) || side->factor <= 0 || !isfinite(side->constant))
    rc = tally__catalog_fail(ld, who,
                             "%s: factor must be above 0, and both "
                             "it and constant finite",
                             name);
out:
  json_decref(one);
  return rc;
}

/* Checks what a rule's elements may be: no status (its levels are not
 * quantities), and all reported by the same (every unit, or the
 * district alone). */
static int check_elements(struct loader *ld, const char *who, tally_rule *r) {
  const tally_catalog *cat = ld->cat;
  const tally_rule_side *sides[2] = {&r->left, &r->right};
  int seen = 0;
  for (int s = 0; s < 2; s++)
    for (size_t i = 0; i < sides[s]->n; i++) {
      const tally_element *el = &cat->elements[sides[s]->elements[i]];
      if (el->type == TALLY_ELEMENT_STATUS)
        return tally__catalog_fail(ld, who, "%s is a status, not a quantity",
                                   el->code);
      if (seen && el->district_only != r->district)
        return tally__catalog_fail(
            ld, who,
            "%s is reported by %s, the rule's "
            "other elements by %s",
            el->code, el->district_only ? "the district" : "each unit",
            r->district ? "the district" : "each unit");
      r->district = el->district_only;
      seen = 1;
    }
  if (!seen)
    return tally__catalog_fail(ld, who,
                               "a rule compares at least one data "
                               "element");
  return 0;
}

static int load_rule(struct loader *ld, size_t i, json_t *x, tally_rule *r) {
  const char *op, *severity, *missing = "skip_if_any", *note = NULL;
  json_t *left, *right;
  json_error_t e;
  char who[96];
  int rc;

  tally__catalog_describe(who, sizeof who, "rule", i,
                          tally__catalog_peek_code(x));
  r->tolerance = r->tolerance_percent = 0;
  r->indicator = -1;
  if (json_unpack_ex(x, &e, JSON_STRICT,
                     "{s:s, s:o, s:s, s:o, s:s, s?s, s?F, s?F, s:s, s:s, s?s}",
                     "code", &r->code, "left", &left, "op", &op, "right",
                     &right, "severity", &severity, "missing", &missing,
                     "tolerance", &r->tolerance, "tolerance_percent",
                     &r->tolerance_percent, "message_zh", &r->message_zh,
                     "message_en", &r->message_en, "note", &note) != 0)
    return tally__catalog_fail(ld, who, "%s", e.text);
  if (!rule_code_ok(r->code))
    return tally__catalog_fail(ld, who,
                               "code must be a letter, then letters, "
                               "digits and _, at most %d",
                               TALLY_CODE_MAX);
  size_t k = 0;
  while (k < sizeof rule_ops / sizeof rule_ops[0] &&
         strcmp(op, rule_ops[k].text) != 0)
    k++;
  if (k == sizeof rule_ops / sizeof rule_ops[0])
    return tally__catalog_fail(ld, who,
                               "op '%s' is not one of <=, <, =, >=, "
                               ">",
                               op);
  r->op = rule_ops[k].op;
  if (strcmp(severity, "error") == 0)
    r->warning = 0;
  else if (strcmp(severity, "warning") == 0)
    r->warning = 1;
  else
    return tally__catalog_fail(ld, who,
                               "severity '%s' is not error (逻辑性) "
                               "or warning (合理性)",
                               severity);
  if (strcmp(missing, "skip_if_any") == 0)
    r->skip_if_all = 0;
  else if (strcmp(missing, "skip_if_all") == 0)
    r->skip_if_all = 1;
  else
    return tally__catalog_fail(ld, who,
                               "missing '%s' is not skip_if_any or "
                               "skip_if_all",
                               missing);
  if ((r->tolerance != 0 || r->tolerance_percent != 0) &&
      r->op != TALLY_RULE_EQ)
    return tally__catalog_fail(ld, who, "a tolerance goes with op \"=\" only");
  if (!(r->tolerance >= 0 && r->tolerance_percent >= 0 &&
        isfinite(r->tolerance) && r->tolerance_percent <= 100))
    return tally__catalog_fail(ld, who,
                               "tolerance must be >= 0, and "
                               "tolerance_percent 0-100");
  if (!*r->message_zh || !*r->message_en)
    return tally__catalog_fail(ld, who,
                               "message_zh and message_en say what "
                               "is wrong, in words the office reads");
  if ((rc = load_side(ld, who, "left", left, &r->left)) != 0 ||
      (rc = load_side(ld, who, "right", right, &r->right)) != 0)
    return rc;
  return check_elements(ld, who, r);
}

/* The rule of a bounded ratio: its numerator may not exceed its
 * denominator. */
static int bounded_rule(struct loader *ld, const tally_indicator *in,
                        tally_rule *r) {
  tally_catalog *cat = ld->cat;
  const tally_element *n = &cat->elements[in->numerator],
                      *d = &cat->elements[in->denominator];
  memset(r, 0, sizeof *r);
  r->code = tally_arena_printf(&cat->arena, "%s_bounded", in->code);
  r->left.elements = tally_arena_alloc(&cat->arena, 2 * sizeof(int));
  r->message_zh = tally_arena_printf(&cat->arena,
                                     "%s不能多于%s（%s的分子和"
                                     "分母）",
                                     n->name_zh, d->name_zh, in->code);
  r->message_en = tally_arena_printf(&cat->arena,
                                     "%s cannot exceed %s (the "
                                     "numerator and denominator of %s)",
                                     n->name_en, d->name_en, in->code);
  if (r->code == NULL || r->left.elements == NULL || r->message_zh == NULL ||
      r->message_en == NULL)
    return -ENOMEM;
  r->left.elements[0] = in->numerator;
  r->left.n = 1;
  r->right.elements = r->left.elements + 1;
  r->right.elements[0] = in->denominator;
  r->right.n = 1;
  r->left.factor = r->right.factor = 1;
  r->op = TALLY_RULE_LE;
  r->district = n->district_only;
  r->indicator = (int)(in - cat->indicators);
  return 0;
}

/* A side of one element. */
static int one_element(tally_catalog *cat, tally_rule_side *s, int e) {
  s->elements = tally_arena_alloc(&cat->arena, sizeof *s->elements);
  if (s->elements == NULL)
    return -ENOMEM;
  s->elements[0] = e;
  s->n = 1;
  s->factor = 1;
  return 0;
}

/* An outlier test: {"code", "test": "history", "element", "threshold",
 * "min_years", "years"} or {"code", "test": "units", "indicator",
 * "alpha"}, with its messages. A warning, skipped when a figure it
 * reads is missing. */
static int load_outlier(struct loader *ld, size_t i, json_t *x,
                        tally_rule *r) {
  tally_catalog *cat = ld->cat;
  const char *test, *element = NULL, *indicator = NULL, *note = NULL;
  json_error_t e;
  char who[96];
  int rc;

  tally__catalog_describe(who, sizeof who, "outlier test", i,
                          tally__catalog_peek_code(x));
  r->indicator = -1;
  r->warning = 1;
  r->threshold = 3.5;
  r->min_years = 3;
  r->years = 10;
  r->alpha = 0.001;
  if (json_unpack_ex(x, &e, JSON_STRICT,
                     "{s:s, s:s, s?s, s?s, s?F, s?i, s?i, s?F, s:s, s:s, s?s}",
                     "code", &r->code, "test", &test, "element", &element,
                     "indicator", &indicator, "threshold", &r->threshold,
                     "min_years", &r->min_years, "years", &r->years, "alpha",
                     &r->alpha, "message_zh", &r->message_zh, "message_en",
                     &r->message_en, "note", &note) != 0)
    return tally__catalog_fail(ld, who, "%s", e.text);
  if (!rule_code_ok(r->code))
    return tally__catalog_fail(ld, who,
                               "code must be a letter, then letters, "
                               "digits and _, at most %d",
                               TALLY_CODE_MAX);
  if (!*r->message_zh || !*r->message_en)
    return tally__catalog_fail(ld, who,
                               "message_zh and message_en say what "
                               "is unusual, in words the office reads");
  if (strcmp(test, "history") == 0) {
    int el = element ? tally_catalog_element(cat, element) : -1;
    r->test = TALLY_RULE_HISTORY;
    if (indicator || json_object_get(x, "alpha"))
      return tally__catalog_fail(ld, who, "a history test takes an element, "
                                 "threshold, min_years and years");
    if (el < 0)
      return tally__catalog_fail(ld, who, "element '%s' is not a data "
                                 "element", element ? element : "(none)");
    if (cat->elements[el].type == TALLY_ELEMENT_STATUS)
      return tally__catalog_fail(ld, who, "%s is a status, not a quantity",
                                 element);
    if (!(isfinite(r->threshold) && r->threshold > 0) || r->min_years < 3 ||
        r->years < r->min_years || r->years > 50)
      return tally__catalog_fail(ld, who, "threshold must be above 0, and "
                                 "3 <= min_years <= years <= 50");
    if ((rc = one_element(cat, &r->left, el)) != 0)
      return rc;
    r->district = cat->elements[el].district_only;
    return 0;
  }
  if (strcmp(test, "units") == 0) {
    int ind = indicator ? tally_catalog_indicator(cat, indicator) : -1;
    r->test = TALLY_RULE_UNITS;
    if (element || json_object_get(x, "threshold") ||
        json_object_get(x, "min_years") || json_object_get(x, "years"))
      return tally__catalog_fail(ld, who, "a units test takes an indicator "
                                 "and alpha");
    if (ind < 0)
      return tally__catalog_fail(ld, who, "indicator '%s' is not in the "
                                 "catalog", indicator ? indicator : "(none)");
    const tally_indicator *in = &cat->indicators[ind];
    if (in->kind != TALLY_KIND_RATIO ||
        cat->elements[in->numerator].type != TALLY_ELEMENT_COUNT ||
        cat->elements[in->denominator].type != TALLY_ELEMENT_COUNT ||
        cat->elements[in->numerator].district_only ||
        cat->elements[in->denominator].district_only)
      return tally__catalog_fail(ld, who, "%s is not a ratio of two counts "
                                 "each unit reports: there is no chance to "
                                 "test", indicator);
    if (!(r->alpha > 0 && r->alpha < 0.5))
      return tally__catalog_fail(ld, who, "alpha must be above 0 and below "
                                 "0.5");
    r->indicator = ind;
    if ((rc = one_element(cat, &r->left, in->numerator)) != 0 ||
        (rc = one_element(cat, &r->right, in->denominator)) != 0)
      return rc;
    return 0;
  }
  return tally__catalog_fail(ld, who, "test '%s' is not history or units",
                             test);
}

int tally__catalog_load_rules(struct loader *ld) {
  tally_catalog *cat = ld->cat;
  json_t *arr = json_object_get(ld->doc, "rules"), *x;
  json_t *outliers = json_object_get(ld->doc, "outliers");
  size_t i, n = arr ? json_array_size(arr) : 0, bounded = 0;
  int rc;

  if (arr && !json_is_array(arr))
    return tally__catalog_fail(ld, "rules", "must be an array");
  if (outliers && !json_is_array(outliers))
    return tally__catalog_fail(ld, "outliers", "must be an array");
  for (i = 0; i < cat->n_indicators; i++)
    bounded += cat->indicators[i].bounded != 0;
  n += outliers ? json_array_size(outliers) : 0;
  cat->rules =
      tally_arena_alloc(&cat->arena, (n + bounded + 1) * sizeof *cat->rules);
  if (cat->rules == NULL)
    return -ENOMEM;
  json_array_foreach(arr, i, x) {
    tally_rule *r = &cat->rules[cat->n_rules];
    memset(r, 0, sizeof *r);
    if ((rc = load_rule(ld, i, x, r)) != 0)
      return rc;
    cat->n_rules++;
  }
  for (i = 0; i < cat->n_indicators; i++)
    if (cat->indicators[i].bounded &&
        (rc = bounded_rule(ld, &cat->indicators[i],
                           &cat->rules[cat->n_rules++])) != 0)
      return rc;
  json_array_foreach(outliers, i, x) {
    tally_rule *r = &cat->rules[cat->n_rules];
    memset(r, 0, sizeof *r);
    if ((rc = load_outlier(ld, i, x, r)) != 0)
      return rc;
    cat->n_rules++;
  }
  for (i = 0; i < cat->n_rules; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(cat->rules[i].code, cat->rules[j].code) == 0) {
        char who[96];
        return tally__catalog_fail(
            ld,
            tally__catalog_describe(who, sizeof who, "rule", i,
                                    cat->rules[i].code),
            "duplicate rule code%s",
            cat->rules[i].indicator >= 0 &&
                    cat->rules[i].test == TALLY_RULE_COMPARE
                ? " (made for a bounded ratio)"
                : "");
      }
  return 0;
}

int tally_catalog_rule(const tally_catalog *cat, const char *code) {
  for (size_t i = 0; i < cat->n_rules; i++)
    if (strcmp(cat->rules[i].code, code) == 0)
      return (int)i;
  return -1;
}
