/* backup.c: tallyd backup and tallyd restore; see backup.h.
 *
 * The happy path of a backup: a temporary .NAME.tmp beside the
 * destination, the store copied into it (tally_store_copy), synced,
 * renamed into place, the folder synced. Of a restore: the backup
 * copied into the new data directory the same way, the store opened,
 * its sums made for the catalog if they were made for another, and
 * verified.
 * The failure modes: a destination that is there (a backup never
 * replaces another, except today's in a rotation), a folder that
 * cannot be written, a store that is damaged or of another format, a
 * copy whose sums do not match its figures: each said in err, and what
 * was made removed.
 */
#include "backup.h"

#include "durable.h"
#include "error.h"
#include "rollup.h"
#include "store.h"
#include "store_figures.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* dir/.base.tmp for path dir/base. */
static void temp_beside(const char *path, char *buf, size_t n) {
  const char *slash = strrchr(path, '/');
  if (slash)
    snprintf(buf, n, "%.*s/.%s.tmp", (int)(slash - path), path, slash + 1);
  else
    snprintf(buf, n, ".%s.tmp", path);
}

static void folder_of(const char *path, char *buf, size_t n) {
  const char *slash = strrchr(path, '/');
  if (slash == path)
    snprintf(buf, n, "/");
  else if (slash)
    snprintf(buf, n, "%.*s", (int)(slash - path), path);
  else
    snprintf(buf, n, ".");
}

/* Makes path from fill(arg, fd) through a temporary name: replace 0
 * refuses a path that is there. */
static int write_through_temp(const char *path, int replace,
                              int (*fill)(void *arg, int fd, char *err,
                                          size_t n),
                              void *arg, uint64_t *bytes, char *err,
                              size_t n) {
  char tmp[4200], folder[4200];
  struct stat st;
  int rc;
  if (!replace && lstat(path, &st) == 0) {
    snprintf(err, n, "%s is there already: a backup never replaces another; "
             "give a new name", path);
    return -EEXIST;
  }
  temp_beside(path, tmp, sizeof tmp);
  folder_of(path, folder, sizeof folder);
  unlink(tmp); /* a killed earlier run's */
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                0600);
  if (fd < 0) {
    rc = -errno;
    snprintf(err, n, "cannot write in %s: %s", folder, strerror(errno));
    return rc;
  }
  if ((rc = fill(arg, fd, err, n)) != 0)
    goto err_after_open;
  if (fstat(fd, &st) != 0 || close(fd) != 0) {
    rc = -errno;
    snprintf(err, n, "cannot write %s: %s", tmp, strerror(errno));
    unlink(tmp);
    return rc;
  }
  if (rename(tmp, path) != 0) {
    rc = -errno;
    snprintf(err, n, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    unlink(tmp);
    return rc;
  }
  if ((rc = tally_sync_dir(folder)) != 0) {
    snprintf(err, n, "cannot sync %s: %s", folder, strerror(-rc));
    return rc;
  }
  *bytes = (uint64_t)st.st_size;
  return 0;

err_after_open:
  close(fd);
  unlink(tmp); /* a partial copy is no backup */
  return rc;
}

static int fill_from_store(void *arg, int fd, char *err, size_t n) {
  return tally_store_copy(arg, fd, err, n);
}

int tally_backup_copy(const char *data, const char *dest, uint64_t *bytes,
                      char *err, size_t n) {
  return write_through_temp(dest, 0, fill_from_store, (void *)data, bytes,
                            err, n);
}

/* Copies the file named by arg into fd. */
static int fill_from_file(void *arg, int fd, char *err, size_t n) {
  const char *from = arg;
  char buf[1 << 16];
  int in = open(from, O_RDONLY | O_CLOEXEC);
  ssize_t got;
  if (in < 0) {
    int rc = -errno;
    snprintf(err, n, "cannot read %s: %s", from, strerror(errno));
    return rc;
  }
  while ((got = read(in, buf, sizeof buf)) > 0)
    for (ssize_t done = 0; done < got;) {
      ssize_t w = write(fd, buf + done, (size_t)(got - done));
      if (w < 0) {
        int rc = -errno;
        snprintf(err, n, "cannot write the copy of %s: %s", from,
                 strerror(errno));
        close(in);
        return rc;
      }
      done += w;
    }
  int rc = got < 0 ? -errno : 0;
  if (rc)
    snprintf(err, n, "cannot read %s: %s", from, strerror(errno));
  close(in);
  if (rc == 0 && fsync(fd) != 0) {
    rc = -errno;
    snprintf(err, n, "cannot sync the copy of %s: %s", from, strerror(errno));
  }
  return rc;
}

int tally_backup_mkdirs(const char *dir, int *made, char *err, size_t n) {
  char path[4096];
  size_t len = strlen(dir);
  *made = 0;
  if (len == 0 || len >= sizeof path) {
    snprintf(err, n, "'%s' cannot be a directory", dir);
    return -EINVAL;
  }
  memcpy(path, dir, len + 1);
  for (char *p = path + 1;; p++) {
    int end = *p == 0;
    if (*p == '/' || end) {
      *p = 0;
      if (mkdir(path, 0700) == 0) {
        if (end)
          *made = 1;
      } else if (errno != EEXIST) {
        int rc = -errno;
        snprintf(err, n, "cannot make %s: %s", path, strerror(errno));
        return rc;
      }
      if (end)
        break;
      *p = '/';
    }
  }
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, n, "%s is not a directory", dir);
    return -ENOTDIR;
  }
  return 0;
}

/* Whether name is a rotation's file: DATE.mdb of len characters before
 * the suffix, digits and dashes. */
static int rotation_name(const char *name, size_t len) {
  size_t k = strlen(name);
  if (k != len + 4 || strcmp(name + len, ".mdb") != 0)
    return 0;
  for (size_t i = 0; i < len; i++)
    if (!(name[i] == '-' || (name[i] >= '0' && name[i] <= '9')))
      return 0;
  return 1;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes the files of a rotation in dir past the newest keep. */
static int prune(const char *dir, size_t len, int keep, int *removed,
                 char *err, size_t n) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char **names = NULL;
  size_t count = 0, cap = 0;
  int rc = 0;
  if (d == NULL) {
    rc = -errno;
    snprintf(err, n, "cannot list %s: %s", dir, strerror(errno));
    return rc;
  }
  while ((e = readdir(d)) != NULL) {
    if (!rotation_name(e->d_name, len))
      continue;
    if (count == cap) {
      char **more = realloc(names, (cap = cap ? cap * 2 : 32) * sizeof *more);
      if (more == NULL) {
        rc = -ENOMEM;
        break;
      }
      names = more;
    }
    if ((names[count] = strdup(e->d_name)) == NULL) {
      rc = -ENOMEM;
      break;
    }
    count++;
  }
  closedir(d);
  qsort(names, count, sizeof *names, by_name);
  for (size_t i = 0; rc == 0 && i + (size_t)keep < count; i++) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (unlink(path) != 0) {
      rc = -errno;
      snprintf(err, n, "cannot remove %s: %s", path, strerror(errno));
    } else {
      (*removed)++;
    }
  }
  for (size_t i = 0; i < count; i++)
    free(names[i]);
  free(names);
  if (rc == -ENOMEM)
    snprintf(err, n, "out of memory");
  return rc ? rc : tally_sync_dir(dir);
}

int tally_backup_rotate(const char *data, const char *root, int64_t now,
                        int keep_daily, int keep_monthly, char *made,
                        size_t made_n, uint64_t *bytes, int *removed,
                        char *err, size_t n) {
  char daily[4200], monthly[4200], month[4300], day[16], mon[16];
  time_t t = (time_t)now;
  struct tm tm;
  struct stat st;
  int dir_made, rc;

  *removed = 0;
  localtime_r(&t, &tm);
  strftime(day, sizeof day, "%Y-%m-%d", &tm);
  strftime(mon, sizeof mon, "%Y-%m", &tm);
  snprintf(daily, sizeof daily, "%s/daily", root);
  snprintf(monthly, sizeof monthly, "%s/monthly", root);
  if ((rc = tally_backup_mkdirs(daily, &dir_made, err, n)) != 0 ||
      (rc = tally_backup_mkdirs(monthly, &dir_made, err, n)) != 0)
    return rc;
  snprintf(made, made_n, "%s/%s.mdb", daily, day);
  /* Run twice in a day, the later copy is that day's. */
  if ((rc = write_through_temp(made, 1, fill_from_store, (void *)data, bytes,
                               err, n)) != 0)
    return rc;
  snprintf(month, sizeof month, "%s/%s.mdb", monthly, mon);
  if (lstat(month, &st) != 0) {
    /* The month's first: a second name for the same file. */
    if (link(made, month) != 0) {
      uint64_t again;
      if ((rc = write_through_temp(month, 0, fill_from_file, made, &again,
                                   err, n)) != 0)
        return rc;
    } else if ((rc = tally_sync_dir(monthly)) != 0) {
      snprintf(err, n, "cannot sync %s: %s", monthly, strerror(-rc));
      return rc;
    }
  }
  if ((rc = prune(daily, 10, keep_daily, removed, err, n)) != 0 ||
      (rc = prune(monthly, 7, keep_monthly, removed, err, n)) != 0)
    return rc;
  return 0;
}

/* Removes what a failed restore made in data. */
static void unmake(const char *data, int dir_made) {
  static const char *const files[] = {"data.mdb", "lock.mdb", "tallyd.pid"};
  char path[4200];
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/%s", data, files[i]);
    unlink(path);
  }
  if (dir_made)
    rmdir(data);
}

int tally_backup_restore(const char *backup, const char *data,
                         const tally_catalog *cat, tally_backup_restored *out,
                         char *err, size_t n) {
  char into[4200];
  struct stat st;
  tally_store *store = NULL;
  tally_rollup *rollup = NULL;
  tally_rollup_check check;
  int dir_made = 0, rebuilt, rc;
  uint64_t reports;

  memset(out, 0, sizeof *out);
  errno = 0;
  if (stat(backup, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = errno ? -errno : -EINVAL;
    snprintf(err, n, "%s is not a backup file%s%s", backup,
             errno ? ": " : "", errno ? strerror(errno) : "");
    return rc;
  }
  out->backup_made = (int64_t)st.st_mtime;
  snprintf(into, sizeof into, "%s/data.mdb", data);
  if (lstat(into, &st) == 0) {
    snprintf(err, n, "there is a store in %s already: a restore never "
             "replaces one; stop tallyd, move %s away, and restore into a "
             "new directory of that name", data, data);
    return -EEXIST;
  }
  if ((rc = tally_backup_mkdirs(data, &dir_made, err, n)) != 0)
    return rc;
  if ((rc = write_through_temp(into, 0, fill_from_file, (void *)backup,
                               &out->bytes, err, n)) != 0)
    goto err_after_dir;
  if ((rc = tally_store_open(data, 0, 0, &store)) != 0) {
    tally_store_explain(data, rc, err, n);
    goto err_after_dir;
  }
  if ((rc = tally_rollup_new(cat, store, &rollup)) != 0 ||
      (rc = tally_rollup_prepare(rollup, &rebuilt, &reports)) != 0 ||
      (rc = tally_rollup_verify(cat, store, &check)) != 0) {
    snprintf(err, n, "the restored store cannot be checked: %s",
             tally_strerror(rc));
    goto err_after_store;
  }
  if (check.mismatches) {
    snprintf(err, n, "the restored store does not verify: %llu of %llu sums "
             "records differ from its figures (%s); it was removed",
             (unsigned long long)check.mismatches,
             (unsigned long long)check.records, check.first);
    rc = -EUCLEAN;
    goto err_after_store;
  }
  out->reports = check.reports;
  out->records = check.records;
  if ((rc = tally_store_newest_figure(store, &out->newest_figure)) != 0) {
    snprintf(err, n, "the restored store cannot be read: %s",
             tally_strerror(rc));
    goto err_after_store;
  }
  tally_rollup_free(rollup);
  tally_store_close(store);
  return 0;

err_after_store:
  tally_rollup_free(rollup);
  tally_store_close(store);
err_after_dir:
  unmake(data, dir_made);
  return rc;
}
