/* lifetable.h: life expectancy at birth and WHO SDG 3.4.1 premature NCD
 * mortality, from deaths and mid-year population by age group.
 *
 * Pure computation: no I/O, no allocation. Inputs are sums over the
 * reporting units in scope (so doubles); an indicator is never a mean of
 * unit values.
 *
 * Life table (abridged): groups 0, 1-4, 5-9, 10-14, ... and an open last
 * group (80+, 85+, 90+, ...). Per group, with n its width:
 *   M = D / P
 *   q = n M / (1 + (n - a) M)          Chiang (1984); PHG (2001) ch. 3
 *   l(x+n) = l(x) (1 - q),  d = l q,   l(0) = 100000
 *   L = n l(x+n) + a d                 (a: years lived by those who die)
 *   open group: q = 1, L = l / M
 *   T(x) = sum of L from x up,  e(x) = T(x) / l(x)
 * The methods differ only in a (and, for the Chinese textbook method, q0):
 *
 * - TALLY_LIFETABLE_CHIANG2: Chiang's method II as in the PHE/OHID life
 *   expectancy calculator: a = 0.1 years at age 0, a = n/2 elsewhere
 *   (both fractions are parameters).
 * - TALLY_LIFETABLE_COALE_DEMENY: a0 and 4a1 from 1M0 by the Coale-Demeny
 *   rules of Preston, Heuveline and Guillot, Demography (2001), table 3.3;
 *   a = n/2 elsewhere unless the caller gives its own.
 *     male:   1M0 >= 0.107: a0 = 0.330, 4a1 = 1.352
 *             else          a0 = 0.045 + 2.684 1M0, 4a1 = 1.651 - 2.816 1M0
 *     female: 1M0 >= 0.107: a0 = 0.350, 4a1 = 1.361
 *             else          a0 = 0.053 + 2.800 1M0, 4a1 = 1.522 - 1.518 1M0
 *     both sexes: the table has no such rule. We take the male and female
 *     values (each from the combined 1M0) weighted by the sex ratio at
 *     birth, boys per girl (default 1.05): a = (srb a_m + a_f) / (srb + 1),
 *     since infants of both sexes are about 51 % boys. (DemoTools and the
 *     PAS spreadsheets take the female values instead.)
 * - TALLY_LIFETABLE_CN_TEXTBOOK: the convention of Chinese health
 *   statistics textbooks (卫生统计学, 寿命表): q0 from the infants,
 *   deaths under 1 over in->births, which the caller sets to the
 *   population aged 0 (the textbook's q0 = D0 / P0; its worked example,
 *   /work/shared/lifetables/cn_textbook_a0_0.15.tsv, is reproduced by
 *   tests/test_lifetable.c) or to the live births (the infant mortality
 *   rate, which many offices use instead); L0 = l1 + a0 d0 with a0 =
 *   0.15 (a parameter; the textbook's figure for both sexes); other
 *   closed groups q = 2 n M / (2 + n M) and L = n (l(x) + l(x+n)) / 2,
 *   which is the formula above with a = n/2; open group L = l / M.
 *
 * Any method's a can be replaced group by group (params.nax), so that
 * published tables that give them are reproduced.
 *
 * The standard error of e(x) is Chiang's (1984), with Silcocks, Jenner
 * and Reza's (2001) term for the open group, as the PHE/OHID calculator
 * takes it (PHEindicatormethods' phe_life_expectancy):
 *   Var(q) = q^2 (1 - q) / D  (0 without deaths)
 *   Var(e(x)) = sum over the closed groups i >= x of
 *                 l(i)^2 ((n - a) + e(i+n))^2 Var(q(i)),
 *               plus, for the open group w, l(w)^2 / (D(w) M(w)^2),
 *               all over l(x)^2;
 * and the 95 % interval is e +- 1.96 se (the calculator's z, not the
 * exact 1.959964 of interval.h: its published limits are reproduced to
 * 1e-6 only with it). (With q0 = D0 / B, Var(q0) is the
 * binomial q0 (1 - q0) / B: the same formula.) Like the calculator,
 * a table whose e0 interval is wider than 20 years gives no value.
 *
 * The happy path: validate, check the population threshold, build the
 * table, return 0 with res->status TALLY_LIFETABLE_VALUE.
 * The failure modes: bad arguments (-EINVAL); data that cannot make a
 * table (TALLY_EVALUE, with res->reason and res->bad_group saying why
 * and where); too little population, which is no error: 0 with
 * res->status TALLY_LIFETABLE_TOO_SMALL (or TOO_WIDE) and no value.
 */
#ifndef TALLY_LIFETABLE_H
#define TALLY_LIFETABLE_H

#define TALLY_LIFETABLE_RADIX 100000.0
#define TALLY_LIFETABLE_MIN_POPULATION                                         \
  5000.0 /* this many or fewer: no value,                                      \
            as the PHE/OHID calculator */
#define TALLY_LIFETABLE_MAX_CI_YEARS                                           \
  20.0 /* a wider 95 % interval of e0:                                         \
          no value, as the same */
#define TALLY_LIFETABLE_Z                                                      \
  1.96 /* of the 95 % intervals: the                                           \
          calculator's (its published                                          \
          limits are made with it) */
#define TALLY_LIFETABLE_MAX_GROUPS 64
#define TALLY_SDG341_GROUPS 8                  /* 30-34, 35-39, ..., 65-69 */

typedef enum {
  TALLY_LIFETABLE_CHIANG2 = 1,
  TALLY_LIFETABLE_COALE_DEMENY = 2,
  TALLY_LIFETABLE_CN_TEXTBOOK = 3
} tally_lifetable_method;

typedef enum {
  TALLY_LIFETABLE_MALE = 1,
  TALLY_LIFETABLE_FEMALE = 2,
  TALLY_LIFETABLE_BOTH = 3
} tally_lifetable_sex;

typedef struct {
  tally_lifetable_method method;
  double min_population; /* a total population of this or less: no value */
  /* Chiang II */
  double chiang_a0;      /* fraction of year 0 lived by infants who die */
  double chiang_a;       /* fraction of n lived in other closed groups */
  /* Coale-Demeny */
  tally_lifetable_sex sex;
  double srb;            /* boys per girl at birth, weights "both" */
  const double *nax;     /* NULL, or per group the years a lived in it by
                            those who die in it (Chiang's fraction a times
                            n), for any method: replaces the method's a in
                            the closed groups where it is not NAN (the
                            open group's entry is not read) */
  /* Chinese textbook */
  double cn_a0;          /* L0 = l1 + cn_a0 d0 */
} tally_lifetable_params;

typedef struct {
  int n_groups;              /* 2 to TALLY_LIFETABLE_MAX_GROUPS */
  const int *start;          /* 0, 1, 5, 10, ..., last = open group */
  const double *deaths;      /* D per group */
  const double *population;  /* mid-year P per group */
  double births;             /* live births; read by CN_TEXTBOOK only */
} tally_lifetable_input;

/* One row of the table. */
typedef struct {
  int start;  /* x */
  int n;      /* width in years; 0 for the open group */
  double M;   /* D / P */
  double a;   /* years lived in the group by those who die in it */
  double q, l, d, L, T, e;
  double se; /* standard error of e (Chiang; Silcocks' open group) */
} tally_lifetable_row;

typedef enum {
  TALLY_LIFETABLE_VALUE = 0,     /* value holds the indicator */
  TALLY_LIFETABLE_TOO_SMALL = 1, /* population at or under the threshold */
  TALLY_LIFETABLE_TOO_WIDE = 2   /* e0's 95 % interval is wider than
                                    TALLY_LIFETABLE_MAX_CI_YEARS */
} tally_lifetable_status;

typedef struct {
  tally_lifetable_status status;
  double value;       /* e0 in years, or 40q30 in %; NAN unless VALUE */
  double se;          /* its standard error; NAN unless VALUE (or WIDE) */
  double lower, upper; /* its 95 % interval; NAN unless VALUE */
  double population;  /* total population the rule was applied to */
  int bad_group;      /* on TALLY_EVALUE, the offending group, else -1 */
  const char *reason; /* on TALLY_EVALUE, a static explanation, else NULL */
} tally_lifetable_result;

/* Fills *p with the defaults of method m: threshold 5,000; Chiang a0 0.1
 * and a 0.5; Coale-Demeny both sexes, srb 1.05, no nax; CN a0 0.15. */
void tally_lifetable_params_default(tally_lifetable_params *p,
                                    tally_lifetable_method m);

/* Computes e0 from in with method p->method into *res; when rows is not
 * NULL and there is a value, also writes in->n_groups rows into it.
 * Returns 0 (check res->status), TALLY_EVALUE when the data cannot make
 * a table: fewer than 2 or more than TALLY_LIFETABLE_MAX_GROUPS groups;
 * starts not 0, 1, 5, 10, ... in steps of
 * 5; a negative or non-finite count; a group with no population (it
 * is not a group without mortality: its deaths were not counted
 * against anyone), or more deaths than population in a group; no
 * deaths in the open group; a closed group whose q would exceed 1; for
 * CN_TEXTBOOK, births not above zero or below infant deaths. Returns
 * -EINVAL for NULL pointers, an unknown method or parameters out of
 * range. Data errors take precedence over the threshold, except those
 * that small numbers alone cause (an open group without deaths, q > 1).
 * Zero deaths in a closed group are fine. */
int tally_lifetable_compute(const tally_lifetable_input *in,
                            const tally_lifetable_params *p,
                            tally_lifetable_result *res,
                            tally_lifetable_row *rows);

/* WHO SDG 3.4.1: the probability (%) of dying between exact ages 30 and
 * 70 from cardiovascular disease, cancer, diabetes or chronic respiratory
 * disease (ICD-10 I00-I99, C00-C97, E10-E14, J30-J98). deaths[i] (those
 * four causes) and population[i] are for ages 30+5i to 34+5i, i = 0..7.
 *   5M = D / P,  5q = 5 M / (1 + 2.5 M),  40q30 = 1 - prod(1 - 5q)
 * (WHO indicator metadata; the Chiang formula with a = 2.5.) value is
 * 100 x 40q30. Its standard error is Chiang's for the probability of
 * surviving several groups, 40p30 = prod(1 - 5q):
 *   Var(40q30) = 40p30^2 sum of Var(5q) / (1 - 5q)^2,
 *   Var(5q) = 5q^2 (1 - 5q) / D  (as in the life table),
 * and its 95 % interval value +- 1.96 se, held within 0 .. 100.
 * At or below min_population (summed over the 8 groups; pass
 * TALLY_LIFETABLE_MIN_POPULATION for the same rule as e0, 0 for none)
 * res->status is TALLY_LIFETABLE_TOO_SMALL. Returns 0, TALLY_EVALUE
 * (negative or non-finite counts, a group with no population, more
 * deaths than population, 5M above 0.4 so that 5q > 1) or -EINVAL. */
int tally_sdg341_compute(const double deaths[TALLY_SDG341_GROUPS],
                         const double population[TALLY_SDG341_GROUPS],
                         double min_population, tally_lifetable_result *res);

#endif
