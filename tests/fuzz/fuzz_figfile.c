/* fuzz_figfile.c: the CSV reader of a unit's figures (client/figfile.h).
 *
 * The input is the text of a figures file. When it parses, every figure
 * must name an element, lie on a line of the text, in order, and hold a
 * finite number; when it does not, the message must name the input and
 * the list must be empty. The input, cut at its first NUL, is also given
 * to the number parser on its own.
 */
#include "figfile.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "fuzz_figfile: %s:%d: check failed: %s\n", __FILE__,    \
              __LINE__, #cond);                                               \
      abort();                                                                \
    }                                                                         \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tally_figfile list;
  char err[512];
  int lines = 1;

  /* Lines end in LF, CRLF, or CR alone. */
  for (size_t i = 0; i < size; i++)
    lines += data[i] == '\n' ||
             (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n'));

  /* A copy of exactly size bytes, so that a read past the end is seen. */
  char *text = malloc(size ? size : 1);
  if (text == NULL)
    return 0;
  memcpy(text, data, size);
  memset(err, 0x55, sizeof err);
  int rc = tally_figfile_parse("fuzz.csv", text, size, &list, err, sizeof err);
  if (rc == 0) {
    CHECK(list.n > 0);
    CHECK(list.items != NULL);
    int prev = 1;
    for (size_t i = 0; i < list.n; i++) {
      const tally_figfile_row *f = &list.items[i];
      CHECK(f->element != NULL && f->element[0] != 0);
      CHECK(strlen(f->element) < 256);
      CHECK(f->line >= prev && f->line <= lines);
      CHECK(isfinite(f->value));
      prev = f->line;
    }
    CHECK((list.blank == 0) == (list.first_blank == 0));
    CHECK(list.first_blank >= 0 && list.first_blank <= lines);
    tally_figfile_release(&list);
    CHECK(list.items == NULL && list.n == 0);
  } else {
    CHECK(rc < 0);
    CHECK(memchr(err, 0, sizeof err) != NULL);
    CHECK(strncmp(err, "fuzz.csv", 8) == 0);
    CHECK(list.items == NULL && list.n == 0);
  }
  free(text);

  /* The number parser takes a C string. */
  char num[64];
  size_t n = size < sizeof num - 1 ? size : sizeof num - 1;
  memcpy(num, data, n);
  num[n] = 0;
  double v;
  if (tally_figfile_number(num, &v) == 0)
    CHECK(isfinite(v));
  return 0;
}
