/* hash.h: FNV-1a, the one non-cryptographic hash tally uses.
 *
 * The 64-bit FNV-1a of a catalog's text and of a submission are kept in
 * the store, so its value for given bytes must never change.
 */
#ifndef TALLY_HASH_H
#define TALLY_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The 64-bit FNV-1a of the n bytes at data. */
uint64_t tally_hash_fnv1a(const void *data, size_t n);

#endif
