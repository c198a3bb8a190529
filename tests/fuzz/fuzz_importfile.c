/* fuzz_importfile.c: the many-unit files of tally import
 * (client/importfile.h): long-form CSV, DHIS2's CSV and JSON, ADX (and a
 * workbook, when the input is a zip).
 *
 * When the input reads, every figure names a unit, a period tally
 * parses and an element, holds a finite number >= 0 and a line >= 1,
 * and every error names the input; when it does not, the message names
 * the input and nothing is left allocated.
 */
#include "importfile.h"
#include "period.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "fuzz_importfile: %s:%d: check failed: %s\n",           \
              __FILE__, __LINE__, #cond);                                     \
      abort();                                                                \
    }                                                                         \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tally_importfile f;
  char err[512];
  char *copy = malloc(size ? size : 1);
  if (copy == NULL)
    return 0;
  memcpy(copy, data, size);
  memset(err, 0x55, sizeof err);
  int rc = tally_importfile_parse("fuzz.in", copy, size, NULL, &f, err,
                                  sizeof err);
  free(copy);
  if (rc != 0) {
    CHECK(rc < 0);
    CHECK(memchr(err, 0, sizeof err) != NULL);
    CHECK(strncmp(err, "fuzz.in", 7) == 0);
    CHECK(f.rows == NULL && f.n == 0 && f.errors == NULL);
    return 0;
  }
  CHECK(f.format != NULL && f.line_word != NULL);
  for (size_t i = 0; i < f.n; i++) {
    const tally_import_row *r = &f.rows[i];
    tally_period p;
    CHECK(r->unit && r->period && r->element);
    CHECK(tally_period_parse(r->period, &p) == 0);
    CHECK(isfinite(r->value) && r->value >= 0);
    CHECK(r->line >= 1);
  }
  for (size_t i = 0; i < f.n_errors; i++)
    CHECK(strncmp(f.errors[i], "fuzz.in", 7) == 0);
  tally_importfile_release(&f);
  return 0;
}
