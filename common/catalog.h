/* catalog.h: the indicator catalog: org units, data elements, indicators.
 *
 * The catalog is data (catalog/changqing.json), loaded and checked whole
 * at start-up. The structures below are read-only after loading; indexes
 * between them (a unit's parent, an indicator's data elements) are
 * positions in the catalog's arrays, -1 for none.
 */
#ifndef TALLY_CATALOG_H
#define TALLY_CATALOG_H

#include <stddef.h>

#define TALLY_CODE_MAX 31 /* longest unit or data element code */

struct tally_code_ref;

typedef struct {
  char *code;
  char *name_zh;
  char *name_en;
  char *level;   /* "district", "subdistrict", "town", ... */
  int parent;    /* index of the parent unit; -1 for the root */
  int is_leaf;   /* reporting unit: no unit has it as parent */
} tally_unit;

typedef enum {
  TALLY_ELEMENT_COUNT = 0, /* a whole number >= 0 */
  TALLY_ELEMENT_AMOUNT = 1 /* a real number >= 0 */
} tally_element_type;

typedef struct {
  char *code;
  char *name_zh;
  char *name_en;
  char *unit;               /* unit of measure, e.g. "persons" */
  tally_element_type type;
  int district_only;        /* reported by the root unit alone */
} tally_element;

typedef enum {
  TALLY_KIND_RATIO = 0, /* sum(numerator) / sum(denominator) * factor */
  TALLY_KIND_TOTAL = 1  /* sum(element) * factor */
} tally_kind;

typedef enum {
  TALLY_OP_GE = 0,
  TALLY_OP_GT,
  TALLY_OP_LE,
  TALLY_OP_LT
} tally_op;

typedef struct {
  int year;
  tally_op op;
  double value;
} tally_target;

typedef struct {
  char *scope;   /* "province", "city", "district" */
  int year;      /* 0 when the source gives none */
  int has_value; /* else text holds the baseline in words */
  double value;
  char *text;
} tally_baseline;

typedef struct {
  char *code;      /* "health", "plan" */
  int start_year;  /* first year the plan covers; targets apply from it */
  char *name_zh;
  char *name_en;
} tally_plan;

typedef struct {
  char *code;          /* "H02", "P01" */
  int plan;            /* index into plans */
  char *category_zh;   /* may be NULL */
  char *category_en;   /* may be NULL */
  char *name_zh;
  char *name_en;
  char *unit;          /* unit of measure of the value */
  tally_kind kind;
  int numerator;       /* element index: ratio numerator, or total's element */
  int denominator;     /* element index: ratio denominator; -1 for a total */
  double factor;       /* multiplier applied to the quotient or the sum */
  int higher_is_better;
  int decimals;        /* decimals to show */
  char *attribute;     /* "expected", "binding", or NULL */
  char *source;        /* where in the source documents it comes from */
  tally_target *targets; /* ascending by year */
  size_t n_targets;
  tally_baseline *baselines;
  size_t n_baselines;
} tally_indicator;

typedef struct {
  char *name;
  char *origin;        /* the file it came from, for messages */
  void *doc;           /* the parsed JSON that every string borrows from */
  int root;            /* index of the root unit */
  tally_unit *units;
  size_t n_units;
  tally_element *elements;
  size_t n_elements;
  tally_plan *plans;
  size_t n_plans;
  tally_indicator *indicators;
  size_t n_indicators;
  struct tally_code_ref *unit_index;      /* codes sorted, for lookups */
  struct tally_code_ref *element_index;
  struct tally_code_ref *indicator_index;
} tally_catalog;

/* Loads and checks a catalog from JSON text. origin names the text in
 * messages. Returns 0 and *out (free it with tally_catalog_free), or
 * TALLY_ECATALOG with a message "ORIGIN: ENTRY: PROBLEM" in err, or
 * -ENOMEM. */
int tally_catalog_load_buffer(const char *origin, const char *json,
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
int tally_catalog_indicator(const tally_catalog *cat, const char *code);

/* True when unit is scope or lies below it in the tree. */
int tally_catalog_unit_within(const tally_catalog *cat, int unit, int scope);

/* Number of reporting (leaf) units within scope. */
int tally_catalog_leaf_count(const tally_catalog *cat, int scope);

const char *tally_op_text(tally_op op);

#endif
