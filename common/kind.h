/* kind.h: the table of indicator kinds, one row per kind.
 *
 * Everything that differs from one kind to the next is in its row, as
 * Redis keeps everything about a command in its command table: its name
 * in the catalog, the keys it needs and allows, the size of its sums,
 * how a unit's share is taken, how the value is computed from the sums,
 * its confidence interval, the formula `tally explain` shows, and which
 * periods a share reads.
 * The catalog loader, the engine (indicator.c), the rollup and the lock
 * look-back all read the row, so adding a kind is one row in kind.c
 * (with its functions) and one name in tally_kind (catalog.h).
 */
#ifndef TALLY_KIND_H
#define TALLY_KIND_H

#include "arena.h"
#include "catalog.h"
#include "indicator.h"
#include "period.h"

#include <stdint.h>

/* The kind-specific keys of an indicator in the catalog, as bits. */
enum {
  TALLY_KEY_NUM = 1 << 0,      /* numerator */
  TALLY_KEY_DEN = 1 << 1,      /* denominator */
  TALLY_KEY_ELEM = 1 << 2,     /* element */
  TALLY_KEY_WEIGHT = 1 << 3,
  TALLY_KEY_BIRTHS = 1 << 4,
  TALLY_KEY_DEATHS = 1 << 5,
  TALLY_KEY_POP = 1 << 6,      /* population */
  TALLY_KEY_FACTOR = 1 << 7,
  TALLY_KEY_BOUNDED = 1 << 8,
  TALLY_KEY_BASE = 1 << 9,     /* base_year */
  TALLY_KEY_FROM = 1 << 10,    /* from_year */
  TALLY_KEY_METHOD = 1 << 11,
  TALLY_KEY_PARAMS = 1 << 12,
  TALLY_KEY_MINPOP = 1 << 13,  /* min_population */
  TALLY_KEY_UTARGET = 1 << 14  /* unit_target */
};
#define TALLY_KEY_COUNT 15

/* The keys' names in the catalog, by bit: tally_kind_keys[0] is
 * "numerator". */
extern const char *const tally_kind_keys[TALLY_KEY_COUNT];

/* Which periods a unit's share of period p reads, besides p itself. */
typedef enum {
  TALLY_READS_OWN = 0,   /* p alone */
  TALLY_READS_BEFORE,    /* the period before p too */
  TALLY_READS_BEFORE_AND_BASE, /* the period before p, and (for a year p
                                  after base_year, when the indicator has
                                  one) the year base_year: a growth */
  TALLY_READS_BASE_YEAR, /* the year base_year too, whatever p's kind */
  TALLY_READS_YEARS_FROM /* for a year p >= from_year, the years
                            from_year .. p (and nothing otherwise) */
} tally_kind_reads;

typedef struct {
  const char *name;  /* in the catalog's "kind": "ratio", ... */
  tally_kind kind;   /* its place in tally_kinds */
  unsigned need;     /* TALLY_KEY_* an indicator of it must have */
  unsigned allow;    /* TALLY_KEY_* it may have besides */
  int sums;          /* sums in tally_sums.cur, besides by_age's */
  int by_age;        /* 1: one sum more per age group of deaths and one
                        per age group of population, deaths first */
  tally_kind_reads reads;
  /* A unit's share of the sums for p into v (tally_kind_sums of them):
   * 1 when it reported all the kind needs, 0 when not, < 0 on error. */
  int (*share)(const tally_catalog *cat, const tally_indicator *in,
               tally_source *src, int unit, const tally_period *p,
               tally_amount *v);
  /* The value from sums s over r->units_counted units, for p, into r:
   * 0 when there is one, else the tally_status there is instead. */
  int (*value)(const tally_catalog *cat, const tally_indicator *in,
               const tally_period *p, const tally_amount *s,
               tally_result *r);
  /* The value's 95 % confidence interval from the same sums, into r
   * (has_interval, lower, upper, variance, interval_method), once the
   * value is there; NULL for a kind that has none (totals, growth and
   * the like are no samples of chance events). Leaves r without an
   * interval where its method does not apply. */
  void (*interval)(const tally_catalog *cat, const tally_indicator *in,
                   const tally_amount *s, tally_result *r);
  /* The formula in words, in a (NULL: no memory). */
  const char *(*formula)(const tally_catalog *cat, const tally_indicator *in,
                         tally_arena *a);
} tally_kind_def;

#define TALLY_KIND_COUNT 10

/* Every kind, indexed by tally_kind. */
extern const tally_kind_def tally_kinds[TALLY_KIND_COUNT];

/* The row of kind, or NULL for a number that is no kind. */
const tally_kind_def *tally_kind_get(tally_kind kind);

/* The row named name in the catalog, or NULL. */
const tally_kind_def *tally_kind_find(const char *name);

/* The kind's name in the catalog: "ratio", "life_expectancy", ... */
const char *tally_kind_name(tally_kind kind);

/* How many of tally_sums.cur (and .prev) the indicator's kind uses. */
int tally_kind_sums(const tally_catalog *cat, const tally_indicator *in);

/* The periods a unit's share of in for p reads (p itself included, when
 * it reads p at all), in order. Writes up to max into out; returns how
 * many there are. */
int tally_kind_reads_of(const tally_indicator *in, const tally_period *p,
                        tally_period *out, int max);

/* The same for a report of p, which takes the share of p and the share
 * of the period before (for the previous value): each period once,
 * in key order. */
int tally_kind_report_reads(const tally_indicator *in, const tally_period *p,
                            tally_period *out, int max);

/* Where tally_kind_changed_by sends what it finds. */
typedef struct {
  /* Called with each period found (perhaps more than once). Returns 0,
   * or < 0 to stop with that code. */
  int (*found)(void *arg, const tally_period *p);
  /* Every period with figures, as keys: asked for only when q is read
   * from far off (a base year, a year of a cumulative sum). Returns 0
   * or < 0. */
  int (*every)(void *arg, const uint32_t **keys, int *n);
  void *arg;
} tally_kind_visit;

/* The periods whose report of in reads q: the shares a change to q's
 * figures changes. Calls v->found for each: the periods whose share
 * reads q (q itself, for most kinds), and the period after each of
 * those (whose previous value reads it); periods far off are looked for
 * among v->every's. Returns 0 or the first error. */
int tally_kind_changed_by(const tally_indicator *in, const tally_period *q,
                          const tally_kind_visit *v);

#endif
