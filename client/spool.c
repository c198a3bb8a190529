#include "spool.h"

#include "durable.h"
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SUFFIX ".sub"
#define TMP_SUFFIX ".tmp"
#define STALE_S 60 /* a temporary file this old, unlocked, is a dead writer's */

int tally_spool_default_dir(char *buf, size_t n) {
  const char *env = getenv("TALLY_SPOOL"), *state = getenv("XDG_STATE_HOME"),
             *home = getenv("HOME");
  if (env && *env)
    snprintf(buf, n, "%s", env);
  else if (state && *state)
    snprintf(buf, n, "%s/tally/spool", state);
  else if (home && *home)
    snprintf(buf, n, "%s/.local/state/tally/spool", home);
  else
    return -ENOENT;
  return 0;
}

int tally_spool_init(const char *dir, char *err, size_t errlen) {
  char path[4096];
  snprintf(path, sizeof path, "%s", dir);
  for (char *p = path + 1;; p++) {
    int end = *p == 0;
    if (*p == '/' || end) {
      *p = 0;
      if (mkdir(path, 0700) == 0) {
        /* A new folder is durable once its parent is synced. */
        char *slash = strrchr(path, '/');
        if (slash && slash != path) {
          *slash = 0;
          tally_sync_dir(path);
          *slash = '/';
        }
      } else if (errno != EEXIST) {
        int e = errno;
        snprintf(err, errlen, "cannot create the spool %s: %s", path,
                 strerror(e));
        return -e;
      }
      if (end)
        break;
      *p = '/';
    }
  }
  return 0;
}

int tally_spool_new_id(char id[37]) {
  uint8_t b[16];
  if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
    return -errno;
  b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  snprintf(id, 37,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
           b[11], b[12], b[13], b[14], b[15]);
  return 0;
}

/* Syncs the directory, so a rename or an unlink in it is durable. */
static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A stamp for a new entry: now, or just after the newest entry. */
static int64_t next_stamp(const char *dir) {
  int64_t stamp = now_ns(), newest = 0;
  DIR *d = opendir(dir);
  struct dirent *e;
  if (d == NULL)
    return stamp;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') {
      int64_t t = strtoll(e->d_name, NULL, 10);
      if (t > newest)
        newest = t;
    }
  closedir(d);
  if (stamp > newest)
    return stamp;
  return newest < INT64_MAX ? newest + 1 : newest; /* a name gone wild */
}

int tally_spool_add(const char *dir, const Tally__SubmitRequest *req,
                    char name[TALLY_SPOOL_NAME_MAX], char *err, size_t errlen) {
  char tmp[4096 + TALLY_SPOOL_NAME_MAX + 8], final[4096 + TALLY_SPOOL_NAME_MAX];
  size_t len = tally__submit_request__get_packed_size(req);
  uint8_t *buf = malloc(len ? len : 1);
  int fd = -1, rc;

  if (buf == NULL)
    return -ENOMEM;
  tally__submit_request__pack(req, buf);
  /* The time first, so that names sort in the order of submission; never
   * before an entry already there, even if the clock stepped back. */
  snprintf(name, TALLY_SPOOL_NAME_MAX, "%019lld-%.40s" SUFFIX,
           (long long)next_stamp(dir), req->submission_id);
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
  snprintf(final, sizeof final, "%s/%s", dir, name);

  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    goto err_io;
  /* Held till the file has its final name: while it is, the file is not
   * a dead writer's (sweep()). */
  if (flock(fd, LOCK_EX) != 0)
    goto err_io;
  for (size_t off = 0; off < len;) {
    ssize_t w = write(fd, buf + off, len - off);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      goto err_io;
    }
    off += (size_t)w;
  }
  if (fsync(fd) != 0 || rename(tmp, final) != 0)
    goto err_io;
  close(fd); /* the data is synced: nothing is lost if close fails */
  free(buf);
  if ((rc = tally_sync_dir(dir)) != 0) {
    /* Not durable, so not kept: the caller sends nothing. */
    unlink(final);
    snprintf(err, errlen, "cannot sync the spool %s: %s", dir, strerror(-rc));
  }
  return rc;

err_io:
  rc = -errno;
  snprintf(err, errlen, "cannot write to the spool %s: %s", dir,
           strerror(errno));
  if (fd >= 0)
    close(fd);
  unlink(tmp);
  free(buf);
  return rc;
}

int tally_spool_remove(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (unlink(path) != 0 && errno != ENOENT)
    return -errno;
  return tally_sync_dir(dir);
}

int tally_spool_set_aside(const char *dir, const char *name) {
  char from[4096 + TALLY_SPOOL_NAME_MAX], to[4096 + 2 * TALLY_SPOOL_NAME_MAX],
      aside[4096 + 16];
  snprintf(aside, sizeof aside, "%s/refused", dir);
  if (mkdir(aside, 0700) != 0 && errno != EEXIST)
    return -errno;
  snprintf(from, sizeof from, "%s/%s", dir, name);
  snprintf(to, sizeof to, "%s/%s", aside, name);
  if (rename(from, to) != 0)
    return -errno;
  int rc = tally_sync_dir(aside);
  return rc ? rc : tally_sync_dir(dir);
}

#define ACKNOWLEDGED "acknowledged"

int tally_spool_acknowledge(const char *dir, const char *name) {
  char from[4096 + TALLY_SPOOL_NAME_MAX], to[4096 + 2 * TALLY_SPOOL_NAME_MAX],
      kept[4096 + 16];
  snprintf(kept, sizeof kept, "%s/" ACKNOWLEDGED, dir);
  if (mkdir(kept, 0700) != 0 && errno != EEXIST)
    return -errno;
  snprintf(from, sizeof from, "%s/%s", dir, name);
  snprintf(to, sizeof to, "%s/%s", kept, name);
  /* Its time says when it was acknowledged, for --resend-since. */
  if (utimensat(AT_FDCWD, from, NULL, 0) != 0 || rename(from, to) != 0)
    return -errno;
  int rc = tally_sync_dir(kept);
  return rc ? rc : tally_sync_dir(dir);
}

int tally_spool_forget_acknowledged(const char *dir, int64_t before) {
  char kept[4096 + 16];
  snprintf(kept, sizeof kept, "%s/" ACKNOWLEDGED, dir);
  DIR *d = opendir(kept);
  struct dirent *e;
  int removed = 0;
  if (d == NULL)
    return errno == ENOENT ? 0 : -errno;
  while ((e = readdir(d)) != NULL) {
    char path[4096 + 300];
    struct stat st;
    size_t len = strlen(e->d_name);
    if (e->d_name[0] == '.' || len <= strlen(SUFFIX) ||
        strcmp(e->d_name + len - strlen(SUFFIX), SUFFIX) != 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", kept, e->d_name);
    if (lstat(path, &st) == 0 && (int64_t)st.st_mtime < before &&
        unlink(path) == 0)
      removed++;
  }
  closedir(d);
  if (removed)
    tally_sync_dir(kept);
  return removed;
}

int tally_spool_list_acknowledged(const char *dir, int64_t since,
                                  tally_spool_entry **entries, size_t *n,
                                  char *err, size_t errlen) {
  char kept[4096 + 16];
  struct stat st;
  snprintf(kept, sizeof kept, "%s/" ACKNOWLEDGED, dir);
  *entries = NULL;
  *n = 0;
  if (stat(kept, &st) != 0 && errno == ENOENT)
    return 0;
  int rc = tally_spool_list(kept, entries, n, err, errlen);
  if (rc != 0)
    return rc;
  size_t k = 0;
  for (size_t i = 0; i < *n; i++) {
    char path[4096 + 300];
    tally_spool_entry *e = &(*entries)[i];
    snprintf(path, sizeof path, "%s/%s", kept, e->name);
    if (lstat(path, &st) == 0 && (int64_t)st.st_mtime >= since) {
      if (k != i) {
        (*entries)[k] = *e;
        e->req = NULL;
      }
      k++;
    } else {
      tally__submit_request__free_unpacked(e->req, NULL);
      e->req = NULL;
    }
  }
  *n = k;
  return 0;
}

/* Removes the temporary files of writers killed before their rename
 * (tally_spool_add): those no writer holds locked, written to more than
 * STALE_S ago. Nothing else in dir is touched. */
static void sweep(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  time_t now = time(NULL);
  while (d && (e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (e->d_name[0] != '.' || len <= strlen(TMP_SUFFIX) + 1 ||
        strcmp(e->d_name + len - strlen(TMP_SUFFIX), TMP_SUFFIX) != 0)
      continue;
    char path[4096 + 256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
      continue;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        now - st.st_mtime > STALE_S && flock(fd, LOCK_EX | LOCK_NB) == 0)
      unlink(path);
    close(fd);
  }
  if (d)
    closedir(d);
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const tally_spool_entry *)a)->name,
                ((const tally_spool_entry *)b)->name);
}

/* Reads a whole entry file and unpacks it; NULL if it does not decode. */
static Tally__SubmitRequest *read_entry(const char *path) {
  Tally__SubmitRequest *req = NULL;
  char *buf;
  size_t n;
  if (tally_file_read(path, &buf, &n) != 0)
    return NULL;
  req = tally__submit_request__unpack(NULL, n, (const uint8_t *)buf);
  free(buf);
  return req;
}

int tally_spool_list(const char *dir, tally_spool_entry **entries, size_t *n,
                     char *err, size_t errlen) {
  DIR *d = opendir(dir);
  tally_spool_entry *list = NULL;
  size_t count = 0, cap = 0;
  struct dirent *e;

  *entries = NULL;
  *n = 0;
  if (d != NULL)
    sweep(dir);
  if (d == NULL) {
    if (errno == ENOENT)
      return 0; /* no spool yet: nothing pending */
    snprintf(err, errlen, "cannot read the spool %s: %s", dir, strerror(errno));
    return -errno;
  }
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (e->d_name[0] == '.' || len < sizeof SUFFIX ||
        strcmp(e->d_name + len - strlen(SUFFIX), SUFFIX) != 0 ||
        len >= TALLY_SPOOL_NAME_MAX)
      continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    Tally__SubmitRequest *req = read_entry(path);
    if (req == NULL) {
      snprintf(err, errlen, "spool entry %s does not decode; left as it is",
               path);
      continue;
    }
    if (count == cap) {
      cap = cap ? cap * 2 : 16;
      tally_spool_entry *grown = realloc(list, cap * sizeof *grown);
      if (grown == NULL) {
        tally__submit_request__free_unpacked(req, NULL);
        tally_spool_list_free(list, count);
        closedir(d);
        return -ENOMEM;
      }
      list = grown;
    }
    tally_spool_entry *en = &list[count++];
    memcpy(en->name, e->d_name, len + 1); /* len < TALLY_SPOOL_NAME_MAX */
    en->created_ms = strtoll(e->d_name, NULL, 10) / 1000000;
    en->req = req;
  }
  closedir(d);
  if (count > 1)
    qsort(list, count, sizeof *list, by_name);
  *entries = list;
  *n = count;
  return 0;
}

void tally_spool_list_free(tally_spool_entry *entries, size_t n) {
  for (size_t i = 0; i < n; i++)
    tally__submit_request__free_unpacked(entries[i].req, NULL);
  free(entries);
}
