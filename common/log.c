/* log.c: the log's formats; see log.h. */
#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

enum format { AUTO, TEXT, JSON, JOURNAL };
static enum format chosen = AUTO;

/* Whether standard error is the stream $JOURNAL_STREAM ("DEV:INODE")
 * names: systemd sets it for a service whose output goes to the journal,
 * and a child that redirected its standard error must not believe it. */
static int on_journal(void) {
  const char *js = getenv("JOURNAL_STREAM");
  unsigned long long dev, ino;
  struct stat st;
  if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
      fstat(2, &st) != 0)
    return 0;
  return (unsigned long long)st.st_dev == dev &&
         (unsigned long long)st.st_ino == ino;
}

static enum format resolved(void) {
  if (chosen == AUTO)
    chosen = on_journal() ? JOURNAL : TEXT;
  return chosen;
}

int tally_log_set_format(const char *name) {
  static const char *const names[] = {"auto", "text", "json", "journal"};
  for (int i = 0; i < 4; i++)
    if (strcmp(name, names[i]) == 0) {
      chosen = (enum format)i;
      return 0;
    }
  return -1;
}

const char *tally_log_format(void) {
  switch (resolved()) {
  case JSON: return "json";
  case JOURNAL: return "journal";
  default: return "text";
  }
}

static const char *level_word(int level) {
  switch (level) {
  case TALLY_LOG_ERR: return "error";
  case TALLY_LOG_WARNING: return "warning";
  case TALLY_LOG_NOTICE: return "notice";
  default: return "info";
  }
}

static void vlog(int level, const char *fmt, va_list ap) {
  char line[1024], stamp[32];
  struct timeval tv;
  struct tm tm;

  vsnprintf(line, sizeof line, fmt, ap);
  /* A line is one line: a newline inside would forge a second one. */
  for (char *p = line; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  enum format f = resolved();
  if (f == JOURNAL) {
    fprintf(stderr, "<%d>%s\n", level, line);
    return;
  }
  gettimeofday(&tv, NULL);
  gmtime_r(&tv.tv_sec, &tm);
  size_t k = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(stamp + k, sizeof stamp - k, ".%03ldZ", (long)(tv.tv_usec / 1000));
  if (f == JSON) {
    json_t *o = json_pack("{s:s, s:s, s:s}", "time", stamp, "level",
                          level_word(level), "message", line);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    if (text)
      fprintf(stderr, "%s\n", text);
    free(text);
    json_decref(o);
    return;
  }
  /* One fprintf per line, so lines from one process never interleave. */
  if (level <= TALLY_LOG_WARNING)
    fprintf(stderr, "%s %s: %s\n", stamp, level_word(level), line);
  else
    fprintf(stderr, "%s %s\n", stamp, line);
}

void tally_log_at(int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(level, fmt, ap);
  va_end(ap);
}

void tally_log(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(TALLY_LOG_INFO, fmt, ap);
  va_end(ap);
}

void tally_log_warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(TALLY_LOG_WARNING, fmt, ap);
  va_end(ap);
}

void tally_log_err(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(TALLY_LOG_ERR, fmt, ap);
  va_end(ap);
}
