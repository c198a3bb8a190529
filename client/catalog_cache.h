/* catalog_cache.h: the catalog a server sent last, kept beside the
 * spool (SPOOL/catalog/SERVER-HASH.json), so that a submission is
 * checked against it before it is spooled, even while the server
 * cannot be reached. It is taken whenever the client talks to the
 * server anyway (tally catalog and tally form; after a submission the
 * server answered, on the same connection, asking only whether the
 * copy is still the server's). The server checks everything again: the
 * copy only saves a clerk a pending submission it would refuse. */
#ifndef TALLY_CATALOG_CACHE_H
#define TALLY_CATALOG_CACHE_H

#include "catalog.h"
#include "cli.h"
#include "client.h"

/* Asks c's server for its catalog (unless the copy kept is still it)
 * and keeps it. Returns 0 and *out, or the exit status after saying why
 * (quiet: without a word). */
int tally_catalog_cache_fetch(const tally_cli *c, int quiet,
                              tally_catalog **out);

/* The same quietly; when the server could not be reached (not for a
 * usage or TLS problem, nor a refusal), *unreached is set and why holds
 * what tally_catalog_cache_fetch would have said after "tally: ". */
int tally_catalog_cache_fetch_quietly(const tally_cli *c, tally_catalog **out,
                                      int *unreached, char *why, size_t n);

/* The same on an open connection, quietly, keeping the copy only. */
void tally_catalog_cache_refresh(const tally_cli *c, tally_client *conn);

/* The copy kept of c's server's catalog, or NULL when there is none or
 * it does not load. */
tally_catalog *tally_catalog_cache_kept(const tally_cli *c);

/* When the copy was last written (Unix time), or 0. */
long long tally_catalog_cache_time(const tally_cli *c);

#endif
