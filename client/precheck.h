/* precheck.h: what can be checked of a submission without the server,
 * before it goes into the spool, against the server's catalog (kept by
 * catalog_cache.h): the unit, each figure (known element, a number the
 * element takes, reported by this unit, once), and the catalog's error
 * rules whose figures are all in the file (all of them with --replace,
 * where the file is the whole report). A file refused here is refused
 * in the server's words, with every problem and the lines it is on,
 * and the warnings it breaks without an explanation beside its errors.
 * Warnings alone are left to the server: an explanation kept from
 * before may pass them there. */
#ifndef TALLY_PRECHECK_H
#define TALLY_PRECHECK_H

#include "catalog.h"
#include "figfile.h"

/* Replaces each element of figs named by its Chinese or English name
 * (活产数, Live births; the catalog's, exactly, the English in any case)
 * with its code. Returns how many were named so. */
size_t tally_precheck_codes(const tally_catalog *cat, tally_figfile *figs);

/* True when an element of figs is written as no code is (a name). */
int tally_precheck_has_names(const tally_figfile *figs);

/* Checks figs, sent as unit's figures for period (replace: the whole
 * report; explained: the n rules explained with it), and when say, says
 * on stderr why it is refused. Returns how many problems refuse it. */
int tally_precheck(const tally_catalog *cat, const char *unit,
                   const char *period, const tally_figfile *figs,
                   const char *const *explained, size_t n_explained,
                   int replace, const char *file, int say);

#endif
