/* catalog_cache.c: the server's catalog, fetched and kept.
 *
 * The happy path: a CatalogRequest names the fingerprint of the copy
 * kept; the reply says it is unchanged, or brings the JSON, which loads
 * and is written to a temporary file renamed over the copy. The failure
 * modes: an unreachable server or a refusal (said, unless quiet); a
 * catalog that does not load here (said); a copy that cannot be written
 * is not kept (nothing else depends on it).
 */
#include "catalog_cache.h"
#include "i18n.h"

#include "error.h"
#include "file.h"
#include "hash.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* SPOOL/catalog (dir) or SPOOL/catalog/HASH.json for c's server. */
static void cache_path(const tally_cli *c, char *buf, size_t n, int dir) {
  const char *server = c->server ? c->server : "";
  unsigned long long h = tally_hash_fnv1a(server, strlen(server));
  if (dir)
    snprintf(buf, n, "%s/catalog", c->spool);
  else
    snprintf(buf, n, "%s/catalog/%016llx.json", c->spool, h);
}

/* The copy's text, or NULL. */
static char *kept_text(const tally_cli *c, size_t *len) {
  char path[4200], *text;
  cache_path(c, path, sizeof path, 0);
  return tally_file_read(path, &text, len) == 0 ? text : NULL;
}

/* Keeps json as the copy of c's server's catalog. */
static void keep(const tally_cli *c, const void *json, size_t len) {
  char dir[4096], path[4200], tmp[4300];
  cache_path(c, dir, sizeof dir, 1);
  cache_path(c, path, sizeof path, 0);
  snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
  mkdir(c->spool, 0700);
  if (mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0)
    return;
  FILE *f = fopen(tmp, "wb");
  if (f == NULL)
    return;
  int ok = fwrite(json, 1, len, f) == len;
  ok &= fclose(f) == 0;
  if (!ok || rename(tmp, path) != 0)
    unlink(tmp);
}

/* The request, naming the copy kept. */
static void request(const tally_cli *c, Tally__Envelope *req,
                    Tally__CatalogRequest *q) {
  size_t len;
  char *text = kept_text(c, &len);
  q->known_fingerprint = text ? tally_hash_fnv1a(text, len) : 0;
  free(text);
  req->body_case = TALLY__ENVELOPE__BODY_CATALOG;
  req->catalog = q;
}

/* Keeps what the reply brings and loads it (or the copy, unchanged)
 * into *out when out. Returns 0, or -1 with why in err. */
static int take(const tally_cli *c, const Tally__CatalogReply *x,
                tally_catalog **out, char *err, size_t n) {
  char *text = NULL;
  size_t len;
  const char *origin = x->origin;
  int rc = 0;
  if (x->unchanged) {
    if (out == NULL)
      return 0;
    if ((text = kept_text(c, &len)) == NULL) {
      snprintf(err, n, "the copy of the catalog kept in %s/catalog is gone",
               c->spool);
      return -1;
    }
  } else {
    keep(c, x->json.data, x->json.len);
    len = x->json.len;
  }
  if (out && tally_catalog_read_buffer(origin, text ? text
                                                   : (const char *)x->json.data,
                                       len, out, err, n) != 0)
    rc = -1;
  free(text);
  return rc;
}

/* The fetch, quiet or not; quietly, *unreached tells (with why) that the
 * server could not be reached as the loud fetch would have said. */
static int fetch(const tally_cli *c, int quiet, tally_catalog **out,
                 int *unreached, char *why, size_t whylen) {
  Tally__CatalogRequest q = TALLY__CATALOG_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  tally_client *cl;
  char err[512];
  int rc;

  *out = NULL;
  *unreached = 0;
  request(c, &req, &q);
  if (!quiet) {
    if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_CATALOG_REPLY,
                             &reply)) != 0) {
      tally_wire_free(reply);
      return rc;
    }
  } else {
    if ((rc = tally_cli_open(c, &cl, err, sizeof err)) != 0) {
      /* As tally_cli_connect tells it, but for a usage or TLS problem. */
      *unreached = rc != TALLY_EUSAGE && rc != TALLY_ETLS;
      snprintf(why, whylen, "%s", err);
      return EXIT_UNREACHABLE;
    }
    rc = tally_client_call(cl, &req, &reply, err, sizeof err);
    tally_client_close(cl);
    if (rc != 0) { /* as tally_cli_call_on tells it */
      *unreached = 1;
      snprintf(why, whylen, "%s", err);
    }
    if (rc != 0 || reply->body_case != TALLY__ENVELOPE__BODY_CATALOG_REPLY) {
      tally_wire_free(reply);
      return rc != 0 ? EXIT_UNREACHABLE : EXIT_REFUSED;
    }
  }
  rc = EXIT_OK;
  if (take(c, reply->catalog_reply, out, err, sizeof err) != 0) {
    if (!quiet)
      fprintf(stderr, _("tally: the server's catalog does not load here: %s\n"),
              err);
    rc = EXIT_REFUSED;
  }
  tally_wire_free(reply);
  return rc;
}

int tally_catalog_cache_fetch(const tally_cli *c, int quiet,
                              tally_catalog **out) {
  int unreached;
  char why[512];
  return fetch(c, quiet, out, &unreached, why, sizeof why);
}

int tally_catalog_cache_fetch_quietly(const tally_cli *c, tally_catalog **out,
                                      int *unreached, char *why, size_t n) {
  return fetch(c, 1, out, unreached, why, n);
}

void tally_catalog_cache_refresh(const tally_cli *c, tally_client *conn) {
  Tally__CatalogRequest q = TALLY__CATALOG_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  char err[256];
  request(c, &req, &q);
  if (tally_client_call(conn, &req, &reply, err, sizeof err) == 0 &&
      reply->body_case == TALLY__ENVELOPE__BODY_CATALOG_REPLY)
    take(c, reply->catalog_reply, NULL, err, sizeof err);
  tally_wire_free(reply);
}

tally_catalog *tally_catalog_cache_kept(const tally_cli *c) {
  char err[512], path[4200];
  size_t len;
  char *text = kept_text(c, &len);
  tally_catalog *cat = NULL;
  if (text == NULL)
    return NULL;
  cache_path(c, path, sizeof path, 0);
  if (tally_catalog_read_buffer(path, text, len, &cat, err, sizeof err) != 0)
    cat = NULL;
  free(text);
  return cat;
}

long long tally_catalog_cache_time(const tally_cli *c) {
  char path[4200];
  struct stat st;
  cache_path(c, path, sizeof path, 0);
  return stat(path, &st) == 0 ? (long long)st.st_mtime : 0;
}
