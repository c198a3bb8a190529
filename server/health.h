/* health.h: the server's running figures, for tally admin status.
 *
 * One per tallyd, on the loop thread: when it started, its
 * certificate's end, the connections open and the submissions
 * acknowledged today. The transport and the handlers update it; the
 * status handler reads it with what the store and the backup folder
 * say.
 */
#ifndef TALLY_HEALTH_H
#define TALLY_HEALTH_H

#include <stdint.h>

typedef struct {
  int64_t started;            /* Unix time */
  int64_t cert_not_after;     /* Unix time; 0 = no TLS */
  unsigned connections;       /* TCP connections open */
  int64_t day;                /* the local day counted (year * 1000 + day) */
  uint64_t submissions_today; /* acknowledged (not resent) on that day */
  char listening[1024];       /* the TCP addresses, as bound, a space
                                 between; "" until they are */
  char web[1200];             /* the web pages' origins, likewise; "" for
                                 none */
} tally_health;

/* One submission acknowledged at Unix time now (local days). */
void tally_health_submitted(tally_health *h, int64_t now);

/* The submissions acknowledged on the local day of now. */
uint64_t tally_health_today(const tally_health *h, int64_t now);

/* The newest regular file in dir or one folder below it (the backups'
 * daily/ and monthly/): its path into path (n bytes) and its time.
 * Returns 0, or -ENOENT when there is none. */
int tally_health_last_backup(const char *dir, char *path, int n,
                             int64_t *when);

#endif
