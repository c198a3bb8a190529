/* cmd_admin.c: backup. */
#include "cli.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>

const char tally_usage_backup[] =
    "usage: tally backup PATH\n"
    "\n"
    "Makes a consistent, compacted copy of the live store into PATH, a new\n"
    "directory on the server's machine (an absolute path that does not exist\n"
    "yet). The server goes on serving meanwhile.\n"
    "\n"
    "To restore: stop tallyd, move its data directory away, put the backup's\n"
    "data.mdb into an empty data directory, and start tallyd on it.\n"
    "\n"
    "options:\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n";

int tally_cmd_backup(int argc, char **argv, tally_cli *c) {
  int rc = tally_cli_parse(argc, argv, c, "backup", tally_usage_backup, NULL, 0);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if (optind + 1 != argc) {
    fputs("tally backup: give one PATH\nTry 'tally help backup'.\n", stderr);
    return EXIT_USAGE;
  }
  Tally__BackupRequest q = TALLY__BACKUP_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  q.path = argv[optind];
  req.body_case = TALLY__ENVELOPE__BODY_BACKUP;
  req.backup = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_BACKUP_REPLY,
                           &reply)) == 0)
    printf("backup written to %s (%llu bytes)\n", reply->backup_reply->path,
           (unsigned long long)reply->backup_reply->bytes);
  tally_wire_free(reply);
  return rc;
}
