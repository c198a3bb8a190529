/* hash.h: FNV-1a, the one non-cryptographic hash tally uses.
 *
 * The 64-bit FNV-1a of a catalog's text and of a submission are kept in
 * the store, so its value for given bytes must never change.
 */
#ifndef TALLY_HASH_H
#define TALLY_HASH_H

#include <stddef.h>
#include <stdint.h>

#define TALLY_FNV1A_BASIS 0xcbf29ce484222325ull /* the offset basis */

/* The 64-bit FNV-1a of the n bytes at data. */
uint64_t tally_hash_fnv1a(const void *data, size_t n);

/* The hash h of some bytes (TALLY_FNV1A_BASIS: of none) carried on over
 * the n bytes at data that follow them: a hash made in pieces is the
 * hash of the pieces end to end. */
uint64_t tally_hash_fnv1a_more(uint64_t h, const void *data, size_t n);

#endif
