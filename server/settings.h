/* settings.h: what tallyd runs with: its config file, then its flags.
 *
 * The config file (/etc/tally/tallyd.conf by default, INI, read with
 * libinih) and the command line set the same settings, one table row
 * each: a flag --max-frame is the key max-frame of section [limits].
 * The file is read first and the flags override it. listen (of
 * [server] and of [web], --listen and --http) may be given several
 * times, in the file and on the command line: each is an address more
 * (the flags' replace the file's). A key the table
 * does not know, a value out of range or a line that is not INI stops
 * the reading with "FILE:LINE: problem".
 */
#ifndef TALLY_SETTINGS_H
#define TALLY_SETTINGS_H

#include <stddef.h>

/* The most addresses tallyd listens on, for the protocol and for the
 * web pages each (server.h's and web.h's as well). */
#define TALLY_SETTINGS_LISTEN_MAX 8

/* Addresses given once or more, HOST:PORT each. */
typedef struct {
  char *at[TALLY_SETTINGS_LISTEN_MAX];
  size_t n;
  int from;                 /* where they came from: 0 the default, 1 the
                               file, 2 the flags (each replaces the last) */
} tally_settings_addresses;

typedef struct {
  char *data;               /* the store's directory */
  tally_settings_addresses listen; /* the protocol's; at least 1 */
  char *catalog;            /* NULL: the built-in one */
  char *tls_cert, *tls_key; /* NULL: plaintext */
  char *backup_dir;         /* NULL: no backups through the server */
  tally_settings_addresses http; /* the web pages'; none: no pages */
  char *web_dir;            /* NULL: found beside tallyd */
  char *log_format;         /* auto, text, json, journal */
  int insecure_plaintext;
  size_t max_frame;         /* bytes */
  size_t map_size;          /* bytes; 0 = the store's default */
  size_t max_map_size;      /* bytes; 0 = no limit */
  size_t idle_timeout_s;    /* 0 = the server's default */
  size_t max_connections;
  size_t sign_in_timeout_s;
  size_t max_per_address;
  size_t memory_budget;     /* bytes */
  size_t session_s;         /* a web sign-in's life */
  size_t cert_warn_days;    /* warn this long before the certificate ends */
} tally_settings;

/* The defaults. Free what a settings holds with tally_settings_free. */
void tally_settings_init(tally_settings *o);
void tally_settings_free(tally_settings *o);

/* Whether name is a setting's flag name ("max-frame"), and whether it
 * takes a value (a switch such as insecure-plaintext does not). Returns
 * 1 with *takes_value, or 0 for no such setting. */
int tally_settings_known(const char *name, int *takes_value);

/* Sets one setting by its flag name; value is NULL for a switch given on
 * the command line. Returns 0, or -EINVAL with the problem in err
 * ("max-frame must be a whole number from 64 to 268435456, not 'x'"). */
int tally_settings_set(tally_settings *o, const char *name,
                       const char *value, char *err, size_t n);

/* Reads the config file path over o. Returns 0, -ENOENT (no such file:
 * err says so), or -EINVAL with "PATH:LINE: problem" in err. */
int tally_settings_read(tally_settings *o, const char *path, char *err,
                        size_t n);

#endif
