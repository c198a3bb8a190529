/* log.h: one line per event on standard error, with a UTC timestamp. */
#ifndef TALLY_LOG_H
#define TALLY_LOG_H

void tally_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
