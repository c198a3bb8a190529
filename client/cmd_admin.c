/* cmd_admin.c: backup and admin verify. */
#include "cli.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>

const char tally_usage_backup[] =
    "usage: tally backup NAME\n"
    "\n"
    "Makes a consistent, compacted copy of the live store (admins only) as\n"
    "the new file NAME in the server's backup folder, the directory tallyd\n"
    "was started with (tallyd --backup-dir DIR); a server started without\n"
    "one makes no backups. NAME is a plain file name (no '/', not starting\n"
    "with '.') that is not there yet. The server goes on serving meanwhile.\n"
    "The copy holds the accounts' token hashes: keep it as safe as the store.\n"
    "\n"
    "To restore: stop tallyd, move its data directory away, make a new one,\n"
    "copy the backup into it as data.mdb, and start tallyd on it.\n"
    "\n"
    "options:\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n";

int tally_cmd_backup(int argc, char **argv, tally_cli *c) {
  int rc = tally_cli_parse(argc, argv, c, "backup", tally_usage_backup, NULL, 0);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if (optind + 1 != argc) {
    fputs("tally backup: give one NAME\nTry 'tally help backup'.\n", stderr);
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

const char tally_usage_admin[] =
    "usage: tally admin verify\n"
    "\n"
    "Reports read sums that tallyd keeps for the district and every unit\n"
    "with units below it, updated with every submission. 'verify' makes\n"
    "them all afresh from the figures, in one snapshot of the store, and\n"
    "compares: it prints how many records it compared and any that differ\n"
    "(there should be none; tallyd also makes them afresh when it starts\n"
    "with another catalog). The server goes on serving meanwhile. Admins\n"
    "only. It reads every figure: about 17 s for 400,000 units with two\n"
    "years each (docs/PERFORMANCE.md); raise --timeout (30 s) to match.\n"
    "\n"
    "exit status: 0 every record matches; 1 some do not, or refused.\n"
    "\n"
    "options:\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n";

static int admin_verify(tally_cli *c) {
  Tally__VerifyRequest q = TALLY__VERIFY_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  req.body_case = TALLY__ENVELOPE__BODY_VERIFY;
  req.verify = &q;
  int rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_VERIFY_REPLY, &reply);
  if (rc == 0) {
    const Tally__VerifyReply *v = reply->verify_reply;
    printf("%llu unit reports read, %llu sums records compared: ",
           (unsigned long long)v->reports, (unsigned long long)v->records);
    if (v->mismatches == 0) {
      printf("all match\n");
    } else {
      printf("%llu do not match\n", (unsigned long long)v->mismatches);
      fprintf(stderr, "tally admin verify: %s\n", v->first);
      rc = EXIT_REFUSED;
    }
  }
  tally_wire_free(reply);
  return rc;
}

int tally_cmd_admin(int argc, char **argv, tally_cli *c) {
  int rc = tally_cli_parse(argc, argv, c, "admin", tally_usage_admin, NULL, 0);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if (optind + 1 == argc && strcmp(argv[optind], "verify") == 0)
    return admin_verify(c);
  fputs("tally admin: give a subcommand: verify\nTry 'tally help admin'.\n",
        stderr);
  return EXIT_USAGE;
}
