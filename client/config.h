/* config.h: the client's settings file, so that a token need not be
 * typed on command lines (and end up in shell history).
 *
 * The file is JSON: {"server": "HOST:PORT", "token": "...", "ca": "FILE",
 * "server_name": "NAME"}, every key optional. It lives at $TALLY_CONFIG,
 * else $XDG_CONFIG_HOME/tally/config.json, else
 * ~/.config/tally/config.json, and is written with mode 0600 (its
 * directory 0700). Settings come from the command line first, then the
 * environment (TALLY_SERVER, TALLY_TOKEN, TALLY_CA), then this file.
 */
#ifndef TALLY_CONFIG_H
#define TALLY_CONFIG_H

#include <stddef.h>

typedef struct {
  char *server;
  char *token;
  char *ca;
  char *server_name;
} tally_config;

/* The file's path into buf. Returns 0, -ENOENT when there is no home,
 * or -ENAMETOOLONG when buf is too small. */
int tally_config_path(char *buf, size_t n);

/* Reads path into cfg (fields absent stay NULL). A missing file is an
 * empty config. Returns 0, or -EINVAL (not the JSON described above) or
 * -ENOMEM, with a message in err. */
int tally_config_load(const char *path, tally_config *cfg, char *err,
                      size_t errlen);

/* Writes cfg to path (mode 0600, replacing the file whole). Returns 0,
 * or -errno with a message in err. */
int tally_config_save(const char *path, const tally_config *cfg, char *err,
                      size_t errlen);

void tally_config_free(tally_config *cfg);

#endif
