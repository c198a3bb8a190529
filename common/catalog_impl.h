/* catalog_impl.h: the loader's own, for the files that load parts of the
 * catalog (catalog.c, catalog_rules.c). Not for other modules. */
#ifndef TALLY_CATALOG_IMPL_H
#define TALLY_CATALOG_IMPL_H

#include "catalog.h"

#include <jansson.h>
#include <stddef.h>

struct loader {
  const char *origin;
  char *err;
  size_t errlen;
  tally_catalog *cat;
  json_t *doc;
};

/* Formats "ORIGIN: ENTRY: PROBLEM" into the loader's message buffer.
 * Returns TALLY_ECATALOG so callers can return it. */
__attribute__((format(printf, 3, 4))) int
tally__catalog_fail(struct loader *ld, const char *entry, const char *fmt, ...);

/* True for 1-TALLY_CODE_MAX of a-z, 0-9 and _ starting with a letter
 * (upper: A-Z first, and letters of either case). */
int tally__catalog_code_ok(const char *s, int upper);

/* "WHAT CODE", or "WHAT #N" for entry index without a code. */
const char *tally__catalog_describe(char *buf, size_t n, const char *what,
                                    size_t index, const char *code);

/* The code of an entry before it is unpacked, for messages, or NULL. */
const char *tally__catalog_peek_code(json_t *entry);

/* Loads the "rules" section (optional), then a rule for each bounded
 * ratio. After the elements and the indicators. Returns 0,
 * TALLY_ECATALOG or -ENOMEM. */
int tally__catalog_load_rules(struct loader *ld);

#endif
