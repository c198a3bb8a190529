/* test_import_packed.c: an import's packed reports, through the server's
 * decoder, come out as the reports they stand for: the same units,
 * periods, ids and values as the same reports sent whole, and the same
 * digest (so a file imported before, in the old form, is the same
 * submission now); a packed report that does not fit its codes, or too
 * many reports, is refused with the reason. */
#include "error.h"
#include "frame.h"
#include "import_packed.h"
#include "submit_bytes.h"
#include "wire.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static char *codes[] = {"live_births", "infant_deaths", "physicians"};

/* Packs env and decodes it as the server does, into a. Returns the
 * decoder's code, with *out and why. */
static int through_server(const Tally__Envelope *env, tally_arena *a,
                          Tally__Envelope **out, char *why, size_t n) {
  uint8_t *frame;
  size_t len;
  cr_assert_eq(tally_wire_pack(env, 0, &frame, &len), 0);
  int rc = tally_wire_decode_in(a, frame + TALLY_FRAME_HEADER,
                                len - TALLY_FRAME_HEADER, out, why, n);
  free(frame);
  return rc;
}

/* A packed report of n values, its arrays e and v. */
static Tally__PackedReport packed_of(char *unit, char *period, char *id,
                                     uint32_t *e, double *v, size_t n) {
  Tally__PackedReport p = TALLY__PACKED_REPORT__INIT;
  p.unit = unit;
  p.period = period;
  p.submission_id = id;
  p.elements = e;
  p.n_elements = n;
  p.values = v;
  p.n_values = n;
  return p;
}

static Tally__Envelope import_of(Tally__ImportRequest *q) {
  Tally__Envelope env = TALLY__ENVELOPE__INIT;
  env.id = 7;
  env.body_case = TALLY__ENVELOPE__BODY_IMPORT_REQUEST;
  env.import_request = q;
  return env;
}

Test(import_packed, reads_as_the_reports_sent_whole) {
  /* One report sent whole, two packed: physicians, then live_births
   * and infant_deaths (codes in the order the client met them). */
  Tally__Value w1 = TALLY__VALUE__INIT, *whole_values[] = {&w1};
  w1.element = "physicians";
  w1.value = 12;
  Tally__SubmitRequest whole = TALLY__SUBMIT_REQUEST__INIT,
                       *reports[] = {&whole};
  whole.unit = "wenchang";
  whole.period = "2022";
  whole.values = whole_values;
  whole.n_values = 1;
  whole.submission_id = "s-1";

  uint32_t e1[] = {2, 0, 1}, e2[] = {0};
  double v1[] = {3, 1255, 4}, v2[] = {980};
  Tally__PackedReport p1 = packed_of("guide", "2022", "imp-2022-guide-1", e1,
                                     v1, 3),
                      p2 = packed_of("guide", "2021", "", e2, v2, 1),
                      *packed[] = {&p1, &p2};

  Tally__ImportRequest q = TALLY__IMPORT_REQUEST__INIT;
  q.reports = reports;
  q.n_reports = 1;
  q.element_codes = codes;
  q.n_element_codes = 3;
  q.packed = packed;
  q.n_packed = 2;
  Tally__Envelope env = import_of(&q), *got;
  tally_arena a = TALLY_ARENA_INIT;
  char why[200] = "";
  cr_assert_eq(through_server(&env, &a, &got, why, sizeof why), 0, "%s", why);

  const Tally__ImportRequest *r = got->import_request;
  cr_assert_eq(r->n_reports, 3);
  cr_assert_eq(r->n_packed, 0);
  cr_assert_str_eq(r->reports[0]->unit, "wenchang");
  cr_assert_str_eq(r->reports[0]->values[0]->element, "physicians");
  const Tally__SubmitRequest *s = r->reports[1];
  cr_assert_str_eq(s->unit, "guide");
  cr_assert_str_eq(s->period, "2022");
  cr_assert_str_eq(s->submission_id, "imp-2022-guide-1");
  cr_assert_eq(s->n_values, 3);
  const char *want[] = {"physicians", "live_births", "infant_deaths"};
  for (size_t i = 0; i < 3; i++) {
    cr_assert_str_eq(s->values[i]->element, want[i]);
    cr_assert_eq(s->values[i]->value, v1[i]);
  }
  cr_assert_str_eq(r->reports[2]->period, "2021");
  cr_assert_str_eq(r->reports[2]->submission_id, "");
  cr_assert_eq(r->reports[2]->n_values, 1);
  cr_assert_str_eq(r->reports[2]->values[0]->element, "live_births");
  cr_assert_eq(r->reports[2]->values[0]->value, 980);

  /* The same report sent whole has the same digest. */
  Tally__Value a1 = TALLY__VALUE__INIT, a2 = TALLY__VALUE__INIT,
               a3 = TALLY__VALUE__INIT, *as_whole[] = {&a1, &a2, &a3};
  a1.element = "physicians", a1.value = 3;
  a2.element = "live_births", a2.value = 1255;
  a3.element = "infant_deaths", a3.value = 4;
  Tally__SubmitRequest same = TALLY__SUBMIT_REQUEST__INIT;
  same.unit = "guide";
  same.period = "2022";
  same.submission_id = "imp-2022-guide-1";
  same.values = as_whole;
  same.n_values = 3;
  cr_assert_eq(tally_submit_digest(s), tally_submit_digest(&same));
  a2.value = 1256; /* and other figures another */
  cr_assert_neq(tally_submit_digest(s), tally_submit_digest(&same));
  tally_arena_free(&a);
}

/* One packed report of ne elements (e) and nv values, as the decoder
 * takes it: its code, with why. */
static int one_packed(uint32_t *e, size_t ne, size_t nv, char *why,
                      size_t n) {
  double v[] = {1, 2};
  Tally__PackedReport p = packed_of("guide", "2022", "", e, v, ne),
                      *packed[] = {&p};
  p.n_values = nv;
  Tally__ImportRequest q = TALLY__IMPORT_REQUEST__INIT;
  q.element_codes = codes;
  q.n_element_codes = 3;
  q.packed = packed;
  q.n_packed = 1;
  Tally__Envelope env = import_of(&q), *got = NULL;
  tally_arena a = TALLY_ARENA_INIT;
  int rc = through_server(&env, &a, &got, why, n);
  if (rc != 0)
    cr_assert_null(got);
  tally_arena_free(&a);
  return rc;
}

Test(import_packed, a_report_that_does_not_fit_its_codes_is_refused) {
  char why[200];
  uint32_t fits[] = {2, 0}, past[] = {0, 3};
  cr_assert_eq(one_packed(fits, 2, 2, why, sizeof why), 0);
  cr_assert_eq(one_packed(past, 2, 2, why, sizeof why), TALLY_EDECODE);
  cr_assert_str_eq(why, "packed report 1: value 2 names element code 3, "
                        "past the request's 3");
  cr_assert_eq(one_packed(fits, 2, 1, why, sizeof why), TALLY_EDECODE);
  cr_assert_str_eq(why, "packed report 1 has 2 elements for 1 values");
  cr_assert_eq(one_packed(fits, 1, 2, why, sizeof why), TALLY_EDECODE);
  cr_assert_str_eq(why, "packed report 1 has 1 elements for 2 values");
}

Test(import_packed, more_than_the_most_reports_is_refused) {
  size_t n = TALLY_IMPORT_MAX_REPORTS + 1;
  Tally__PackedReport *p = calloc(n, sizeof *p), **ptrs = calloc(n, sizeof *ptrs);
  cr_assert(p && ptrs);
  for (size_t i = 0; i < n; i++) {
    p[i] = packed_of("guide", "2022", "", NULL, NULL, 0);
    ptrs[i] = &p[i];
  }
  Tally__ImportRequest q = TALLY__IMPORT_REQUEST__INIT;
  q.packed = ptrs;
  q.n_packed = n;
  Tally__Envelope env = import_of(&q), *got;
  tally_arena a = TALLY_ARENA_INIT;
  char why[200];
  cr_assert_eq(through_server(&env, &a, &got, why, sizeof why), TALLY_EDECODE);
  cr_assert_str_eq(why, "an import holds 1 to 4096 reports, not 4097");
  tally_arena_free(&a);
  q.n_packed = n - 1; /* the most */
  cr_assert_eq(through_server(&env, &a, &got, why, sizeof why), 0, "%s", why);
  cr_assert_eq(got->import_request->n_reports, n - 1);
  tally_arena_free(&a);
  free(p);
  free(ptrs);
}
