/* cmd_forward.c: tally forward, a district's towns' approved figures
 * sent on to the city (逐级上报).
 *
 * The happy path: the district's own server (the one configured) names
 * its towns in its catalog; each town's figures of the period as last
 * approved are read from it (ValuesRequest.as_approved) on one
 * connection; each becomes one report with `replace` set and an id made
 * of the district (its catalog's root), the town, the period, the
 * revision approved and the figures, so that forwarding the same again
 * stores nothing twice and a correction, approved, replaces what the
 * city holds; the reports go to the city in import requests, signed in
 * with the district's reporter token at the city, over TLS with the
 * city's CA.
 * The failure modes: a town never approved is not forwarded, and is
 * listed; the city refuses one report (its message told, the others go
 * on) or the whole import (a token of another district: nothing
 * stored); a server cannot be reached or stops answering (exit 3):
 * running it again is safe, the ids being the same. No spool: the
 * district's server is the spool.
 */
#include "catalog_cache.h"
#include "cli.h"
#include "i18n.h"
#include "period.h"
#include "wire.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char tally_usage_forward[] =
    N_("usage: tally forward --period PERIOD --to HOST:PORT [--ca FILE]\n"
    "                     [--token-file FILE] [--city-insecure-plaintext]\n"
    "                     [--dry-run]\n"
    "\n"
    "Sends the district's towns' figures of a period, as the central office\n"
    "approved them (审核通过), on to the city's server (逐级上报), as one\n"
    "import there. The figures are read from the district's own server (the\n"
    "one configured: --server before 'forward', $TALLY_SERVER or the config\n"
    "file, with its token and CA), by an analyst or admin of the district.\n"
    "At the city they are signed in with the district's reporter token there\n"
    "(an account of the district's unit in the city's catalog, which may\n"
    "import its towns' figures and nothing of another district's).\n"
    "\n"
    "Each town's report goes with the explanations (上报说明) it was approved\n"
    "with, whatever changed since, and is one submission at the city, with\n"
    "an id made of the district, the town, the period and the revision\n"
    "approved with its figures and explanations: forwarding the same again\n"
    "stores nothing twice; a correction (reopened, corrected, approved\n"
    "again) forwarded again replaces what the city holds, figures left out\n"
    "removed. Towns whose report was never approved are not forwarded\n"
    "(未审核通过，未转报) and are listed; the figures the district office\n"
    "reports itself are not forwarded (at the city the district is not a\n"
    "reporting unit). The city checks each report as a submission (its\n"
    "rules, locked periods, a report it approved).\n"
    "\n"
    "options:\n"
    "  -p, --period PERIOD  2022, 2022Q3 or 2022-07\n"
    "      --to HOST:PORT   the city's tallyd\n"
    "      --ca FILE        the city's CA (TLS); default $TALLY_FORWARD_CA;\n"
    "                       none = plaintext (the loopback only, unless\n"
    "                       --city-insecure-plaintext)\n"
    "      --city-insecure-plaintext  send the city's token without TLS to a\n"
    "                       city off this machine (only on a network\n"
    "                       protected otherwise)\n"
    "      --server-name NAME  the name on the city's certificate (default:\n"
    "                       the host of --to)\n"
    "      --token-file FILE  the district's reporter token at the city ('-':\n"
    "                       standard input); default $TALLY_FORWARD_TOKEN\n"
    "      --dry-run        the city checks everything and stores nothing\n"
    "  -s, --server, --timeout  as for every command (tally --help); after\n"
    "                       'forward', --ca, --token-file and --server-name\n"
    "                       are the city's. Nothing else of the district's\n"
    "                       connection goes to the city: --insecure-plaintext\n"
    "                       is the district's only\n"
    "\n"
    "exit status: 0 every approved report forwarded (or checked); 1 the city\n"
    "or the district refused something; 2 bad command line; 3 a server could\n"
    "not be reached (run it again: nothing is stored twice).\n");

/* The city's import holds at most 4,096 reports; frames stay well under
 * its 1 MiB limit. */
#define FORWARD_CHUNK_REPORTS 1024
#define FORWARD_CHUNK_BYTES (768u << 10)

/* One town's report: its approved figures as read, and its submission. */
typedef struct {
  Tally__Envelope *read;     /* the district's ValuesReply */
  Tally__SubmitRequest req;  /* points into read */
  Tally__Value *values, **ptrs;
  Tally__Explanation *expl, **eptrs;
  char id[48];
} report;

/* The report's id: the district, the town, the period, the revision
 * approved, the figures and their explanations, hashed. */
static void report_id(report *r, const char *district,
                      const Tally__ValuesReply *v) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned char md[32];
  unsigned len = 0;
  char line[400];
  EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  int n = snprintf(line, sizeof line, "tally-forward/1\n%s\n%s\n%s\n%llu\n",
                   district, v->unit, v->period,
                   (unsigned long long)v->approved_revision);
  EVP_DigestUpdate(ctx, line, (size_t)n);
  for (size_t i = 0; i < r->req.n_values; i++) {
    n = snprintf(line, sizeof line, "%s=%.17g\n", r->values[i].element,
                 r->values[i].value);
    EVP_DigestUpdate(ctx, line, (size_t)n);
  }
  for (size_t i = 0; i < r->req.n_explanations; i++) {
    EVP_DigestUpdate(ctx, r->expl[i].rule, strlen(r->expl[i].rule));
    EVP_DigestUpdate(ctx, "\n", 1);
    EVP_DigestUpdate(ctx, r->expl[i].text, strlen(r->expl[i].text) + 1);
  }
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  strcpy(r->id, "fwd-");
  for (int i = 0; i < 20; i++)
    sprintf(r->id + 4 + 2 * i, "%02x", md[i]);
}

/* Makes r's submission from its approved figures. Returns 0 or -1 (no
 * memory). */
static int make_report(report *r, const char *district) {
  const Tally__ValuesReply *v = r->read->values_reply;
  tally__submit_request__init(&r->req);
  r->values = calloc(v->n_values + 1, sizeof *r->values);
  r->ptrs = calloc(v->n_values + 1, sizeof *r->ptrs);
  r->expl = calloc(v->n_explanations + 1, sizeof *r->expl);
  r->eptrs = calloc(v->n_explanations + 1, sizeof *r->eptrs);
  if (!r->values || !r->ptrs || !r->expl || !r->eptrs)
    return -1;
  r->req.unit = v->unit;
  r->req.period = v->period;
  for (size_t i = 0; i < v->n_values; i++) {
    tally__value__init(&r->values[i]);
    r->values[i].element = v->values[i]->element;
    r->values[i].value = v->values[i]->value;
    r->ptrs[i] = &r->values[i];
  }
  r->req.values = r->ptrs;
  r->req.n_values = v->n_values;
  /* The office's explanations of warnings its figures break, as they
   * were approved with them: the city checks the same rules. */
  for (size_t i = 0; i < v->n_explanations; i++) {
    tally__explanation__init(&r->expl[i]);
    r->expl[i].rule = v->explanations[i]->rule;
    r->expl[i].text = v->explanations[i]->text;
    r->eptrs[i] = &r->expl[i];
  }
  r->req.explanations = r->eptrs;
  r->req.n_explanations = v->n_explanations;
  r->req.replace = 1; /* the whole report: what it leaves out is removed */
  report_id(r, district, v);
  r->req.submission_id = r->id;
  return 0;
}

static void reports_free(report *rs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(rs[i].values);
    free(rs[i].ptrs);
    free(rs[i].expl);
    free(rs[i].eptrs);
    tally_wire_free(rs[i].read);
  }
  free(rs);
}

/* What came of the forwarding, for its last line. */
typedef struct {
  size_t stored, duplicate, refused, unanswered;
} counts;

/* The district's towns' approved figures of period: those approved
 * into *out (*n), the names of the rest told. Returns 0 or the exit
 * status. */
static int read_district(const tally_cli *c, const tally_catalog *cat,
                         const char *period, report **out, size_t *n,
                         size_t *not_approved) {
  tally_client *conn;
  int rc;
  *n = *not_approved = 0;
  if ((*out = calloc(cat->n_units + 1, sizeof **out)) == NULL)
    return EXIT_REFUSED;
  if ((rc = tally_cli_connect(c, &conn)) != 0)
    return rc;
  char missing[4096] = "";
  size_t at = 0;
  for (size_t i = 0; i < cat->n_units; i++) {
    const tally_unit *u = &cat->units[i];
    if (!u->is_leaf && (int)i != cat->root)
      continue;
    Tally__ValuesRequest q = TALLY__VALUES_REQUEST__INIT;
    Tally__Envelope env = TALLY__ENVELOPE__INIT, *reply = NULL;
    q.unit = u->code;
    q.period = (char *)period;
    q.as_approved = !((int)i == cat->root && !u->is_leaf);
    env.body_case = TALLY__ENVELOPE__BODY_VALUES;
    env.values = &q;
    if ((rc = tally_cli_call_on(c, conn, &env,
                                TALLY__ENVELOPE__BODY_VALUES_REPLY, &reply))) {
      tally_wire_free(reply);
      tally_client_close(conn);
      return rc;
    }
    const Tally__ValuesReply *v = reply->values_reply;
    if (!q.as_approved) {
      /* The district office's own figures: no unit holds them above. */
      if (v->n_values)
        printf("%s %s: the district office's own figures (%zu) are not "
               "forwarded: at the city the district is not a reporting "
               "unit\n  区本级数据不转报：在市级，区不是填报单位\n",
               u->code, period, v->n_values);
      tally_wire_free(reply);
      continue;
    }
    if (!v->as_approved) {
      fprintf(stderr, "tally forward: the district's server does not read "
              "figures as approved (a tallyd from before tally forward)\n");
      tally_wire_free(reply);
      tally_client_close(conn);
      return EXIT_REFUSED;
    }
    if (v->approved_revision == 0) {
      at += (size_t)snprintf(missing + at,
                             at < sizeof missing ? sizeof missing - at : 0,
                             "%s%s", *not_approved ? ", " : "", u->code);
      if (at >= sizeof missing)
        at = sizeof missing;
      (*not_approved)++;
      tally_wire_free(reply);
      continue;
    }
    (*out)[(*n)++].read = reply;
  }
  tally_client_close(conn);
  if (*not_approved)
    printf("%s: %zu town%s not forwarded, never approved (未审核通过，未转报): "
           "%s\n", period, *not_approved, *not_approved == 1 ? "" : "s",
           missing);
  return 0;
}

/* How one report fared at the city, in a line. */
static void tell(const report *r, const Tally__ImportResult *res, int dry_run,
                 counts *k) {
  const Tally__ValuesReply *v = r->read->values_reply;
  char when[40];
  tally_cli_time(when, sizeof when, v->approved_unix);
  printf("%s %s: revision %llu approved %s", v->unit, v->period,
         (unsigned long long)v->approved_revision, when);
  if (v->review && v->review->state != TALLY__REVIEW_STATE__REVIEW_APPROVED)
    printf(" (reopened since: its last approved figures are sent)");
  if (!v->explanations_as_approved)
    printf(" (its explanations as approved were not kept: the live ones are "
           "sent 审核时的说明未保存，转报现行说明)");
  if (res->stored && res->stored->duplicate) {
    printf(": at the city already, nothing stored (已转报)\n");
    k->duplicate++;
  } else if (res->stored) {
    printf(": %s (%s), %u figures, %u replaced, %u removed\n",
           dry_run ? "would be stored" : "forwarded",
           dry_run ? "可转报" : "已转报", res->stored->accepted,
           res->stored->replaced, res->stored->removed);
    k->stored++;
  } else {
    printf(": refused by the city (市级拒收): %s\n",
           res->error ? res->error->message : "no reason given");
    for (size_t i = 0; res->error && i < res->error->n_details; i++)
      printf("  %s\n", res->error->details[i]->text);
    k->refused++;
  }
}

/* Sends the reports to the city in import requests on one connection.
 * Returns the exit status, with what came of it in *k. */
static int send_city(const tally_cli *city, report *rs, size_t n, int dry_run,
                     const char *source, counts *k) {
  tally_client *conn = NULL;
  int status = EXIT_OK, rc;
  size_t at = 0;
  if ((rc = tally_cli_connect(city, &conn)) != 0) {
    k->unanswered = n;
    return rc;
  }
  Tally__SubmitRequest **chunk = calloc(FORWARD_CHUNK_REPORTS, sizeof *chunk);
  if (chunk == NULL) {
    tally_client_close(conn);
    return EXIT_REFUSED;
  }
  while (at < n) {
    size_t m = 0, bytes = 0;
    while (at + m < n && m < FORWARD_CHUNK_REPORTS) {
      size_t b = tally__submit_request__get_packed_size(&rs[at + m].req);
      if (m > 0 && bytes + b + 8 > FORWARD_CHUNK_BYTES)
        break;
      bytes += b + 8;
      chunk[m] = &rs[at + m].req;
      m++;
    }
    Tally__ImportRequest q = TALLY__IMPORT_REQUEST__INIT;
    Tally__Envelope env = TALLY__ENVELOPE__INIT, *reply = NULL;
    q.reports = chunk;
    q.n_reports = m;
    q.dry_run = dry_run;
    q.source = (char *)source;
    env.body_case = TALLY__ENVELOPE__BODY_IMPORT_REQUEST;
    env.import_request = &q;
    if ((rc = tally_cli_call_on(city, conn, &env,
                                TALLY__ENVELOPE__BODY_IMPORT_REPLY, &reply)) ||
        reply->import_reply->n_results != m) {
      if (rc == 0)
        fputs("tally: the city answered with another number of results: "
              "stopped (running it again is safe)\n", stderr);
      tally_wire_free(reply);
      k->unanswered = n - at;
      status = rc ? rc : EXIT_UNREACHABLE;
      break;
    }
    for (size_t i = 0; i < m; i++) {
      tell(&rs[at + i], reply->import_reply->results[i], dry_run, k);
      if (!reply->import_reply->results[i]->stored)
        status = EXIT_REFUSED;
    }
    tally_wire_free(reply);
    at += m;
  }
  free(chunk);
  tally_client_close(conn);
  return status;
}

int tally_cmd_forward(int argc, char **argv, tally_cli *c) {
  const char *period = NULL, *to = NULL, *ca = NULL, *token_file = NULL,
             *server_name = NULL;
  int dry_run = 0, city_insecure = 0, rc;
  const tally_cli_opt own[] = {{"period", 'p', &period, NULL, NULL},
                               {"to", 0, &to, NULL, NULL},
                               {"ca", 0, &ca, NULL, NULL},
                               {"token-file", 0, &token_file, NULL, NULL},
                               {"server-name", 0, &server_name, NULL, NULL},
                               {"dry-run", 0, NULL, &dry_run, NULL},
                               {"city-insecure-plaintext", 0, NULL,
                                &city_insecure, NULL},
                               {NULL, 0, NULL, NULL, NULL}};
  if ((rc = tally_cli_parse(argc, argv, c, "forward", tally_usage_forward, own,
                            0)))
    return rc < 0 ? EXIT_OK : rc;
  if ((rc = tally_cli_no_operands(argc, argv, "forward")) != 0 ||
      (rc = tally_cli_need_period(period, "forward")) != 0 ||
      (rc = tally_cli_need(to, "--to", "forward")) != 0)
    return rc;

  /* The city is another server: its connection takes nothing of the
   * district's but the timeout, its token read into a buffer of its own,
   * wiped on every way out. */
  tally_cli city = {.server = to, .timeout_s = c->timeout_s,
                    .server_name = server_name,
                    .insecure_plaintext = city_insecure,
                    .plaintext_hint = _("give the city's CA with --ca FILE "
                                        "after 'forward' (or "
                                        "$TALLY_FORWARD_CA), or "
                                        "--city-insecure-plaintext if the "
                                        "network is otherwise protected")};
  char city_token[256] = "";
  const char *env = getenv("TALLY_FORWARD_TOKEN");
  if (token_file) {
    if (tally_cli_read_token_into(token_file, city_token, sizeof city_token)) {
      explicit_bzero(city_token, sizeof city_token);
      return EXIT_USAGE;
    }
  } else if (env && *env && strlen(env) < sizeof city_token) {
    memcpy(city_token, env, strlen(env) + 1);
  } else {
    fputs("tally forward: the district's reporter token at the city is "
          "needed: --token-file FILE, or $TALLY_FORWARD_TOKEN (a line of "
          "at most 255 bytes)\nTry 'tally help forward'.\n", stderr);
    return EXIT_USAGE;
  }
  city.token = city_token;
  city.ca = ca ? (*ca ? ca : NULL) : getenv("TALLY_FORWARD_CA");
  if (city.ca && *city.ca == 0)
    city.ca = NULL;

  tally_catalog *cat = NULL;
  report *rs = NULL;
  size_t n = 0, not_approved = 0;
  counts k = {0, 0, 0, 0};
  if ((rc = tally_catalog_cache_fetch(c, 0, &cat)) != 0)
    goto out;
  const char *district = cat->units[cat->root].code;
  if ((rc = read_district(c, cat, period, &rs, &n, &not_approved)) != 0)
    goto out;
  for (size_t i = 0; i < n; i++)
    if (make_report(&rs[i], district) != 0) {
      fputs("tally: out of memory\n", stderr);
      rc = EXIT_REFUSED;
      goto out;
    }
  char source[200];
  snprintf(source, sizeof source, "forwarded by tally forward from %s (%.80s)",
           district, c->server ? c->server : "");
  if (n)
    rc = send_city(&city, rs, n, dry_run, source, &k);
  printf("%s %s to %s: %zu approved report%s, %zu %s, %zu at the city "
         "already, %zu refused%s; %zu not forwarded (never approved)\n",
         district, period, to, n, n == 1 ? "" : "s", k.stored,
         dry_run ? "would be stored (a dry run: nothing stored)" : "stored",
         k.duplicate, k.refused, k.unanswered ? ", the rest unanswered" : "",
         not_approved);
  printf("  %s %s 转报 %s：已审核 %zu 个，%s %zu 个，已在市级 %zu 个，拒收 %zu "
         "个；未审核通过、未转报 %zu 个\n",
         district, period, to, n, dry_run ? "可存入（试运行，未存入）" : "存入",
         k.stored, k.duplicate, k.refused, not_approved);
out:
  reports_free(rs, n);
  tally_catalog_free(cat);
  explicit_bzero(city_token, sizeof city_token);
  return rc;
}
