/* rule.c: a validation rule checked on one unit's figures. */
#include "rule.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

/* Sums a side over the row; counts the elements present and missing. */
static double side_value(const tally_rule_side *s, const double *value,
                         const unsigned char *has, size_t *present,
                         size_t *missing) {
  double sum = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (has[s->elements[i]]) {
      sum += value[s->elements[i]];
      (*present)++;
    } else {
      (*missing)++;
    }
  }
  return s->factor * sum + s->constant;
}

tally_rule_result tally_rule_check(const tally_rule *r, const double *value,
                                   const unsigned char *has, double *left,
                                   double *right) {
  size_t present = 0, missing = 0;
  if (r->test != TALLY_RULE_COMPARE)
    return TALLY_RULE_SKIPPED; /* it reads more than one row */
  double l = side_value(&r->left, value, has, &present, &missing);
  double x = side_value(&r->right, value, has, &present, &missing);
  if (r->skip_if_all ? present == 0 : missing > 0)
    return TALLY_RULE_SKIPPED;
  *left = l;
  *right = x;
  switch (r->op) {
  case TALLY_RULE_LE:
    return l <= x ? TALLY_RULE_HOLDS : TALLY_RULE_BROKEN;
  case TALLY_RULE_LT:
    return l < x ? TALLY_RULE_HOLDS : TALLY_RULE_BROKEN;
  case TALLY_RULE_GE:
    return l >= x ? TALLY_RULE_HOLDS : TALLY_RULE_BROKEN;
  case TALLY_RULE_GT:
    return l > x ? TALLY_RULE_HOLDS : TALLY_RULE_BROKEN;
  case TALLY_RULE_EQ: {
    double by = fmax(r->tolerance, fabs(x) * r->tolerance_percent / 100);
    return fabs(l - x) <= by ? TALLY_RULE_HOLDS : TALLY_RULE_BROKEN;
  }
  }
  return TALLY_RULE_BROKEN;
}

int tally_rule_reads(const tally_rule *r, int e) {
  for (size_t i = 0; i < r->left.n; i++)
    if (r->left.elements[i] == e)
      return 1;
  for (size_t i = 0; i < r->right.n; i++)
    if (r->right.elements[i] == e)
      return 1;
  return 0;
}

const char *tally_rule_op_text(tally_rule_op op) {
  static const char *const text[] = {"<=", "<", "=", ">=", ">"};
  return (unsigned)op < 5 ? text[op] : "?";
}

/* Appends to buf at *at (as snprintf, keeping count past n). */
__attribute__((format(printf, 4, 5))) static void
put(char *buf, size_t n, size_t *at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(*at < n ? buf + *at : NULL, *at < n ? n - *at : 0, fmt, ap);
  va_end(ap);
  if (k > 0)
    *at += (size_t)k;
}

/* A side as text; three or more age groups of one element run "A + ...
 * + B". */
static void side_text(const tally_catalog *cat, const tally_rule_side *s,
                      char *buf, size_t n, size_t *at) {
  if (s->n > 0 && s->factor != 1)
    put(buf, n, at, "%.15g x ", s->factor);
  if (s->n > 1 && s->factor != 1)
    put(buf, n, at, "(");
  for (size_t i = 0; i < s->n; i++) {
    const tally_element *el = &cat->elements[s->elements[i]];
    size_t run = i;
    while (run + 1 < s->n && s->elements[run + 1] == s->elements[run] + 1 &&
           el->group >= 0 &&
           cat->elements[s->elements[run + 1]].group == el->group)
      run++;
    if (i > 0)
      put(buf, n, at, " + ");
    if (run - i >= 2) {
      put(buf, n, at, "%s + ... + %s", el->code,
          cat->elements[s->elements[run]].code);
      i = run;
    } else {
      put(buf, n, at, "%s", el->code);
    }
  }
  if (s->n > 1 && s->factor != 1)
    put(buf, n, at, ")");
  if (s->n == 0)
    put(buf, n, at, "%.15g", s->constant);
  else if (s->constant != 0)
    put(buf, n, at, " %s %.15g", s->constant < 0 ? "-" : "+",
        fabs(s->constant));
}

int tally_rule_side_text(const tally_catalog *cat, const tally_rule_side *s,
                         char *buf, size_t n) {
  size_t at = 0;
  if (n)
    buf[0] = 0;
  side_text(cat, s, buf, n, &at);
  return (int)at;
}

int tally_rule_text(const tally_catalog *cat, const tally_rule *r, char *buf,
                    size_t n) {
  size_t at = 0;
  if (n)
    buf[0] = 0;
  side_text(cat, &r->left, buf, n, &at);
  if (r->test == TALLY_RULE_HISTORY) {
    put(buf, n, &at, " against its own last %d years (modified z-score at "
        "most %.15g)", r->years, r->threshold);
    return (int)at;
  }
  if (r->test == TALLY_RULE_UNITS) {
    put(buf, n, &at, " / ");
    side_text(cat, &r->right, buf, n, &at);
    put(buf, n, &at, " against the other units' (two-sided p at least "
        "%.15g)", r->alpha);
    return (int)at;
  }
  put(buf, n, &at, " %s ", tally_rule_op_text(r->op));
  side_text(cat, &r->right, buf, n, &at);
  if (r->op == TALLY_RULE_EQ && r->tolerance_percent > 0)
    put(buf, n, &at, " (within %.15g%%)", r->tolerance_percent);
  else if (r->op == TALLY_RULE_EQ && r->tolerance > 0)
    put(buf, n, &at, " (within %.15g)", r->tolerance);
  return (int)at;
}

/* "TEXT = VALUE" of a side that reads figures; "" for a constant. */
static void side_equals(const tally_catalog *cat, const tally_rule_side *s,
                       double value, char *buf, size_t n) {
  char text[256];
  if (s->n == 0) {
    if (n)
      buf[0] = 0;
    return;
  }
  tally_rule_side_text(cat, s, text, sizeof text);
  snprintf(buf, n, "%s = %.15g", text, value);
}

int tally_violation_text(const tally_catalog *cat, const tally_violation *v,
                         char *buf, size_t n) {
  const tally_rule *r = &cat->rules[v->rule];
  char rule[512], left[300], right[300];
  tally_rule_text(cat, r, rule, sizeof rule);
  if (r->test == TALLY_RULE_HISTORY)
    return snprintf(buf, n, "%s / %s: %s = %.15g, its earlier years' median "
                    "%.15g (MAD %.3g): modified z-score %.1f (%s)",
                    r->message_zh, r->message_en,
                    cat->elements[r->left.elements[0]].code, v->left,
                    v->right, v->spread, v->score, rule);
  if (r->test == TALLY_RULE_UNITS)
    return snprintf(buf, n, "%s / %s: %s = %.15g of %s = %.15g, where the "
                    "other units' rate expects %.1f: p = %.2g (%s)",
                    r->message_zh, r->message_en,
                    cat->elements[r->left.elements[0]].code, v->left,
                    cat->elements[r->right.elements[0]].code, v->right,
                    v->centre, v->score, rule);
  side_equals(cat, &r->left, v->left, left, sizeof left);
  side_equals(cat, &r->right, v->right, right, sizeof right);
  return snprintf(buf, n, "%s / %s: %s%s%s (%s)", r->message_zh,
                  r->message_en, left, *left && *right ? ", " : "", right,
                  rule);
}

int tally_violation_detail(const tally_catalog *cat, const tally_violation *v,
                           char *buf, size_t n) {
  const tally_rule *rule = &cat->rules[v->rule];
  char text[800];
  tally_violation_text(cat, v, text, sizeof text);
  if (rule->warning)
    return snprintf(buf, n, "warning %s: %s; 若数据无误，请附上报说明重新提交 / "
                    "if the figures are right, send them again with an "
                    "explanation: --explain %s=\"...\"", rule->code, text,
                    rule->code);
  return snprintf(buf, n, "error %s: %s; 请更正 / correct the figures",
                  rule->code, text);
}

int tally_rules_refusal(const char *unit, const char *period, size_t broken,
                        size_t errors, char *buf, size_t n) {
  return snprintf(buf, n, "%s %s 的数据未通过 %zu 条审核公式，未保存 / the "
                  "figures of %s for %s break %zu of the catalog's rules%s; "
                  "nothing was stored", unit, period, broken, unit, period,
                  broken, errors ? " (errors must be fixed)" : "");
}

const char *tally_rule_unexplainable(const tally_catalog *cat,
                                     const char *code) {
  int k = tally_catalog_rule(cat, code);
  if (k < 0)
    return "is not a rule of the catalog";
  if (!cat->rules[k].warning)
    return "is an error rule (逻辑性): figures that break it are impossible "
           "and must be fixed, not explained";
  return NULL;
}
