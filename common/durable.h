/* durable.h: making a directory's entries survive a crash. */
#ifndef TALLY_DURABLE_H
#define TALLY_DURABLE_H

/* fsyncs the directory dir, so that files made, renamed or removed in
 * it stay so after a crash. Returns 0 or -errno. */
int tally_sync_dir(const char *dir);

#endif
