/* catalog.h: the indicator catalog: org units, data elements, indicators.
 *
 * The catalog is data (catalog/changqing.json), loaded and checked whole
 * at start-up. The structures below are read-only after loading; indexes
 * between them (a unit's parent, an indicator's data elements) are
 * positions in the catalog's arrays, -1 for none.
 */
#ifndef TALLY_CATALOG_H
#define TALLY_CATALOG_H

#include "arena.h"

#include <stddef.h>

#define TALLY_CODE_MAX 31 /* longest unit or data element code */

struct tally_code_index;

typedef struct {
  char *code;
  char *name_zh;
  char *name_en;
  char *level;   /* "district", "subdistrict", "town", ... */
  int parent;    /* index of the parent unit; -1 for the root */
  int is_leaf;   /* reporting unit: no unit has it as parent */
  int *children; /* the units with it as parent, in catalog order */
  int n_children;
  int leaves;    /* reporting units within it (itself, for a leaf) */
} tally_unit;

typedef enum {
  TALLY_ELEMENT_COUNT = 0,  /* a whole number >= 0 */
  TALLY_ELEMENT_AMOUNT = 1, /* a real number >= 0 */
  TALLY_ELEMENT_STATUS = 2  /* one of the element's levels */
} tally_element_type;

/* One level of a status element: an ordinal milestone. */
typedef struct {
  int value;     /* its number; higher is further on */
  char *zh;
  char *en;
} tally_level;

typedef struct {
  char *code;               /* "deaths.1-4" for one age group of "deaths" */
  char *name_zh;
  char *name_en;
  char *unit;               /* unit of measure, e.g. "persons" */
  char *unit_zh;            /* the same in Chinese ("人"); may be NULL */
  tally_element_type type;
  int district_only;        /* reported by the root unit alone */
  tally_level *levels;      /* a status element's levels, lowest first */
  size_t n_levels;
  int group;                /* index into age_groups, or -1 */
  int age_from;             /* the group's first age (with group >= 0) */
  int age_width;            /* years in the group; 0 = open ("85+") */
} tally_element;

/* An element reported once per age group: its groups are the elements
 * first .. first + n - 1, youngest first. */
typedef struct {
  char *code;               /* the element's code without a group */
  int first;
  int n;
} tally_age_groups;

/* The kinds of indicator; each has its row in kind.c. */
typedef enum {
  TALLY_KIND_RATIO = 0,          /* sum(numerator) / sum(denominator) * factor */
  TALLY_KIND_TOTAL,              /* sum(element) * factor */
  TALLY_KIND_WEIGHTED_MEAN,      /* sum(element * weight) / sum(weight) */
  TALLY_KIND_GROWTH,             /* (sum x(t) / sum x(t-1) - 1) * 100 */
  TALLY_KIND_INTENSITY_REDUCTION,/* (1 - (N/D)(t) / (N/D)(base)) * 100 */
  TALLY_KIND_CUMULATIVE,         /* sum over from_year..t of sum(element) */
  TALLY_KIND_LIFE_EXPECTANCY,    /* e0 of an abridged life table */
  TALLY_KIND_PREMATURE_MORTALITY,/* 40q30, WHO SDG 3.4.1 */
  TALLY_KIND_MILESTONE,          /* a status reported by the district */
  TALLY_KIND_UNIT_THRESHOLD      /* a ratio every unit must meet */
} tally_kind;

typedef enum {
  TALLY_OP_GE = 0,
  TALLY_OP_GT,
  TALLY_OP_LE,
  TALLY_OP_LT,
  TALLY_OP_ABOUT,      /* within value +- tolerance */
  TALLY_OP_ABOUT_LE,   /* at most about value: <= value + tolerance */
  TALLY_OP_ABOUT_GE,   /* at least about value: >= value - tolerance */
  TALLY_OP_CHANGE_LE,  /* the change on the previous period <= value */
  TALLY_OP_CHANGE_GE,
  TALLY_OP_CHANGE_LT,
  TALLY_OP_CHANGE_GT,
  TALLY_OP_TEXT,       /* in words: not judged */
  TALLY_OP_ASSIGNED    /* assigned later by the city (tally target set) */
} tally_op;

typedef struct {
  int year;
  tally_op op;
  double value;
  double tolerance;    /* TALLY_OP_ABOUT, _LE, _GE */
  int has_level;       /* a milestone's target: at least this level */
  char *text;          /* the source's words, or NULL */
} tally_target;

typedef struct {
  char *scope;   /* "province", "city", "district" */
  int year;      /* 0 when the source gives none */
  int has_value; /* else text holds the baseline in words */
  double value;
  char *text;
} tally_baseline;

/* One of a plan's actions (the health action's fifteen 专项行动), and
 * the department that leads it (牵头部门), which answers for its
 * indicators. */
typedef struct {
  int number;      /* 1, 2, ...: as the plan numbers them */
  char *name_zh;
  char *name_en;
  char *part_zh;   /* the part of the plan it is in; may be NULL */
  char *part_en;
  char *lead_zh;   /* the lead department */
  char *lead_en;
} tally_action;

typedef struct {
  char *code;      /* "health", "plan" */
  int start_year;  /* first year the plan covers; targets apply from it */
  char *name_zh;
  char *name_en;
  tally_action *actions; /* by number; none for a plan without actions */
  size_t n_actions;
} tally_plan;

typedef struct {
  char *code;          /* "H02", "P01" */
  int plan;            /* index into plans */
  int seq;             /* row in the source table */
  char *category_zh;   /* may be NULL */
  char *category_en;   /* may be NULL */
  int action;          /* index into its plan's actions, or -1 */
  char *name_zh;
  char *name_en;
  char *unit;          /* unit of measure of the value */
  char *unit_zh;       /* the same in Chinese ("‰"); may be NULL */
  tally_kind kind;
  /* Element indexes the kind uses; -1 where it uses none. */
  int numerator;       /* ratio, unit_threshold, intensity_reduction */
  int denominator;
  /* A ratio's numerator or denominator may instead be an element
   * reported by age groups, all of them summed: an index into
   * age_groups (and numerator or denominator -1), or -1. */
  int numerator_groups;
  int denominator_groups;
  int element;         /* total, weighted_mean, growth, cumulative, milestone */
  int weight;          /* weighted_mean */
  int births;          /* life_expectancy (cn_textbook) */
  int deaths_groups;   /* life tables: index into age_groups, or -1 */
  int population_groups;
  double factor;       /* multiplier applied to the quotient or the sum */
  int bounded;         /* a unit's numerator may not exceed its denominator */
  int base_year;       /* intensity_reduction; growth: the year its
                          average annual growth is counted from (0: none) */
  int from_year;       /* cumulative */
  int method;          /* life_expectancy: a tally_lifetable_method */
  double a0, a;        /* life table parameters (NAN = the method's default) */
  double *nax;         /* life_expectancy: per deaths group, the years a
                          lived in it by those who die in it (NAN = the
                          method's), or NULL */
  int sex;             /* a tally_lifetable_sex (coale_demeny) */
  int q0_population;   /* cn_textbook: q0 = deaths aged 0 / population
                          aged 0, not / live births */
  double min_population; /* life tables: smaller populations are not judged */
  tally_target unit_target; /* unit_threshold */
  int higher_is_better;
  int no_interval;     /* "interval": "none": no confidence interval */
  int path_rate;       /* the path to a later target: 1 at a constant
                          rate, 0 in a straight line */
  int decimals;        /* decimals to show */
  char *attribute;     /* "expected", "binding", or NULL */
  char *source;        /* where in the source documents it comes from */
  tally_target *targets; /* ascending by year */
  size_t n_targets;
  tally_baseline *baselines;
  size_t n_baselines;
} tally_indicator;

/* A rule's comparison of its two sides. */
typedef enum {
  TALLY_RULE_LE = 0,
  TALLY_RULE_LT,
  TALLY_RULE_EQ,       /* within the rule's tolerance */
  TALLY_RULE_GE,
  TALLY_RULE_GT
} tally_rule_op;

/* One side of a rule: factor x (the sum of its elements) + constant. */
typedef struct {
  int *elements;       /* element indexes; n = 0 for a constant */
  size_t n;
  double factor;
  double constant;
} tally_rule_side;

/* What a rule checks: its two sides against each other, or, for the
 * outlier tests (warnings, checked by the server: server/outlier.c), a
 * figure against the unit's own earlier years, or a unit's rate against
 * the other units'. */
typedef enum {
  TALLY_RULE_COMPARE = 0,
  TALLY_RULE_HISTORY,  /* left: the element; modified z-score > threshold */
  TALLY_RULE_UNITS     /* left / right: a ratio's numerator and
                          denominator; two-sided p < alpha */
} tally_rule_test;

/* A validation rule (审核公式) over one unit's figures of one period
 * (rule.h checks it). An error rule (逻辑性) says the figures are
 * impossible: they are refused. A warning (合理性) says they are
 * unusual: they are refused unless they come with an explanation. */
typedef struct {
  char *code;          /* "infant_deaths", "H05_bounded" */
  tally_rule_test test;
  double threshold;    /* HISTORY: the modified z-score's */
  int min_years;       /* HISTORY: earlier years needed, of at most */
  int years;           /* this many looked back at */
  double alpha;        /* UNITS: the test's level */
  tally_rule_side left, right;
  tally_rule_op op;
  int warning;         /* 1: a warning; 0: an error */
  int skip_if_all;     /* skipped only when every element is missing (the
                          missing count as 0); else when any is */
  double tolerance;    /* TALLY_RULE_EQ: |left - right| may be this much */
  double tolerance_percent; /* ... or this percentage of |right| */
  int district;        /* its elements are reported by the district alone */
  char *message_zh;
  char *message_en;
  int indicator;       /* a bounded ratio's or UNITS test's indicator, or
                          -1 */
} tally_rule;

typedef struct {
  char *name;
  char *origin;        /* the file it came from, for messages */
  unsigned long long fingerprint; /* a hash of its text */
  void *doc;           /* the parsed JSON that every string borrows from */
  char *text;          /* doc as the server sends it (CatalogReply), */
  size_t text_len;     /* made once at load, and its 64-bit FNV-1a */
  unsigned long long text_fingerprint;
  tally_arena arena;   /* arrays and strings made while loading */
  int root;            /* index of the root unit */
  tally_unit *units;
  size_t n_units;
  tally_element *elements;     /* age groups expanded: one per group */
  size_t n_elements;
  tally_age_groups *age_groups;
  size_t n_age_groups;
  tally_plan *plans;
  size_t n_plans;
  tally_indicator *indicators;
  size_t n_indicators;
  tally_rule *rules;   /* the catalog's, one per bounded ratio, then the
                          outlier tests */
  size_t n_rules;
  struct {             /* when reports are due (tally_period_due_day) */
    int year_month, year_day;  /* of the next year: 1, 20 */
    int quarter_days;          /* after the quarter: 10 */
    int month_day;             /* of the next month: 20 */
  } deadlines;
  struct tally_code_index *unit_index;    /* codes hashed, for lookups */
  struct tally_code_index *element_index;
  int *element_by_code; /* the elements in the order of their codes
                           (strcmp's: the store's keys' order) */
  int *element_rank;    /* each element's place in that order */
  struct tally_code_index *indicator_index;
} tally_catalog;

/* Loads and checks a catalog from JSON text. origin names the text in
 * messages. Returns 0 and *out (free it with tally_catalog_free), or
 * TALLY_ECATALOG with a message "ORIGIN: ENTRY: PROBLEM" in err, or
 * -ENOMEM. */
int tally_catalog_load_buffer(const char *origin, const char *json,
                              size_t len, tally_catalog **out, char *err,
                              size_t errlen);

/* The same for a reader that does not hand the catalog on (the client):
 * without its canonical text (text NULL, text_len and text_fingerprint
 * 0), which takes a tenth of a second to write for a province's. */
int tally_catalog_read_buffer(const char *origin, const char *json,
                              size_t len, tally_catalog **out, char *err,
                              size_t errlen);

/* The same for a file; a file that cannot be read gives -errno and a
 * message. */
int tally_catalog_load_file(const char *path, tally_catalog **out, char *err,
                            size_t errlen);

/* The catalog compiled into the binaries (catalog/changqing.json). */
int tally_catalog_load_builtin(tally_catalog **out, char *err, size_t errlen);

void tally_catalog_free(tally_catalog *cat);

/* Index of the unit, element or indicator with this code, or -1. */
int tally_catalog_unit(const tally_catalog *cat, const char *code);
int tally_catalog_element(const tally_catalog *cat, const char *code);
/* The same, trying guess first (an element index; any int): one strcmp
 * where a caller reading elements in a known order guesses right, none
 * when code is the catalog's own string for it (the loop hands the
 * writer the catalog's codes). */
int tally_catalog_element_guess(const tally_catalog *cat, const char *code,
                                int guess);
int tally_catalog_indicator(const tally_catalog *cat, const char *code);
int tally_catalog_rule(const tally_catalog *cat, const char *code);

/* True when unit is scope or lies below it in the tree. */
int tally_catalog_unit_within(const tally_catalog *cat, int unit, int scope);

/* "<=", "about", "change<=", "text", "assigned", ... */
const char *tally_op_text(tally_op op);

/* Parses an op's text. Returns 0 or TALLY_ENOTFOUND. */
int tally_op_parse(const char *s, tally_op *op);

/* True for about, about<= and about>=: the ops with a tolerance. */
int tally_op_is_about(tally_op op);

/* Index into age_groups of the element reported by groups, or -1. */
int tally_catalog_age_groups(const tally_catalog *cat, const char *code);

/* The level of a status element with this value, or NULL. */
const tally_level *tally_element_level(const tally_element *e, int value);

#endif
