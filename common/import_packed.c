/* import_packed.c: an import's packed reports read as the reports they
 * stand for (import_packed.h). */
#include "import_packed.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Whether packed report p fits q's codes; else why says how not. */
static int packed_ok(const Tally__ImportRequest *q,
                     const Tally__PackedReport *p, size_t index, char *why,
                     size_t whylen) {
  if (p->n_elements != p->n_values) {
    snprintf(why, whylen, "packed report %zu has %zu elements for %zu "
             "values", index + 1, p->n_elements, p->n_values);
    return 0;
  }
  for (size_t k = 0; k < p->n_elements; k++)
    if (p->elements[k] >= q->n_element_codes) {
      snprintf(why, whylen, "packed report %zu: value %zu names element "
               "code %u, past the request's %zu", index + 1, k + 1,
               p->elements[k], q->n_element_codes);
      return 0;
    }
  return 1;
}

int tally_import_packed_read(tally_arena *a, Tally__ImportRequest *q,
                             char *why, size_t whylen) {
  if (q->n_packed == 0)
    return 0;
  if (q->n_reports + q->n_packed > TALLY_IMPORT_MAX_REPORTS) {
    snprintf(why, whylen, "an import holds 1 to %d reports, not %zu",
             TALLY_IMPORT_MAX_REPORTS, q->n_reports + q->n_packed);
    return -1;
  }
  size_t values = 0;
  for (size_t i = 0; i < q->n_packed; i++) {
    if (!packed_ok(q, q->packed[i], i, why, whylen))
      return -1;
    values += q->packed[i]->n_values;
  }
  size_t n = q->n_reports + q->n_packed;
  Tally__SubmitRequest **all = tally_arena_alloc(a, n * sizeof *all);
  Tally__SubmitRequest *subs = tally_arena_alloc(a, q->n_packed * sizeof *subs);
  Tally__Value *v = tally_arena_alloc(a, (values + 1) * sizeof *v);
  Tally__Value **ptrs = tally_arena_alloc(a, (values + 1) * sizeof *ptrs);
  if (all == NULL || subs == NULL || v == NULL || ptrs == NULL) {
    snprintf(why, whylen, "out of memory");
    return -ENOMEM;
  }
  if (q->n_reports)
    memcpy(all, q->reports, q->n_reports * sizeof *all);
  for (size_t i = 0; i < q->n_packed; i++) {
    const Tally__PackedReport *p = q->packed[i];
    Tally__SubmitRequest *s = &subs[i];
    tally__submit_request__init(s);
    s->unit = p->unit;
    s->period = p->period;
    s->submission_id = p->submission_id;
    s->values = ptrs;
    s->n_values = p->n_values;
    for (size_t k = 0; k < p->n_values; k++) {
      tally__value__init(v);
      v->element = q->element_codes[p->elements[k]];
      v->value = p->values[k];
      *ptrs++ = v++;
    }
    all[q->n_reports + i] = s;
  }
  q->reports = all;
  q->n_reports = n;
  q->packed = NULL;
  q->n_packed = 0;
  return 0;
}
