/* precheck.c: a submission checked before it is spooled (precheck.h).
 * What it says is what the server would: the same words (figure.h,
 * rule.h), in the shape tally submit prints a refusal in. */
#include "precheck.h"
#include "i18n.h"

#include "figure_check.h"
#include "rule.h"
#include "utf8.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SAID_MAX 50 /* figures' problems said; the rest counted */

struct row {
  double *value;
  unsigned char *has;
  int *line;         /* each element's line in the file */
};

/* "line", or "row" for a sheet's figures. */
static const char *word(const tally_figfile *figs) {
  return figs->line_word ? figs->line_word : "line";
}

/* "FILE line 3 (and 4, 5)": the lines of the figures rule r reads, in
 * the file's order. */
static void rule_lines(const tally_catalog *cat, const tally_rule *r,
                       const tally_figfile *figs, const char *file,
                       char *buf, size_t n) {
  size_t at = (size_t)snprintf(buf, n, "%s", file), k = 0;
  for (size_t i = 0; i < figs->n && at < n; i++) {
    int e = tally_catalog_element(cat, figs->items[i].element);
    if (e < 0 || !tally_rule_reads(r, e))
      continue;
    if (k == 0)
      at += (size_t)snprintf(buf + at, n - at, " %s %d", word(figs),
                             figs->items[i].line);
    else
      at += (size_t)snprintf(buf + at, n - at, k == 1 ? " (and %d" : ", %d",
                             figs->items[i].line);
    k++;
  }
  if (k > 1 && at < n)
    snprintf(buf + at, n - at, ")");
}

static int is_explained(const char *code, const char *const *explained,
                        size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(explained[i], code) == 0)
      return 1;
  return 0;
}

/* Each figure checked as the server checks it; the good ones into row.
 * Returns the problems, said when say. */
static int figures(const tally_catalog *cat, int u, const char *unit,
                   const char *period, const tally_figfile *figs,
                   const char *file, struct row *row, int say) {
  int problems = 0;
  for (size_t i = 0; i < figs->n; i++) {
    const tally_figfile_row *f = &figs->items[i];
    int e = tally_catalog_element(cat, f->element);
    char why[600], shown[256], where[300];
    if (e < 0) {
      snprintf(shown, sizeof shown, "%s", f->element);
      tally_utf8_for_terminal(shown);
      snprintf(why, sizeof why, _("unknown data element '%s' (tally catalog "
               "--elements lists them)"), shown);
    } else if (row->has[e]) {
      /* "line" and "row" in the user's language, as the place is. */
      if (strcmp(word(figs), "row") == 0)
        snprintf(why, sizeof why, _("%s appears twice (also row %d)"),
                 cat->elements[e].code, row->line[e]);
      else
        snprintf(why, sizeof why, _("%s appears twice (also line %d)"),
                 cat->elements[e].code, row->line[e]);
    } else if (tally_figure_ok(cat, u, e, f->value, why, sizeof why)) {
      row->value[e] = f->value;
      row->has[e] = 1;
      row->line[e] = f->line;
      continue;
    }
    if (say && problems == 0)
      fprintf(stderr, _("tally: %s %s: values were refused; nothing was "
              "stored\n"), unit, period);
    if (say && problems < SAID_MAX)
      fprintf(stderr, "  %s%s\n", tally_figfile_where(where, sizeof where, file,
                                                   word(figs), f->line),
              why);
    problems++;
  }
  if (say && problems > SAID_MAX)
    fprintf(stderr, _("  ... and %d more\n"), problems - SAID_MAX);
  return problems;
}

/* The error rules the file breaks (and, beside them, its unexplained
 * warnings). Returns the errors, said when say. */
static int rules(const tally_catalog *cat, int u, const char *unit,
                 const char *period, const tally_figfile *figs,
                 const char *const *explained, size_t n_explained,
                 int replace, const char *file, const struct row *row,
                 int say) {
  tally_violation *broken = calloc(cat->n_rules + 1, sizeof *broken);
  size_t n = 0, errors = 0;
  if (broken == NULL)
    return 0; /* the server checks them */
  for (size_t i = 0; i < cat->n_rules; i++) {
    const tally_rule *r = &cat->rules[i];
    tally_violation v = {(int)i, 0, 0, 0, 0, 0};
    int all = 1;
    if (r->test != TALLY_RULE_COMPARE ||
        !(r->district ? u == cat->root : cat->units[u].is_leaf))
      continue;
    for (size_t e = 0; e < cat->n_elements; e++)
      all &= !tally_rule_reads(r, (int)e) || row->has[e];
    if ((!replace && !all) ||
        tally_rule_check(r, row->value, row->has, &v.left, &v.right) !=
            TALLY_RULE_BROKEN ||
        (r->warning && is_explained(r->code, explained, n_explained)))
      continue;
    broken[n++] = v;
    errors += !r->warning;
  }
  if (say && errors) {
    char words[600], lines[400], text[1200];
    tally_rules_refusal(unit, period, n, errors, words, sizeof words);
    fprintf(stderr, "tally: %s %s: %s\n", unit, period, words);
    for (size_t i = 0; i < n; i++) {
      rule_lines(cat, &cat->rules[broken[i].rule], figs, file, lines,
                 sizeof lines);
      tally_violation_detail(cat, &broken[i], text, sizeof text);
      fprintf(stderr, "  %s: %s\n", lines, text);
    }
  }
  free(broken);
  return (int)errors;
}

int tally_precheck(const tally_catalog *cat, const char *unit,
                   const char *period, const tally_figfile *figs,
                   const char *const *explained, size_t n_explained,
                   int replace, const char *file, int say) {
  int u = tally_catalog_unit(cat, unit);
  if (u < 0 || !(cat->units[u].is_leaf || u == cat->root)) {
    char shown[256];
    snprintf(shown, sizeof shown, "%s", unit);
    tally_utf8_for_terminal(shown);
    if (say && u < 0)
      fprintf(stderr, _("tally: unknown unit '%s' (tally catalog lists the "
              "units); nothing was stored\n"), shown);
    else if (say)
      fprintf(stderr, _("tally: %s is not a reporting unit: the units within "
              "it report; nothing was stored\n"), shown);
    return 1;
  }
  struct row row = {calloc(cat->n_elements + 1, sizeof *row.value),
                    calloc(cat->n_elements + 1, 1),
                    calloc(cat->n_elements + 1, sizeof *row.line)};
  int problems = 0;
  for (size_t i = 0; i < n_explained; i++) {
    const char *why = tally_rule_unexplainable(cat, explained[i]);
    char shown[256];
    if (why == NULL)
      continue;
    snprintf(shown, sizeof shown, "%s", explained[i]);
    tally_utf8_for_terminal(shown);
    if (say)
      fprintf(stderr, _("tally: the explanation for rule '%s' is refused: the "
              "rule %s; nothing was stored\n"), shown, why);
    problems++;
  }
  if (row.value && row.has && row.line) {
    problems += figures(cat, u, unit, period, figs, file, &row, say);
    problems += rules(cat, u, unit, period, figs, explained, n_explained,
                      replace, file, &row, say);
  }
  free(row.value);
  free(row.has);
  free(row.line);
  return problems;
}

/* Codes are ASCII letters, digits, '_', '.', '-' and '+' (age groups). */
static int code_like(const char *s) {
  for (; *s; s++)
    if (!(isalnum((unsigned char)*s) || strchr("_.-+", *s)))
      return 0;
  return 1;
}

int tally_precheck_has_names(const tally_figfile *figs) {
  for (size_t i = 0; i < figs->n; i++)
    if (!code_like(figs->items[i].element))
      return 1;
  return 0;
}

size_t tally_precheck_codes(const tally_catalog *cat, tally_figfile *figs) {
  size_t named = 0;
  for (size_t i = 0; i < figs->n; i++) {
    char *name = figs->items[i].element;
    if (tally_catalog_element(cat, name) >= 0)
      continue;
    for (size_t e = 0; e < cat->n_elements; e++) {
      const tally_element *el = &cat->elements[e];
      if (strcmp(name, el->name_zh) != 0 && strcasecmp(name, el->name_en) != 0)
        continue;
      char *code = strdup(el->code);
      if (code == NULL)
        break; /* left as it is: the server names it */
      free(name);
      figs->items[i].element = code;
      named++;
      break;
    }
  }
  return named;
}
