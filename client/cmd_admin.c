/* cmd_admin.c: backup, admin verify and admin status. */
#include "cli.h"
#include "i18n.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const char tally_usage_backup[] =
    N_("usage: tally backup NAME\n"
    "\n"
    "Makes a consistent, compacted copy of the live store (admins only) as\n"
    "the new file NAME in the server's backup folder, the directory tallyd\n"
    "was started with (tallyd --backup-dir DIR); a server started without\n"
    "one makes no backups. NAME is a plain file name (no '/', not starting\n"
    "with '.') that is not there yet. The server goes on serving meanwhile.\n"
    "The copy holds the accounts' token hashes: keep it as safe as the store.\n"
    "\n"
    "On the server's host, 'tallyd backup' makes the same copy without a\n"
    "token (the package's nightly timer does). To restore: stop tallyd,\n"
    "move its data directory away and run 'tallyd restore BACKUP --data\n"
    "DIR', which checks the copy; then each office sends again what was\n"
    "acknowledged since: 'tally sync --resend-since DATE'.\n"
    "\n"
    "options:\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n");

int tally_cmd_backup(int argc, char **argv, tally_cli *c) {
  int rc = tally_cli_parse(argc, argv, c, "backup", tally_usage_backup, NULL, 0);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if (optind + 1 != argc) {
    fputs(_("tally backup: give one NAME\nTry 'tally help backup'.\n"), stderr);
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
    N_("usage: tally admin verify\n"
    "       tally admin status\n"
    "       tally admin unblock ADDRESS\n"
    "\n"
    "'status' shows how the server is doing: its version and how long it has\n"
    "run, the store's size on the disk and how much of its map it uses,\n"
    "the connections open, the submissions acknowledged today, the newest\n"
    "backup in the server's backup folder and when the TLS certificate\n"
    "ends, and the addresses locked out for failed sign-ins. Admins only.\n"
    "\n"
    "'unblock' lifts the lockout of an address (as status lists it: an IPv4\n"
    "address or an IPv6 /64) at once: ten refused tokens from one address\n"
    "in five minutes lock out every account there, an admin's too, so run\n"
    "it from another address, or on the server's host (127.0.0.1).\n"
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
    "  -s, --server, --timeout  as for every command (tally --help)\n");

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
      fprintf(stderr, _("tally admin verify: %s\n"), v->first);
      rc = EXIT_REFUSED;
    }
  }
  tally_wire_free(reply);
  return rc;
}

/* "3 d 4 h", "2 h 5 min", "40 s". */
static void span(char *buf, size_t n, int64_t s) {
  if (s < 0)
    s = 0;
  if (s >= 86400)
    snprintf(buf, n, "%lld d %lld h", (long long)(s / 86400),
             (long long)(s % 86400 / 3600));
  else if (s >= 3600)
    snprintf(buf, n, "%lld h %lld min", (long long)(s / 3600),
             (long long)(s % 3600 / 60));
  else if (s >= 60)
    snprintf(buf, n, "%lld min", (long long)(s / 60));
  else
    snprintf(buf, n, "%lld s", (long long)s);
}

static double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

static int admin_status(tally_cli *c) {
  Tally__AdminStatusRequest q = TALLY__ADMIN_STATUS_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  char when[64], ago[32];
  req.body_case = TALLY__ENVELOPE__BODY_ADMIN_STATUS;
  req.admin_status = &q;
  int rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_ADMIN_STATUS_REPLY,
                          &reply);
  if (rc != 0)
    return rc;
  const Tally__AdminStatusReply *s = reply->admin_status_reply;
  tally_cli_time(when, sizeof when, s->started_unix);
  span(ago, sizeof ago, s->now_unix - s->started_unix);
  printf("server:       tallyd %s, up %s (since %s)\n", s->version, ago, when);
  printf("store:        %.1f MiB on the disk; %.1f MiB of its %.0f MiB map in "
         "use (%.1f %%)", mib(s->store_bytes), mib(s->map_used_bytes),
         mib(s->map_bytes),
         s->map_bytes ? 100.0 * (double)s->map_used_bytes / (double)s->map_bytes
                      : 0.0);
  if (s->max_map_bytes)
    printf(", growing up to %.0f MiB\n", mib(s->max_map_bytes));
  else
    printf(", growing as needed\n");
  if (*s->listening) /* "" from a tallyd before it told them */
    printf("listening:    %s\n", s->listening);
  if (*s->listening)
    printf("web pages:    %s\n", *s->web_origins ? s->web_origins : "none");
  printf("connections:  %u open\n", s->connections);
  printf("submissions:  %llu today\n", (unsigned long long)s->submissions_today);
  if (*s->backup_dir == 0) {
    printf("last backup:  none: the server has no backup folder (backup-dir)\n");
  } else if (s->last_backup_unix == 0) {
    printf("last backup:  none in %s\n", s->backup_dir);
  } else {
    tally_cli_time(when, sizeof when, s->last_backup_unix);
    span(ago, sizeof ago, s->now_unix - s->last_backup_unix);
    printf("last backup:  %s, %s (%s ago)\n", s->last_backup, when, ago);
  }
  if (s->cert_not_after_unix == 0) {
    printf("certificate:  none (plaintext)\n");
  } else {
    int64_t left = s->cert_not_after_unix - s->now_unix;
    tally_cli_time(when, sizeof when, s->cert_not_after_unix);
    if (left <= 0) {
      printf("certificate:  EXPIRED on %s\n", when);
    } else {
      span(ago, sizeof ago, left);
      printf("certificate:  ends %s (in %s)%s\n", when, ago,
             left <= 30 * 86400 ? ": renew it soon" : "");
    }
  }
  for (size_t i = 0; i < s->n_lockouts; i++) {
    const Tally__Lockout *l = s->lockouts[i];
    tally_cli_time(when, sizeof when, l->until_unix);
    printf("%s%s, %u failed sign-ins, until %s (tally admin unblock %s)\n",
           i ? "              " : "locked out:   ", l->address, l->failures,
           when, l->address);
  }
  tally_wire_free(reply);
  return 0;
}

static int admin_unblock(tally_cli *c, const char *address) {
  Tally__GuardClearRequest q = TALLY__GUARD_CLEAR_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  q.address = (char *)address;
  req.body_case = TALLY__ENVELOPE__BODY_GUARD_CLEAR;
  req.guard_clear = &q;
  int rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_GUARD_CLEAR_REPLY,
                          &reply);
  if (rc == 0) {
    const Tally__GuardClearReply *g = reply->guard_clear_reply;
    if (g->failures)
      printf("%s may sign in again (%u failed sign-ins forgotten)\n",
             g->address, g->failures);
    else
      printf("%s was not locked out (no failed sign-ins counted)\n",
             g->address);
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
  if (optind + 1 == argc && strcmp(argv[optind], "status") == 0)
    return admin_status(c);
  if (optind + 2 == argc && strcmp(argv[optind], "unblock") == 0)
    return admin_unblock(c, argv[optind + 1]);
  fputs(_("tally admin: give a subcommand: verify, status or unblock ADDRESS\n"
        "Try 'tally help admin'.\n"), stderr);
  return EXIT_USAGE;
}
