/* store.h: figures kept durably in LMDB.
 *
 * Key layout of the "values" database:
 *   period key (4 bytes, big-endian) | unit code | 0x00 | element code
 * so all values of one period are one range scan, and all values of one
 * unit in one period are one range scan. The value is 16 bytes: the
 * IEEE-754 bits of the figure and the Unix time it was written, both
 * big-endian. Codes are kept as text, so the store does not depend on
 * positions in the catalog.
 */
#ifndef TALLY_STORE_H
#define TALLY_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct tally_store tally_store;

#define TALLY_STORE_DEFAULT_MAP (1024ul << 20) /* 1 GiB of address space */

/* Opens (creating if needed) the store in directory dir. map_size 0
 * means TALLY_STORE_DEFAULT_MAP. Returns 0 and *out, -errno, or
 * TALLY_ESTORE (a store of another format, or LMDB refused). */
int tally_store_open(const char *dir, size_t map_size, tally_store **out);
void tally_store_close(tally_store *s);

typedef struct {
  const char *element;
  double value;
} tally_store_item;

typedef struct {
  unsigned written;   /* values written */
  unsigned replaced;  /* of those, values that replaced a different value */
  unsigned unchanged; /* of those, values equal to what was stored */
} tally_store_put_result;

/* Writes items for unit and period in one transaction: every value or
 * none. A value already stored for the same element is replaced. When
 * this returns 0 the transaction has committed (and, as LMDB syncs on
 * commit, is on disk). Returns 0, -errno, TALLY_ESTOREFULL or
 * TALLY_ESTORE. */
int tally_store_put(tally_store *s, const char *unit, uint32_t period_key,
                    const tally_store_item *items, size_t n, int64_t now,
                    tally_store_put_result *res);

/* Called for each stored value; strings are valid only during the
 * call. A non-zero return stops the scan and is returned by it. */
typedef int (*tally_store_visit_fn)(void *arg, const char *unit,
                                    const char *element, double value,
                                    int64_t updated);

/* Visits the values of period_key, of one unit only when unit is not
 * NULL, in key order. Returns 0, the visitor's non-zero value, or
 * TALLY_ESTORE. */
int tally_store_scan(tally_store *s, uint32_t period_key, const char *unit,
                     tally_store_visit_fn fn, void *arg);

#endif
