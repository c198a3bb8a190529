/* config.c: the client's settings file, read and written with jansson. */
#include "config.h"
#include "i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tally_config_path(char *buf, size_t n) {
  const char *env = getenv("TALLY_CONFIG");
  const char *xdg = getenv("XDG_CONFIG_HOME");
  const char *home = getenv("HOME");
  int len;
  if (env && *env)
    len = snprintf(buf, n, "%s", env);
  else if (xdg && *xdg == '/')
    len = snprintf(buf, n, "%s/tally/config.json", xdg);
  else if (home && *home)
    len = snprintf(buf, n, "%s/.config/tally/config.json", home);
  else
    return -ENOENT;
  return len > 0 && (size_t)len < n ? 0 : -ENAMETOOLONG;
}

static const struct {
  const char *key;
  size_t offset;
} fields[] = {
    {"server", offsetof(tally_config, server)},
    {"token", offsetof(tally_config, token)},
    {"ca", offsetof(tally_config, ca)},
    {"server_name", offsetof(tally_config, server_name)},
};

#define FIELD(cfg, i) ((char **)((char *)(cfg) + fields[i].offset))

int tally_config_load(const char *path, tally_config *cfg, char *err,
                      size_t errlen) {
  json_error_t jerr;
  struct stat st;
  memset(cfg, 0, sizeof *cfg);
  if (stat(path, &st) != 0 && errno == ENOENT)
    return 0;
  json_t *root = json_load_file(path, 0, &jerr);
  if (root == NULL) {
    snprintf(err, errlen, _("%s: line %d: %s"), path, jerr.line, jerr.text);
    return -EINVAL;
  }
  if (!json_is_object(root)) {
    snprintf(err, errlen, _("%s: expected a JSON object"), path);
    json_decref(root);
    return -EINVAL;
  }
  const char *key;
  json_t *v;
  json_object_foreach(root, key, v) {
    size_t i = 0, n = sizeof fields / sizeof fields[0];
    while (i < n && strcmp(fields[i].key, key) != 0)
      i++;
    if (i == n || !json_is_string(v)) {
      snprintf(err, errlen, _("%s: %s \"%s\" (the keys are server, token, ca "
               "and server_name, each a string)"), path,
               i == n ? "unknown key" : "not a string:", key);
      json_decref(root);
      tally_config_free(cfg);
      return -EINVAL;
    }
    if ((*FIELD(cfg, i) = strdup(json_string_value(v))) == NULL) {
      snprintf(err, errlen, _("out of memory"));
      json_decref(root);
      tally_config_free(cfg);
      return -ENOMEM;
    }
  }
  json_decref(root);
  if (cfg->token && (st.st_mode & 077))
    fprintf(stderr, _("tally: warning: %s holds a token and others may read "
            "it; run: chmod 600 %s\n"), path, path);
  return 0;
}

/* Makes the directories of path's parent (mode 0700). Returns 0 or
 * -errno. */
static int make_parents(const char *path) {
  char dir[4096];
  if ((size_t)snprintf(dir, sizeof dir, "%s", path) >= sizeof dir)
    return -ENAMETOOLONG;
  for (char *p = dir + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = 0;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
      return -errno;
    *p = '/';
  }
  return 0;
}

int tally_config_save(const char *path, const tally_config *cfg, char *err,
                      size_t errlen) {
  char tmp[4200];
  json_t *root = json_object();
  int fd = -1, rc = -ENOMEM;
  char *text = NULL;

  *err = 0;
  if (root == NULL)
    goto out;
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    const char *v = *FIELD(cfg, i);
    if (v && json_object_set_new(root, fields[i].key, json_string(v)) != 0)
      goto out;
  }
  if ((text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL)
    goto out;
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  /* A fresh file, never one planted there (a symbolic link to another
   * file would get the token). */
  if (make_parents(path) == 0)
    unlink(tmp);
  if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                 0600)) < 0) {
    rc = -errno;
    snprintf(err, errlen, _("cannot write %s: %s"), tmp, strerror(errno));
    goto out;
  }
  size_t len = strlen(text);
  errno = 0;
  if (fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len ||
      write(fd, "\n", 1) != 1 || fsync(fd) != 0 || close(fd) != 0) {
    rc = errno ? -errno : -EIO; /* a short write sets no errno */
    snprintf(err, errlen, _("cannot write %s: %s"), tmp, strerror(-rc));
    fd = -1;
    unlink(tmp);
    goto out;
  }
  fd = -1;
  if (rename(tmp, path) != 0) {
    rc = -errno;
    snprintf(err, errlen, _("cannot replace %s: %s"), path, strerror(errno));
    unlink(tmp);
    goto out;
  }
  rc = 0;
out:
  if (rc != 0 && *err == 0)
    snprintf(err, errlen, _("out of memory"));
  if (fd >= 0)
    close(fd);
  if (text) {
    memset(text, 0, strlen(text)); /* it holds the token */
    free(text);
  }
  json_decref(root);
  return rc;
}

void tally_config_free(tally_config *cfg) {
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    char **f = FIELD(cfg, i);
    free(*f);
    *f = NULL;
  }
}
