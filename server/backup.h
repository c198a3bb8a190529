/* backup.h: backups made and restored on the server's host, from the
 * command line (tallyd backup, tallyd restore), with no token.
 *
 * A backup is one file, a compacted copy of data.mdb made by a second
 * process while tallyd serves (store.h: tally_store_copy). The package's
 * daily timer keeps them in rotation under a folder: daily/DATE.mdb for
 * the last 14 days and monthly/MONTH.mdb (the first of each month) for
 * the last 12 months. A restore copies a backup into a new data
 * directory, never serves the backup itself, and checks the copy.
 */
#ifndef TALLY_BACKUP_H
#define TALLY_BACKUP_H

#include "catalog.h"

#include <stddef.h>
#include <stdint.h>

#define TALLY_BACKUP_KEEP_DAILY 14
#define TALLY_BACKUP_KEEP_MONTHLY 12

/* Copies the store in data into the new file dest (refused if it is
 * there), mode 0600, through a temporary name beside it, synced. Returns
 * 0 and its size, or -EEXIST / -errno / a store error with err. */
int tally_backup_copy(const char *data, const char *dest, uint64_t *bytes,
                      char *err, size_t n);

/* One rotation at Unix time now (local dates): the copy as
 * root/daily/YYYY-MM-DD.mdb (today's replaced if there is one), linked
 * as root/monthly/YYYY-MM.mdb when that month has none yet, then the
 * daily copies past the newest keep_daily and the monthly past
 * keep_monthly removed. Its path into made (n bytes). Returns 0, or
 * -errno / a store error with err. */
int tally_backup_rotate(const char *data, const char *root, int64_t now,
                        int keep_daily, int keep_monthly, char *made,
                        size_t made_n, uint64_t *bytes, int *removed,
                        char *err, size_t n);

/* What a restore found. */
typedef struct {
  int64_t backup_made;      /* the backup file's time (when it was made) */
  int64_t newest_figure;    /* the newest figure in it; 0 = none */
  uint64_t reports;         /* unit reports verify read */
  uint64_t records;         /* sums records it compared */
  uint64_t bytes;           /* the size of the copy */
} tally_backup_restored;

/* Restores backup into data, which must hold no store (made, parents
 * too, if missing): copies it as data/data.mdb, opens it, makes its sums
 * for cat if they were made for another, and verifies them against the
 * figures (tally admin verify's check). On any failure what it made is
 * removed. Returns 0 and *out, or -EEXIST (a store is there), -EUCLEAN
 * (the copy does not verify), -errno or a store error, with err. */
int tally_backup_restore(const char *backup, const char *data,
                         const tally_catalog *cat, tally_backup_restored *out,
                         char *err, size_t n);

/* Makes dir and its missing parents, mode 0700; made[0] = 1 when dir
 * itself was made. Returns 0 or -errno with err. */
int tally_backup_mkdirs(const char *dir, int *made, char *err, size_t n);

#endif
