/* log.h: one line per event on standard error.
 *
 * Three formats: text (a UTC timestamp, then the line), json (one
 * object a line: time, level, message) and journal (a syslog severity
 * prefix such as "<4>", no timestamp: systemd's journal stamps each line
 * itself and filters by the severity). The default, auto, is journal
 * when standard error is the journal's stream ($JOURNAL_STREAM names
 * it), else text.
 */
#ifndef TALLY_LOG_H
#define TALLY_LOG_H

/* Syslog severities (RFC 5424), as the journal reads them. */
enum {
  TALLY_LOG_ERR = 3,
  TALLY_LOG_WARNING = 4,
  TALLY_LOG_NOTICE = 5,
  TALLY_LOG_INFO = 6,
};

/* Sets the format: "auto", "text", "json" or "journal". Returns 0, or -1
 * for any other name (the format is then left as it was). */
int tally_log_set_format(const char *name);

/* The format in use after auto is resolved: "text", "json" or
 * "journal". */
const char *tally_log_format(void);

/* A line at a severity; tally_log is TALLY_LOG_INFO. In the text format a
 * warning begins "warning: " and an error "error: ". */
void tally_log_at(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tally_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tally_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tally_log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
