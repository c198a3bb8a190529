/* file.h: reading a whole file into memory (or mapping it), or copying
 * it to a stream. */
#ifndef TALLY_FILE_H
#define TALLY_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Reads what is left of f into *buf, which the caller frees; *len is its
 * size, and a NUL follows it (not counted). Returns 0, or -EIO (a read
 * error) or -ENOMEM with *buf NULL. f stays open. */
int tally_file_read_stream(FILE *f, char **buf, size_t *len);

/* tally_file_read_stream of the file at path. Returns 0 or -errno. */
int tally_file_read(const char *path, char **buf, size_t *len);

/* The regular file at path mapped read-only into *data (*len bytes, no
 * NUL after them): its pages are the page cache's, nothing copied, no
 * memory of its own (a province's import file is 135 MB: copied, it
 * took 31,000 page faults of fresh memory). One file at a time:
 * until tally_file_unmap, should another program cut the file short,
 * reading past its new end ends this process with "PATH was cut short
 * while it was read: nothing was stored" on standard error, exit
 * status 1 (not a bus error). Returns 0, -ENODEV for what is not a
 * non-empty regular file (read it with tally_file_read instead), or
 * -errno. */
int tally_file_map(const char *path, const char **data, size_t *len);
void tally_file_unmap(const char *data, size_t len);

/* What a code from the two above means, for a message: "out of memory",
 * "read error", or strerror's words. */
const char *tally_file_strerror(int rc);

/* Copies the file at path to out, and flushes out. Returns 0, -1 when
 * path cannot be opened, or -2 when reading it or writing out failed
 * (errno says why, in both). */
int tally_file_copy(const char *path, FILE *out);

/* Returns 0 when path can be opened for reading, else -errno. */
int tally_file_readable(const char *path);

#endif
