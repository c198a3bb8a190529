/* spool.h: submissions kept on disk until the server acknowledges them
 * (and, acknowledged, for a while after: acknowledged/).
 *
 * `tally submit` writes each submission here before it sends it and
 * removes it only when the server has acknowledged it, so a submission
 * survives an unreachable server, a lost reply or a killed client. Each
 * entry is one file holding a packed SubmitRequest (with its id); the
 * file is written to a temporary name, synced and renamed into place, so
 * an entry is either complete or absent. Entries are named by creation
 * time, so a directory listing is their order.
 */
#ifndef TALLY_SPOOL_H
#define TALLY_SPOOL_H

#include "tally.pb-c.h"

#include <stddef.h>
#include <stdint.h>

#define TALLY_SPOOL_NAME_MAX 128

typedef struct {
  char name[TALLY_SPOOL_NAME_MAX]; /* file name in the spool */
  int64_t created_ms;              /* Unix time, milliseconds */
  Tally__SubmitRequest *req;       /* the submission, with its id */
} tally_spool_entry;

/* The default spool directory: $TALLY_SPOOL, else
 * $XDG_STATE_HOME/tally/spool, else ~/.local/state/tally/spool. Writes
 * it into buf. Returns 0 or -ENOENT when no home is known. */
int tally_spool_default_dir(char *buf, size_t n);

/* Creates dir (and its parents, mode 0700) if needed. Returns 0 or
 * -errno with a message in err. */
int tally_spool_init(const char *dir, char *err, size_t errlen);

/* A new random submission id (a version 4 UUID) into id[37]. Returns 0
 * or -errno. */
int tally_spool_new_id(char id[37]);

/* Writes req durably as a new entry; its name goes to name. Returns 0
 * or -errno with a message in err. */
int tally_spool_add(const char *dir, const Tally__SubmitRequest *req,
                    char name[TALLY_SPOOL_NAME_MAX], char *err, size_t errlen);

/* Removes an entry (durably). Returns 0 or -errno. */
int tally_spool_remove(const char *dir, const char *name);

/* Moves an entry the server refused into dir/refused/, kept for the
 * record. Returns 0 or -errno. */
int tally_spool_set_aside(const char *dir, const char *name);

/* After the server has acknowledged an entry: moves it into
 * dir/acknowledged/, stamped with the time now (its modification time),
 * so that it can be sent again after the server restores an older
 * backup (tally sync --resend-since). Returns 0 or -errno. */
int tally_spool_acknowledge(const char *dir, const char *name);

/* Removes the acknowledged entries stamped before Unix time before.
 * Returns how many, or -errno. */
int tally_spool_forget_acknowledged(const char *dir, int64_t before);

/* The acknowledged entries stamped at or after Unix time since, oldest
 * first, as tally_spool_list gives entries. */
int tally_spool_list_acknowledged(const char *dir, int64_t since,
                                  tally_spool_entry **entries, size_t *n,
                                  char *err, size_t errlen);

/* Every entry, oldest first. Returns 0 with *entries (free them with
 * tally_spool_list_free) and *n, or -errno with a message in err. An
 * entry that does not decode is reported in err and skipped. First
 * removes the temporary files of writers that were killed (unlocked,
 * untouched for a minute): every command that opens the spool lists it. */
int tally_spool_list(const char *dir, tally_spool_entry **entries, size_t *n,
                     char *err, size_t errlen);

void tally_spool_list_free(tally_spool_entry *entries, size_t n);

#endif
