/* fuzz_xlsx.c: the workbook reader (client/xlsx.h) and the figures of
 * its sheet (client/figfile.h).
 *
 * The input is a zip archive, an xlsx file or a broken one. When it
 * parses, every row must be within Excel's rows, every cell within its
 * columns with text that is a C string, and a number cell finite; the
 * figures of the sheet, when they parse, name an element and hold a
 * finite number on a row of the sheet. When it does not parse, the
 * message must name the input and nothing may be left allocated.
 */
#include "figfile.h"
#include "xlsx.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "fuzz_xlsx: %s:%d: check failed: %s\n", __FILE__,       \
              __LINE__, #cond);                                               \
      abort();                                                                \
    }                                                                         \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tally_xlsx_sheet sh;
  char err[512];

  /* A copy of exactly size bytes, so that a read past the end is seen. */
  uint8_t *copy = malloc(size ? size : 1);
  if (copy == NULL)
    return 0;
  memcpy(copy, data, size);
  memset(err, 0x55, sizeof err);
  int rc = tally_xlsx_parse("fuzz.xlsx", copy, size, &sh, err, sizeof err);
  free(copy);
  if (rc != 0) {
    CHECK(rc < 0);
    CHECK(memchr(err, 0, sizeof err) != NULL);
    CHECK(strncmp(err, "fuzz.xlsx", 9) == 0);
    CHECK(sh.rows == NULL && sh.n == 0 && sh.name == NULL);
    return 0;
  }
  CHECK(sh.name != NULL);
  int max_row = 0;
  for (size_t i = 0; i < sh.n; i++) {
    const tally_xlsx_row *r = &sh.rows[i];
    CHECK(r->row >= 1 && r->row <= TALLY_XLSX_MAX_ROW);
    CHECK(r->n > 0);
    if (r->row > max_row)
      max_row = r->row;
    for (size_t k = 0; k < r->n; k++) {
      const tally_xlsx_cell *c = &r->cells[k];
      CHECK(c->col >= 0 && c->col < TALLY_XLSX_MAX_COL);
      CHECK(c->text != NULL);
      (void)strlen(c->text);
      if (c->is_number)
        CHECK(isfinite(c->number));
      CHECK(tally_xlsx_at(r, c->col) != NULL);
    }
  }
  tally_figfile figs;
  memset(err, 0x55, sizeof err);
  rc = tally_figfile_from_sheet("fuzz.xlsx", &sh, &figs, err, sizeof err);
  if (rc == 0) {
    CHECK(figs.n > 0);
    for (size_t i = 0; i < figs.n; i++) {
      CHECK(figs.items[i].element && figs.items[i].element[0]);
      CHECK(isfinite(figs.items[i].value) && figs.items[i].value >= 0);
      CHECK(figs.items[i].line >= 1 && figs.items[i].line <= max_row);
    }
    tally_figfile_release(&figs);
  } else {
    CHECK(rc < 0);
    CHECK(memchr(err, 0, sizeof err) != NULL);
    CHECK(strncmp(err, "fuzz.xlsx", 9) == 0);
    CHECK(figs.items == NULL && figs.n == 0);
  }
  tally_xlsx_free(&sh);
  return 0;
}
