/* store_check.c: data.mdb checked against its meta pages before LMDB
 * maps it.
 *
 * The happy path: both meta pages (pages 0 and 1) are read with pread;
 * each is a meta page, of LMDB's magic and data version, and says the
 * store has no more pages than the file holds; the newest has its roots
 * among them. A missing file is a new store: nothing to check.
 * The failure modes: a file cut short, or a meta page damaged, is
 * refused with a sentence that names the damage. LMDB itself would map
 * the short file and die of SIGBUS reading past its end, or take the
 * damaged meta and fail an assertion at the first write.
 */
#include "store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* LMDB 0.9's layout (mdb.c): a 16-byte page header (page number, pad,
 * flags, bounds), then MDB_meta: magic, version, address, map size, the
 * free and main databases (48 bytes each: the first's pad holds the page
 * size; each ends with its root), the last page and the txnid. */
#define META_FLAGS 10     /* uint16: P_META */
#define META_MAGIC 16     /* uint32: 0xBEEFC0DE */
#define META_VERSION 20   /* uint32: MDB_DATA_VERSION, 1 */
#define META_PSIZE 40     /* uint32 */
#define META_ROOT_FREE 80 /* uint64 */
#define META_ROOT_MAIN 128
#define META_LAST_PG 136
#define META_TXNID 144
#define META_END 152
#define P_META 0x08
#define P_INVALID UINT64_MAX /* an empty database's root */

static uint32_t le32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v); /* LMDB writes the host's order */
  return v;
}

static uint64_t le64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* Checks meta page i (read into m) against a file of pages pages; the
 * roots only of the newest, the one LMDB opens at. (After a failed
 * commit LMDB writes the older one back with the new roots and its old
 * last page: it is not used, and the next commit writes it afresh.)
 * Returns 0, or -EUCLEAN with the damage in why. */
static int check_meta(int i, const uint8_t *m, int newest, uint64_t pages,
                      char *why, size_t n) {
  uint64_t last = le64(m + META_LAST_PG);
  uint64_t roots[2] = {le64(m + META_ROOT_FREE), le64(m + META_ROOT_MAIN)};
  uint16_t flags;
  memcpy(&flags, m + META_FLAGS, sizeof flags);

  if (!(flags & P_META) || le32(m + META_MAGIC) != 0xBEEFC0DEu) {
    snprintf(why, n, "meta page %d is damaged: it is not an LMDB meta page",
             i);
    return -EUCLEAN;
  }
  if (le32(m + META_VERSION) != 1) {
    snprintf(why, n, "meta page %d is damaged: it is of LMDB data version "
             "%" PRIu32 ", not 1", i, le32(m + META_VERSION));
    return -EUCLEAN;
  }
  if (last < 1 || last >= pages) {
    snprintf(why, n, "the file is cut short or meta page %d is damaged: "
             "it says the store has %" PRIu64 " pages, the file holds %"
             PRIu64, i, last + 1, pages);
    return -EUCLEAN;
  }
  for (int d = 0; d < 2 && newest; d++)
    if (roots[d] != P_INVALID && (roots[d] < 2 || roots[d] > last)) {
      snprintf(why, n, "meta page %d is damaged: a root page (%" PRIu64
               ") is outside the store's %" PRIu64 " pages", i, roots[d],
               last + 1);
      return -EUCLEAN;
    }
  return 0;
}

int tally__store_check(const char *dir, char *why, size_t n) {
  char file[4096];
  uint8_t m[2][META_END];
  struct stat st;
  int rc = 0;

  snprintf(file, sizeof file, "%s/data.mdb", dir);
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0; /* a new store */
    rc = -errno;
    snprintf(why, n, "%s cannot be read: %s", file, strerror(errno));
    return rc;
  }
  if (fstat(fd, &st) != 0) {
    rc = -errno;
    snprintf(why, n, "%s cannot be read: %s", file, strerror(errno));
    goto out;
  }
  ssize_t got = pread(fd, m[0], META_END, 0);
  uint32_t psize = got == META_END ? le32(m[0] + META_PSIZE) : 0;
  if (got == META_END && (psize < 512 || psize > 65536 ||
                          (psize & (psize - 1)) != 0)) {
    snprintf(why, n, "meta page 0 is damaged: its page size (%" PRIu32
             ") is not one LMDB uses", psize);
    rc = -EUCLEAN;
    goto out;
  }
  if (got != META_END || st.st_size < 2 * (off_t)psize ||
      pread(fd, m[1], META_END, psize) != META_END) {
    snprintf(why, n, "the file is cut short: it is %lld bytes, less than "
             "its two meta pages", (long long)st.st_size);
    rc = -EUCLEAN;
    goto out;
  }
  uint64_t pages = (uint64_t)st.st_size / psize;
  int newest = le64(m[1] + META_TXNID) > le64(m[0] + META_TXNID);
  for (int i = 0; i < 2 && rc == 0; i++)
    rc = check_meta(i, m[i], i == newest, pages, why, n);
out:
  close(fd);
  return rc;
}
