/* health.c: the server's running figures; see health.h. */
#include "health.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int64_t local_day(int64_t now) {
  time_t t = (time_t)now;
  struct tm tm;
  localtime_r(&t, &tm);
  return (int64_t)(tm.tm_year + 1900) * 1000 + tm.tm_yday;
}

void tally_health_submitted(tally_health *h, int64_t now) {
  int64_t day = local_day(now);
  if (day != h->day) {
    h->day = day;
    h->submissions_today = 0;
  }
  h->submissions_today++;
}

uint64_t tally_health_today(const tally_health *h, int64_t now) {
  return local_day(now) == h->day ? h->submissions_today : 0;
}

/* The newest file in dir (and below, depth levels more) into path. */
static void newest(const char *dir, int depth, char *path, int n,
                   int64_t *when) {
  DIR *d = opendir(dir);
  struct dirent *e;
  if (d == NULL)
    return;
  while ((e = readdir(d)) != NULL) {
    char full[4096];
    struct stat st;
    if (e->d_name[0] == '.')
      continue; /* ., .., and a copy being made (.NAME.tmp) */
    snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
    if (lstat(full, &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode) && depth > 0)
      newest(full, depth - 1, path, n, when);
    else if (S_ISREG(st.st_mode) && (int64_t)st.st_mtime > *when) {
      *when = (int64_t)st.st_mtime;
      snprintf(path, (size_t)n, "%s", full);
    }
  }
  closedir(d);
}

int tally_health_last_backup(const char *dir, char *path, int n,
                             int64_t *when) {
  *when = 0;
  path[0] = 0;
  newest(dir, 1, path, n, when);
  return *when ? 0 : -ENOENT;
}
