/* report_doc.h: what the annual monitoring report's files are made of
 * (tally report --format html, pdf or xlsx, and the district report
 * page's download), fetched once and read by each writer (report_html.c,
 * report_xlsx.c), so that every format shows the same figures: the period's report; a report for each year
 * from the plans' base year on (the trends); for each indicator, each
 * unit's figures behind its value (tally explain); completeness and
 * timeliness; the targets (those the city assigns); and the review
 * queue, when the account may read it. */
#ifndef TALLY_REPORT_DOC_H
#define TALLY_REPORT_DOC_H

#include "catalog.h"
#include "tally.pb-c.h"

#include <stddef.h>
#include <stdint.h>

/* A status in words and as a symbol, so that it reads without colour. */
typedef struct {
  const char *zh;      /* 达标 */
  const char *en;      /* met */
  const char *symbol;  /* ✓ */
  const char *css;     /* a class name: "met", "on-track", ... */
} tally_status_words;

/* The words of s (an unknown one: "未知", "unknown"). Never NULL. */
const tally_status_words *tally_report_status(Tally__Status s);

/* The statuses a report's summary counts, in the order it shows them. */
extern const Tally__Status tally_report_summary_order[];
extern const size_t tally_report_summary_n;

/* Better, worse or similar beyond chance, in words ("" for none). */
const char *tally_report_compare_zh(Tally__Compare c);
const char *tally_report_compare_en(Tally__Compare c);

#define TALLY_REPORT_YEARS_MAX 32

typedef struct {
  const Tally__ReportReply *report;   /* the period's */
  /* The same period of each year from the plans' base year (their
   * earliest start_year - 1) to the period's, oldest first; the last is
   * report itself. */
  const Tally__ReportReply *years[TALLY_REPORT_YEARS_MAX];
  char year_periods[TALLY_REPORT_YEARS_MAX][16]; /* "2021", "2021Q3" */
  int year_of[TALLY_REPORT_YEARS_MAX];
  size_t n_years;
  /* For report->rows[i], its units' figures; explain[i]->units empty
   * for a scope with no units below. */
  const Tally__ExplainReply **explain;
  const Tally__CompletenessReply *completeness;
  const Tally__TargetListReply *targets;
  const Tally__ReviewListReply *review; /* NULL: not for this account */
  const tally_catalog *cat;           /* the server's, for the plans */
  int64_t made_unix;                  /* when it was fetched */
  double fetch_ms;                    /* how long the requests took */
  size_t requests;                    /* how many there were */
} tally_report_doc;

/* How the doc's requests are asked, whatever the transport: req in, the
 * reply envelope out (an error reply is a reply). The client sends it
 * on its connection; tallyd dispatches it as the signed-in account's
 * (server/handle_report_file.c). The asker keeps each reply until it is
 * done with the doc. Returns 0 and *reply, or -1 with why in err (the
 * request did not get through). */
typedef int tally_report_ask_fn(void *ctx, const Tally__Envelope *req,
                                const Tally__Envelope **reply, char *err,
                                size_t n);

/* Why a fetch failed. */
enum {
  TALLY_REPORT_DOC_BAD_PERIOD = -1, /* q's period is not one */
  TALLY_REPORT_DOC_UNREACHABLE = -2, /* the asker failed */
  TALLY_REPORT_DOC_REFUSED = -3,     /* the server said no: code, message */
  TALLY_REPORT_DOC_NO_MEMORY = -4,
};

typedef struct {
  Tally__ErrorCode code; /* the server's, for TALLY_REPORT_DOC_REFUSED */
  char message[512];
} tally_report_doc_error;

/* Asks, through ask, for everything a report file of q's period and
 * scope shows: q itself, q for each earlier year, one explain per
 * indicator of q's reply, completeness, the targets, and the review
 * queue (left out, quietly, for an account that may not read it). q's
 * plan and indicator filters apply to every report; cat is the
 * server's catalog (for the plans' base year and names) and must
 * outlive d. Returns 0 and *d (tally_report_doc_free frees what is
 * its own; the replies stay the asker's), or one of the codes above
 * with *e saying why. */
int tally_report_doc_fetch(tally_report_ask_fn *ask, void *ctx,
                           const tally_catalog *cat,
                           const Tally__ReportRequest *q, tally_report_doc *d,
                           tally_report_doc_error *e);

void tally_report_doc_free(tally_report_doc *d);

/* The row of indicator code in the report of years[y], or NULL. */
const Tally__ReportRow *tally_report_doc_row(const tally_report_doc *d,
                                             size_t y, const char *code);

/* The plan of a report row: its names from the catalog (the code when
 * the catalog has no such plan). */
const char *tally_report_doc_plan_zh(const tally_report_doc *d,
                                     const char *code);
const char *tally_report_doc_plan_en(const tally_report_doc *d,
                                     const char *code);

/* Whether a unit's status against the district's target means anything
 * for an indicator of this kind: not for a sum (total, cumulative), of
 * which a unit holds a share only. The matrix shows such a unit's value
 * and no status. */
int tally_report_unit_judged(const Tally__ReportRow *w);

/* A row's value as the report's table shows it: its milestone level in
 * words, or the number to its decimals; "" when it has none. */
void tally_report_value_text(char *buf, size_t n, const Tally__ReportRow *w);

/* A time as the report files show it, in UTC: "2023-03-01 08:30:00". */
void tally_report_time(char *buf, size_t n, int64_t unix_s);

/* A number with d decimals, sign when asked ("" when has is 0). */
void tally_report_fixed(char *buf, size_t n, int has, double v, int d,
                        int sign);

#endif
