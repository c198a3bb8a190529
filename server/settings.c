/* settings.c: tallyd's settings, one row each, from the config file
 * (libinih) and the command line.
 *
 * The happy path: the file is read line by line through a reader that
 * counts the lines, libinih hands each "key = value" of a [section] to
 * set_in_file, which finds its row and sets it as the flag would.
 * The failure modes: the file cannot be read (-ENOENT or -errno); a line
 * that is not INI, a section or key no row has, a key given twice or a
 * value the row refuses: -EINVAL with "FILE:LINE: problem", the first
 * one (libinih stops there).
 */
#include "settings.h"

#include "address.h"
#include "file.h"
#include "frame.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind {
  TEXT,    /* a string */
  SWITCH,  /* a flag without a value; yes or no in the file */
  COUNT,   /* a whole number */
  MIB,     /* a whole number of MiB, kept in bytes */
  ADDRESS, /* HOST:PORT, given once or more (the listens) */
};

/* One row per setting: its flag, where it sits in the file, its kind,
 * its bounds and its field. */
static const struct row {
  const char *flag;
  const char *section, *key;
  enum kind kind;
  size_t min, max;
  size_t offset;
} rows[] = {
#define AT(f) offsetof(tally_settings, f)
    {"data", "store", "data", TEXT, 0, 0, AT(data)},
    {"backup-dir", "store", "backup-dir", TEXT, 0, 0, AT(backup_dir)},
    {"catalog", "store", "catalog", TEXT, 0, 0, AT(catalog)},
    {"map-size", "store", "map-size", MIB, 1, 1u << 20, AT(map_size)},
    {"max-map-size", "store", "max-map-size", MIB, 1, 1u << 24,
     AT(max_map_size)},
    {"listen", "server", "listen", ADDRESS, 0, 0, AT(listen)},
    {"insecure-plaintext", "server", "insecure-plaintext", SWITCH, 0, 1,
     AT(insecure_plaintext)},
    {"log-format", "server", "log-format", TEXT, 0, 0, AT(log_format)},
    {"tls-cert", "tls", "cert", TEXT, 0, 0, AT(tls_cert)},
    {"tls-key", "tls", "key", TEXT, 0, 0, AT(tls_key)},
    {"cert-warn-days", "tls", "warn-days", COUNT, 1, 3650,
     AT(cert_warn_days)},
    {"http", "web", "listen", ADDRESS, 0, 0, AT(http)},
    {"web-dir", "web", "dir", TEXT, 0, 0, AT(web_dir)},
    {"session-timeout", "web", "session-timeout", COUNT, 1, 7 * 86400,
     AT(session_s)},
    {"max-frame", "limits", "max-frame", COUNT, 64, 256u << 20,
     AT(max_frame)},
    {"idle-timeout", "limits", "idle-timeout", COUNT, 1, 86400,
     AT(idle_timeout_s)},
    {"max-connections", "limits", "max-connections", COUNT, 1, 1000000,
     AT(max_connections)},
    {"sign-in-timeout", "limits", "sign-in-timeout", COUNT, 1, 3600,
     AT(sign_in_timeout_s)},
    {"max-per-address", "limits", "max-per-address", COUNT, 1, 1000000,
     AT(max_per_address)},
    {"memory-budget", "limits", "memory-budget", MIB, 1, 1u << 20,
     AT(memory_budget)},
#undef AT
};
#define N_ROWS (sizeof rows / sizeof rows[0])

void tally_settings_init(tally_settings *o) {
  memset(o, 0, sizeof *o);
  o->listen.at[0] = strdup("127.0.0.1:7300");
  o->listen.n = 1;
  o->log_format = strdup("auto");
  o->max_frame = TALLY_FRAME_DEFAULT_MAX;
  o->cert_warn_days = 30;
}

/* Empties a list of addresses. */
static void addresses_clear(tally_settings_addresses *a) {
  for (size_t i = 0; i < a->n; i++) {
    free(a->at[i]);
    a->at[i] = NULL;
  }
  a->n = 0;
}

void tally_settings_free(tally_settings *o) {
  addresses_clear(&o->listen);
  addresses_clear(&o->http);
  for (size_t i = 0; i < N_ROWS; i++)
    if (rows[i].kind == TEXT) {
      char **field = (char **)((char *)o + rows[i].offset);
      free(*field);
      *field = NULL;
    }
}

static const struct row *by_flag(const char *name) {
  for (size_t i = 0; i < N_ROWS; i++)
    if (strcmp(rows[i].flag, name) == 0)
      return &rows[i];
  return NULL;
}

int tally_settings_known(const char *name, int *takes_value) {
  const struct row *r = by_flag(name);
  if (r)
    *takes_value = r->kind != SWITCH;
  return r != NULL;
}

/* Adds value to the addresses a; from says where it is given (1 the
 * file, 2 the command line): the first from a place replaces those
 * from before. */
static int add_address(tally_settings_addresses *a, const char *value,
                       int from, const char *name, char *err, size_t n) {
  struct sockaddr_storage ss;
  if (value == NULL || *value == 0) {
    snprintf(err, n, "%s needs a value", name);
    return -EINVAL;
  }
  if (tally_address_parse(value, &ss) != 0) {
    snprintf(err, n, "%s must be HOST:PORT (127.0.0.1:7300, [::1]:7300), "
             "not '%s'", name, value);
    return -EINVAL;
  }
  if (from > a->from) {
    addresses_clear(a);
    a->from = from;
  }
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->at[i], value) == 0) {
      snprintf(err, n, "%s %s is given twice", name, value);
      return -EINVAL;
    }
  if (a->n == TALLY_SETTINGS_LISTEN_MAX) {
    snprintf(err, n, "%s %s: at most %d addresses", name, value,
             TALLY_SETTINGS_LISTEN_MAX);
    return -EINVAL;
  }
  if ((a->at[a->n] = strdup(value)) == NULL)
    return -ENOMEM;
  a->n++;
  return 0;
}

/* Sets row r from value (NULL: a switch on the command line); from is
 * 1 for the file, 2 for the command line. */
static int set_row(tally_settings *o, const struct row *r, const char *value,
                   int from, const char *name, char *err, size_t n) {
  void *field = (char *)o + r->offset;
  char *end;
  switch (r->kind) {
  case ADDRESS:
    return add_address(field, value, from, name, err, n);
  case TEXT: {
    if (value == NULL || *value == 0) {
      snprintf(err, n, "%s needs a value", name);
      return -EINVAL;
    }
    if (r->offset == offsetof(tally_settings, log_format) &&
        strcmp(value, "auto") && strcmp(value, "text") &&
        strcmp(value, "json") && strcmp(value, "journal")) {
      snprintf(err, n, "%s must be auto, text, json or journal, not '%s'",
               name, value);
      return -EINVAL;
    }
    char *copy = strdup(value);
    if (copy == NULL)
      return -ENOMEM;
    free(*(char **)field);
    *(char **)field = copy;
    return 0;
  }
  case SWITCH:
    if (value == NULL || strcmp(value, "yes") == 0 ||
        strcmp(value, "true") == 0) {
      *(int *)field = 1;
      return 0;
    }
    if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0) {
      *(int *)field = 0;
      return 0;
    }
    snprintf(err, n, "%s must be yes or no, not '%s'", name, value);
    return -EINVAL;
  case COUNT:
  case MIB: {
    errno = 0;
    unsigned long long v = value ? strtoull(value, &end, 10) : 0;
    if (value == NULL || *value == 0 || *end != 0 || value[0] == '-' ||
        errno != 0 || v < r->min || v > r->max) {
      snprintf(err, n, "%s must be a whole number from %zu to %zu%s, not "
               "'%s'", name, r->min, r->max, r->kind == MIB ? " (MiB)" : "",
               value ? value : "");
      return -EINVAL;
    }
    *(size_t *)field = r->kind == MIB ? (size_t)v << 20 : (size_t)v;
    return 0;
  }
  }
  return -EINVAL;
}

int tally_settings_set(tally_settings *o, const char *name, const char *value,
                       char *err, size_t n) {
  const struct row *r = by_flag(name);
  char flag[64];
  if (r == NULL) {
    snprintf(err, n, "no setting %s", name);
    return -EINVAL;
  }
  snprintf(flag, sizeof flag, "--%s", name);
  return set_row(o, r, value, 2, flag, err, n);
}

/* What a reading of a file keeps: the line being read and the first
 * problem. */
struct reading {
  tally_settings *o;
  const char *text;     /* the file, read whole */
  size_t len, at;       /* its length, and how far libinih has read */
  int line;             /* the line the reader is in */
  int line_done;        /* the last piece read ended the line */
  int problem_line;     /* the line of the problem, 0 = none yet */
  char problem[512];
  unsigned char seen[N_ROWS]; /* keys given */
};

/* libinih's reader: fgets over the text, counting lines. */
static char *read_line(char *str, int num, void *stream) {
  struct reading *rd = stream;
  size_t k = 0;
  if (rd->at >= rd->len || num < 2)
    return NULL;
  while (k + 1 < (size_t)num && rd->at < rd->len) {
    char ch = rd->text[rd->at++];
    str[k++] = ch;
    if (ch == '\n')
      break;
  }
  str[k] = 0;
  if (rd->line_done)
    rd->line++;
  rd->line_done = str[k - 1] == '\n';
  return str;
}

static int set_in_file(void *user, const char *section, const char *key,
                       const char *value) {
  struct reading *rd = user;
  const struct row *r = NULL;
  int section_known = 0;
  for (size_t i = 0; i < N_ROWS; i++)
    if (strcmp(rows[i].section, section) == 0) {
      section_known = 1;
      if (strcmp(rows[i].key, key) == 0)
        r = &rows[i];
    }
  rd->problem_line = rd->line;
  if (!section_known) {
    if (*section == 0)
      snprintf(rd->problem, sizeof rd->problem, "'%s' comes before any "
               "[section]: put it in its section ([store], [server], [tls], "
               "[web] or [limits])", key);
    else
      snprintf(rd->problem, sizeof rd->problem, "unknown section [%s] (there "
               "are [store], [server], [tls], [web] and [limits])", section);
    return 0;
  }
  if (r == NULL) {
    int k = snprintf(rd->problem, sizeof rd->problem, "unknown key '%s' in "
                     "[%s]; it takes:", key, section);
    for (size_t i = 0; i < N_ROWS && k > 0 && (size_t)k < sizeof rd->problem;
         i++)
      if (strcmp(rows[i].section, section) == 0)
        k += snprintf(rd->problem + k, sizeof rd->problem - (size_t)k, " %s",
                      rows[i].key);
    return 0;
  }
  if (rd->seen[r - rows] && r->kind != ADDRESS) {
    snprintf(rd->problem, sizeof rd->problem, "'%s' in [%s] is given twice",
             key, section);
    return 0;
  }
  rd->seen[r - rows] = 1;
  char name[80];
  snprintf(name, sizeof name, "%s", key);
  if (set_row(rd->o, r, value, 1, name, rd->problem, sizeof rd->problem) != 0)
    return 0;
  rd->problem_line = 0;
  return 1;
}

int tally_settings_read(tally_settings *o, const char *path, char *err,
                        size_t n) {
  struct reading rd = {.o = o, .line = 1};
  char *text;
  int rc = tally_file_read(path, &text, &rd.len);
  if (rc != 0) {
    snprintf(err, n, "cannot read the config file %s: %s", path,
             strerror(-rc));
    return rc;
  }
  rd.text = text;
  /* A NUL byte would cut its line short unseen. */
  const char *nul = memchr(text, 0, rd.len);
  if (nul) {
    int line = 1;
    for (const char *p = text; p < nul; p++)
      line += *p == '\n';
    snprintf(err, n, "%s:%d: a NUL byte: not a text file", path, line);
    free(text);
    return -EINVAL;
  }
  /* libinih's switches, for our format: the first problem ends the
   * reading, a value is one line, and a line may be long (a path). */
  ini_stop_on_first_error = true;
  ini_allow_multiline = false;
  ini_use_stack = false;
  ini_allow_realloc = true;
  ini_max_line = 8192;
  rc = ini_parse_stream(read_line, &rd, set_in_file, &rd);
  free(text);
  if (rc == 0)
    return 0;
  if (rc < 0) {
    snprintf(err, n, "%s: out of memory", path);
    return -ENOMEM;
  }
  if (rd.problem_line == rc)
    snprintf(err, n, "%s:%d: %s", path, rc, rd.problem);
  else
    snprintf(err, n, "%s:%d: not '[section]', 'key = value' or a comment "
             "(# or ;)", path, rc);
  return -EINVAL;
}
