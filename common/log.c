#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

void tally_log(const char *fmt, ...) {
  struct timeval tv;
  struct tm tm;
  char stamp[32];
  char line[1024];
  va_list ap;

  gettimeofday(&tv, NULL);
  gmtime_r(&tv.tv_sec, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  /* One fprintf per line, so lines from one process never interleave. */
  fprintf(stderr, "%s.%03ldZ %s\n", stamp, (long)(tv.tv_usec / 1000), line);
}
