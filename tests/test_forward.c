/* test_forward.c: a city of districts (issue #17) through the real tally
 * and tallyd. Two district servers (north and south, each with five of
 * Changqing's towns) and a city server over TLS (jinan: north and south
 * below it, their towns under each); figures submitted and approved at
 * each district, forwarded to the city (tally forward) or handed on as
 * ADX (tally export, tally import), give the city the report, value for
 * value, of one server that holds every town directly. A district's
 * correction forwarded again replaces what the city holds, once. */
#include "fixture.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NORTH "wenchang,pingan,guyunhu,wufengshan,xiaoli"
#define SOUTH "guide,wande,zhangxia,mashan,shuangquan"

static const char *const north_towns[] = {"wenchang", "pingan", "guyunhu",
                                          "wufengshan", "xiaoli", NULL};
static const char *const south_towns[] = {"guide", "wande", "zhangxia",
                                          "mashan", "shuangquan", NULL};
static const char *const years[] = {"2021", "2022", NULL};

static tally_test_server north, south, city, direct;
static char dir[256];   /* catalogs, figures, the city's CA, the spool */
static char city_ca[300];

static void expect_in(const char *text, const char *want) {
  cr_expect(text && strstr(text, want), "'%s' is not in:\n%s", want, text);
}

/* Runs tally against s signed in with token; the exit status must be
 * want. Returns its standard output (standard error after it). */
static char *run_want(tally_test_server *s, const char *token, int want,
                      const char *const *args) {
  char *out = NULL, *err = NULL;
  setenv("TALLY_SERVER", s->address, 1);
  setenv("TALLY_TOKEN", token, 1);
  if (s->ca)
    setenv("TALLY_CA", s->ca, 1);
  else
    unsetenv("TALLY_CA");
  int rc = tally_test_run(args, NULL, &out, &err);
  cr_assert_eq(rc, want, "tally %s %s: exit %d, not %d:\n%s%s", args[0],
               args[1] ? args[1] : "", rc, want, out, err);
  size_t n = strlen(out) + strlen(err) + 1;
  char *both = malloc(n);
  snprintf(both, n, "%s%s", out, err);
  free(out);
  free(err);
  return both;
}
#define RUN_AS(s, token, ...)                                                  \
  run_want(s, token, 0, (const char *const[]){__VA_ARGS__, NULL})
#define ANALYST(s) tally_test_token(s, "analyst", NULL)

/* The bundled samples of towns for years, as one long-form file. */
static void samples_long(const char *path, const char *const *towns) {
  FILE *out = fopen(path, "w");
  cr_assert(out);
  fprintf(out, "unit,period,element,value\n");
  for (const char *const *y = years; *y; y++)
    for (const char *const *t = towns; *t; t++) {
      char file[600], line[512];
      snprintf(file, sizeof file, "%s/deploy/sample/%s/%s.csv",
               TALLY_SOURCE_DIR, *y, *t);
      FILE *in = fopen(file, "r");
      cr_assert(in, "%s", file);
      while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\r\n")] = 0;
        char *comma = strchr(line, ',');
        if (!comma || line[0] == '#' || comma[1] == 0 ||
            strncmp(line, "data_element,", 13) == 0)
          continue;
        fprintf(out, "%s,%s,%s\n", *t, *y, line);
      }
      fclose(in);
    }
  fclose(out);
}

/* Starts a server on a catalog of this tree. */
static void start_on(tally_test_server *s, const char *name, const char *root,
                     const char *const *groups, const char *const *tls) {
  char catalog[400];
  snprintf(catalog, sizeof catalog, "%s/%s.json", dir, name);
  tally_test_catalog_tree(catalog, root, groups);
  const char *args[8] = {"--catalog", catalog, NULL};
  for (int i = 0; tls && tls[i]; i++)
    args[2 + i] = tls[i];
  tally_test_server_start(s, args);
}

/* A district: its towns' figures imported by its analyst (each report a
 * submission), and approved, but for the units in held (NULL-ended)
 * of 2022. */
static void load_district(tally_test_server *s, const char *name,
                          const char *const *towns, const char *const *held) {
  char path[400];
  snprintf(path, sizeof path, "%s/%s.csv", dir, name);
  samples_long(path, towns);
  free(RUN_AS(s, ANALYST(s), "import", path));
  for (const char *const *y = years; *y; y++)
    for (const char *const *t = towns; *t; t++) {
      int hold = 0;
      for (const char *const *h = held; h && *h; h++)
        hold |= strcmp(*y, "2022") == 0 && strcmp(*h, *t) == 0;
      if (!hold)
        free(RUN_AS(s, ANALYST(s), "review", "approve", "--unit", *t,
                    "--period", *y, "--revision", "1"));
    }
}

static void setup(void) {
  char sub[300], cert[400], key[400];
  tally_test_tmpdir(dir, sizeof dir);
  snprintf(sub, sizeof sub, "%s/ca", dir);
  char *out = NULL, *err = NULL;
  int rc = tally_test_exec(TALLY_SOURCE_DIR "/deploy/make-ca.sh",
                           (const char *const[]){sub, NULL}, NULL, &out, &err);
  cr_assert_eq(rc, 0, "make-ca.sh: %s%s", out, err);
  free(out);
  free(err);
  snprintf(city_ca, sizeof city_ca, "%.280s/ca.crt", sub);
  snprintf(cert, sizeof cert, "%s/server.crt", sub);
  snprintf(key, sizeof key, "%s/server.key", sub);

  start_on(&north, "north", "north", (const char *const[]){"=" NORTH, NULL},
           NULL);
  start_on(&south, "south", "south", (const char *const[]){"=" SOUTH, NULL},
           NULL);
  const char *const tree[] = {"north=" NORTH, "south=" SOUTH, NULL};
  start_on(&city, "city", "jinan", tree,
           (const char *const[]){"--tls-cert", cert, "--tls-key", key, NULL});
  city.ca = city_ca;
  start_on(&direct, "direct", "jinan", tree, NULL);
  char spool[400];
  snprintf(spool, sizeof spool, "%s/spool", dir);
  setenv("TALLY_SPOOL", spool, 1);
  unsetenv("COLUMNS");

  /* The one server that holds every town directly. */
  char path[400];
  snprintf(path, sizeof path, "%s/all.csv", dir);
  samples_long(path, (const char *const[]){"wenchang", "pingan", "guyunhu",
                                           "wufengshan", "xiaoli", "guide",
                                           "wande", "zhangxia", "mashan",
                                           "shuangquan", NULL});
  free(RUN_AS(&direct, ANALYST(&direct), "import", path));
}

static void teardown(void) {
  tally_test_server_stop(&north);
  tally_test_server_stop(&south);
  tally_test_server_stop(&city);
  tally_test_server_stop(&direct);
  tally_test_rmtree(dir);
}

TestSuite(forward, .init = setup, .fini = teardown, .timeout = 240);

/* A file holding the token of a district's reporter at the city. */
static const char *city_token_file(const char *district) {
  static char path[400];
  snprintf(path, sizeof path, "%s/%s-at-city.token", dir, district);
  char text[200];
  snprintf(text, sizeof text, "%s\n",
           tally_test_token(&city, "reporter", district));
  tally_test_write_file(path, text);
  return path;
}

/* tally forward at a district (by its analyst): its output. */
static char *forward(tally_test_server *district, const char *name,
                     const char *period) {
  return RUN_AS(district, ANALYST(district), "forward", "--period", period,
                "--to", city.address, "--ca", city_ca, "--token-file",
                city_token_file(name));
}

/* The report of the whole tree (jinan) for period, as JSON text. */
static char *report_of(tally_test_server *s, const char *period) {
  return RUN_AS(s, ANALYST(s), "report", "--period", period, "--format",
                "json");
}

/* The city's report of each year equals the direct server's. */
static void expect_same_reports(const char *when) {
  for (const char *const *y = years; *y; y++) {
    char *want = report_of(&direct, *y), *got = report_of(&city, *y);
    cr_expect(strlen(want) > 5000, "a report of every indicator: %s", want);
    cr_expect_str_eq(got, want, "%s: the city's %s report differs from the "
                     "direct server's", when, *y);
    free(want);
    free(got);
  }
}

/* A unit's values at s, as JSON. */
static json_t *values_of(tally_test_server *s, const char *unit,
                         const char *period) {
  char *text = RUN_AS(s, ANALYST(s), "values", "--unit", unit, "--period",
                      period, "--format", "json");
  json_error_t je;
  json_t *v = json_loads(text, JSON_DISABLE_EOF_CHECK, &je);
  cr_assert_not_null(v, "%s: %s", je.text, text);
  free(text);
  return v;
}

/* The number of entries in a unit's history at s. */
static size_t history_length(tally_test_server *s, const char *unit,
                             const char *period) {
  char *text = RUN_AS(s, ANALYST(s), "history", "--unit", unit, "--period",
                      period, "--format", "json");
  json_error_t je;
  json_t *h = json_loads(text, JSON_DISABLE_EOF_CHECK, &je);
  cr_assert_not_null(h, "%s: %s", je.text, text);
  json_t *changes = json_is_array(h) ? h : json_object_get(h, "history");
  cr_assert(json_is_array(changes), "%s", text);
  size_t n = json_array_size(changes);
  json_decref(h);
  free(text);
  return n;
}

/* A file in dir. */
static const char *dir_file(const char *name) {
  static char path[400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

/* Wenchang's 2022 corrected at north, not approved yet: reopened and
 * submitted again as its whole report (dir/wenchang-corrected.csv) with
 * one birth more and its invention patents left out. */
static void correct_wenchang(void) {
  char src[600], path[400], line[512];
  snprintf(src, sizeof src, "%s/deploy/sample/2022/wenchang.csv",
           TALLY_SOURCE_DIR);
  snprintf(path, sizeof path, "%s/wenchang-corrected.csv", dir);
  FILE *in = fopen(src, "r"), *out = fopen(path, "w");
  cr_assert(in && out);
  while (fgets(line, sizeof line, in)) {
    if (strncmp(line, "invention_patents,", 18) == 0)
      continue;
    if (strncmp(line, "live_births,", 12) == 0)
      snprintf(line, sizeof line, "live_births,%ld\n",
               strtol(line + 12, NULL, 10) + 1);
    fputs(line, out);
  }
  fclose(in);
  fclose(out);
  free(RUN_AS(&north, ANALYST(&north), "review", "reopen", "--unit",
              "wenchang", "--period", "2022", "--reason", "出生数少报一例"));
  const char *clerk = tally_test_token(&north, "reporter", "wenchang");
  free(RUN_AS(&north, clerk, "submit", "--unit", "wenchang", "--period",
              "2022", "--replace", "--file", path));
}

Test(forward, the_city_of_forwarded_districts_reports_as_one_server) {
  /* Xiaoli's 2022 is not approved at north yet. */
  load_district(&north, "north", north_towns,
                (const char *const[]){"xiaoli", NULL});
  load_district(&south, "south", south_towns, NULL);

  for (const char *const *y = years; *y; y++) {
    char *out = forward(&south, "south", *y);
    expect_in(out, "5 approved reports, 5 stored, 0 at the city already, "
                   "0 refused; 0 not forwarded");
    free(out);
  }
  free(forward(&north, "north", "2021"));
  char *out = forward(&north, "north", "2022");
  expect_in(out, "1 town not forwarded, never approved (未审核通过，未转报): "
                 "xiaoli");
  expect_in(out, "4 approved reports, 4 stored, 0 at the city already, 0 "
                 "refused; 1 not forwarded");
  free(out);
  json_t *v = values_of(&city, "xiaoli", "2022");
  cr_expect_eq(json_integer_value(json_object_get(v, "revision")), 0,
               "xiaoli 2022 is at the city before it was approved");
  json_decref(v);

  /* Approved, then forwarded: the rest are there already. */
  free(RUN_AS(&north, ANALYST(&north), "review", "approve", "--unit", "xiaoli",
              "--period", "2022", "--revision", "1"));
  out = forward(&north, "north", "2022");
  expect_in(out, "5 approved reports, 1 stored, 4 at the city already, 0 "
                 "refused; 0 not forwarded");
  free(out);
  expect_same_reports("forwarded");
  /* And each town's figures are the district's, as approved. */
  for (const char *const *t = north_towns; *t; t++) {
    json_t *a = values_of(&north, *t, "2022"), *b = values_of(&city, *t, "2022");
    json_t *va = json_object_get(a, "values"), *vb = json_object_get(b, "values");
    cr_expect_eq(json_array_size(vb), json_array_size(va), "%s", *t);
    for (size_t i = 0; i < json_array_size(va); i++)
      cr_expect(json_equal(json_object_get(json_array_get(va, i), "value"),
                           json_object_get(json_array_get(vb, i), "value")),
                "%s: figure %zu", *t, i);
    json_decref(a);
    json_decref(b);
  }

  /* A correction, approved, forwarded: it replaces the city's, once. */
  size_t before = history_length(&city, "wenchang", "2022");
  cr_expect_eq(before, 1, "wenchang 2022 at the city: one revision");
  correct_wenchang();
  /* Reopened and corrected, not approved again: what the city holds is
   * still the last approved. */
  out = forward(&north, "north", "2022");
  expect_in(out, "wenchang 2022: revision 1 approved");
  expect_in(out, "(reopened since: its last approved figures are sent): at "
                 "the city already");
  free(out);
  cr_expect_eq(history_length(&city, "wenchang", "2022"), before);
  free(RUN_AS(&north, ANALYST(&north), "review", "approve", "--unit",
              "wenchang", "--period", "2022", "--revision", "2"));
  free(RUN_AS(&direct, tally_test_token(&direct, "reporter", "wenchang"),
              "submit", "--unit", "wenchang", "--period", "2022", "--replace",
              "--file", dir_file("wenchang-corrected.csv")));
  out = forward(&north, "north", "2022");
  expect_in(out, "5 approved reports, 1 stored, 4 at the city already");
  expect_in(out, "wenchang 2022: revision 2 approved");
  expect_in(out, "1 replaced, 1 removed");
  free(out);
  cr_expect_eq(history_length(&city, "wenchang", "2022"), before + 1,
               "the correction is one new revision at the city");
  expect_same_reports("corrected");
  v = values_of(&city, "wenchang", "2022");
  json_t *values = json_object_get(v, "values");
  for (size_t i = 0; i < json_array_size(values); i++)
    cr_expect_str_neq(json_string_value(json_object_get(
                          json_array_get(values, i), "element")),
                      "invention_patents", "the figure left out is removed");
  json_decref(v);

  /* A third time: nothing stored. */
  out = forward(&north, "north", "2022");
  expect_in(out, "5 approved reports, 0 stored, 5 at the city already");
  free(out);
  cr_expect_eq(history_length(&city, "wenchang", "2022"), before + 1,
               "forwarded again, stored again");
}

Test(forward, what_a_district_reporter_at_the_city_may_do) {
  load_district(&south, "south", south_towns, NULL);
  /* North's token at the city forwards none of south's towns: the whole
   * import is refused, nothing stored. */
  char *out = run_want(&south, ANALYST(&south), 1,
                       (const char *const[]){"forward", "--period", "2022",
                                             "--to", city.address, "--ca",
                                             city_ca, "--token-file",
                                             city_token_file("north"), NULL});
  expect_in(out, "permission denied: account");
  expect_in(out, "may import the figures of the units within it only");
  free(out);
  /* tally import sends its reports packed, which the city's decoder
   * makes reports before who may import what is checked: the same. */
  tally_test_write_file(dir_file("guide.csv"), "unit,period,element,value\n"
                                               "guide,2022,live_births,5\n");
  out = run_want(&city, tally_test_token(&city, "reporter", "north"), 1,
                 (const char *const[]){"import", dir_file("guide.csv"), NULL});
  expect_in(out, "may import the figures of the units within it only");
  free(out);
  json_t *v = values_of(&city, "guide", "2022");
  cr_expect_eq(json_integer_value(json_object_get(v, "revision")), 0,
               "guide 2022 stored by north's token");
  json_decref(v);
  /* A dry run checks and stores nothing. */
  out = RUN_AS(&south, ANALYST(&south), "forward", "--period", "2022", "--to",
               city.address, "--ca", city_ca, "--token-file",
               city_token_file("south"), "--dry-run");
  expect_in(out, "5 approved reports, 5 would be stored");
  free(out);
  v = values_of(&city, "guide", "2022");
  cr_expect_eq(json_integer_value(json_object_get(v, "revision")), 0,
               "a dry run stored guide 2022");
  json_decref(v);
  /* Without the city's CA the certificate is not trusted. */
  out = run_want(&south, ANALYST(&south), 1,
                 (const char *const[]){"forward", "--period", "2022", "--to",
                                       city.address, "--token-file",
                                       city_token_file("south"), NULL});
  free(out);
  /* Without a token for the city: a usage error. */
  unsetenv("TALLY_FORWARD_TOKEN");
  out = run_want(&south, ANALYST(&south), 2,
                 (const char *const[]){"forward", "--period", "2022", "--to",
                                       city.address, NULL});
  expect_in(out, "--token-file FILE, or $TALLY_FORWARD_TOKEN");
  free(out);
  /* South's reporter at the city reads its towns and its district, not
   * north's, nor the city as a whole. */
  const char *s_tok = tally_test_token(&city, "reporter", "south");
  free(RUN_AS(&city, s_tok, "values", "--unit", "guide", "--period", "2022"));
  free(RUN_AS(&city, s_tok, "report", "--unit", "south", "--period", "2022"));
  out = run_want(&city, s_tok, 1,
                 (const char *const[]){"values", "--unit", "wenchang",
                                       "--period", "2022", NULL});
  expect_in(out, "may not read the figures of wenchang");
  free(out);
  out = run_want(&city, s_tok, 1,
                 (const char *const[]){"report", "--period", "2022", NULL});
  expect_in(out, "not the whole city");
  free(out);
}

Test(forward, adx_exported_at_the_districts_imported_at_the_city) {
  load_district(&north, "north", north_towns, NULL);
  load_district(&south, "south", south_towns, NULL);
  /* A correction not approved yet: the approved figures go on. */
  correct_wenchang();
  struct {
    tally_test_server *s;
    const char *name;
  } districts[] = {{&north, "north"}, {&south, "south"}};
  for (int d = 0; d < 2; d++)
    for (const char *const *y = years; *y; y++) {
      char path[400];
      snprintf(path, sizeof path, "%s/%s-%s.adx", dir, districts[d].name, *y);
      free(RUN_AS(districts[d].s, ANALYST(districts[d].s), "export",
                  "--period", *y, "--format", "adx", "--towns",
                  "--as-approved", "--output", path));
      char *out = RUN_AS(&city, tally_test_token(&city, "reporter",
                                                 districts[d].name),
                         "import", path);
      expect_in(out, "5 stored, 0 already stored before, 0 refused");
      free(out);
    }
  expect_same_reports("imported as ADX");
}

/* A town's 2022 sample with its physicians set to n, as
 * dir/TOWN-N.csv. */
static const char *with_physicians(const char *town, long n) {
  static char path[400];
  char src[600], line[512];
  snprintf(src, sizeof src, "%s/deploy/sample/2022/%s.csv", TALLY_SOURCE_DIR,
           town);
  snprintf(path, sizeof path, "%s/%s-%ld.csv", dir, town, n);
  FILE *in = fopen(src, "r"), *out = fopen(path, "w");
  cr_assert(in && out);
  while (fgets(line, sizeof line, in)) {
    if (strncmp(line, "physicians,", 11) == 0)
      snprintf(line, sizeof line, "physicians,%ld\n", n);
    fputs(line, out);
  }
  fclose(in);
  fclose(out);
  return path;
}

/* A town's 2022 at s reopened and submitted by its reporter as the
 * sample with n physicians, explained (why: NULL, none). */
static void resubmit(tally_test_server *s, const char *town, long n,
                     const char *why) {
  char explain[300];
  snprintf(explain, sizeof explain, "physicians_population=%s",
           why ? why : "");
  const char *clerk = tally_test_token(s, "reporter", town);
  const char *file = with_physicians(town, n);
  if (why)
    free(RUN_AS(s, clerk, "submit", "--unit", town, "--period", "2022",
                "--replace", "--file", file, "--explain", explain));
  else
    free(RUN_AS(s, clerk, "submit", "--unit", town, "--period", "2022",
                "--replace", "--file", file));
}

/* The text of the one explanation of a unit's values at s. */
static char *explanation_of(tally_test_server *s, const char *unit) {
  json_t *v = values_of(s, unit, "2022");
  json_t *ex = json_object_get(v, "explanations");
  cr_assert_eq(json_array_size(ex), 1, "%s at %s: one explanation", unit,
               s->address);
  char *text = strdup(json_string_value(
      json_object_get(json_array_get(ex, 0), "text")));
  json_decref(v);
  return text;
}

/* The explanations go on as they were approved with the figures: one
 * changed, then one removed at the district after the approval changes
 * nothing at the city. */
Test(forward, the_explanations_go_as_approved) {
  load_district(&south, "south", south_towns, NULL);
  load_district(&north, "north", north_towns, NULL);
  /* 55,884 residents, 60,000 physicians: warning physicians_population,
   * explained, then approved. */
  free(RUN_AS(&south, ANALYST(&south), "review", "reopen", "--unit", "guide",
              "--period", "2022", "--reason", "医师数待核实"));
  resubmit(&south, "guide", 60000, "含驻区三甲医院医师");
  free(RUN_AS(&south, ANALYST(&south), "review", "approve", "--unit", "guide",
              "--period", "2022", "--revision", "2"));
  /* Reopened, the explanation changed: the approval's goes on. */
  free(RUN_AS(&south, ANALYST(&south), "review", "reopen", "--unit", "guide",
              "--period", "2022", "--reason", "说明不清"));
  resubmit(&south, "guide", 60001, "改过的说明");
  char *text = explanation_of(&south, "guide");
  cr_expect_str_eq(text, "改过的说明");
  free(text);

  char *out = forward(&south, "south", "2022");
  expect_in(out, "5 approved reports, 5 stored, 0 at the city already, 0 "
                 "refused");
  free(out);
  text = explanation_of(&city, "guide");
  cr_expect_str_eq(text, "含驻区三甲医院医师",
                   "the city holds the explanation as approved");
  free(text);
  json_t *v = values_of(&city, "guide", "2022");
  json_t *values = json_object_get(v, "values");
  int found = 0;
  for (size_t i = 0; i < json_array_size(values); i++) {
    json_t *e = json_array_get(values, i);
    if (strcmp(json_string_value(json_object_get(e, "element")),
               "physicians") == 0)
      found = json_number_value(json_object_get(e, "value")) == 60000;
  }
  cr_expect(found, "the city holds the physicians as approved");
  json_decref(v);
  size_t before = history_length(&city, "guide", "2022");

  out = forward(&south, "south", "2022");
  expect_in(out, "5 approved reports, 0 stored, 5 at the city already");
  free(out);

  /* Corrected, which removes the explanation at the district: still
   * nothing new at the city. */
  resubmit(&south, "guide", 131, NULL);
  v = values_of(&south, "guide", "2022");
  cr_expect_eq(json_array_size(json_object_get(v, "explanations")), 0,
               "the district's explanation is removed");
  json_decref(v);
  out = forward(&south, "south", "2022");
  expect_in(out, "guide 2022: revision 2 approved");
  expect_in(out, "5 approved reports, 0 stored, 5 at the city already, 0 "
                 "refused");
  cr_expect(!strstr(out, "explanations as approved were not kept"), "%s", out);
  free(out);
  cr_expect_eq(history_length(&city, "guide", "2022"), before,
               "forwarded again, stored again");
  text = explanation_of(&city, "guide");
  cr_expect_str_eq(text, "含驻区三甲医院医师");
  free(text);

  /* At north, the explanation removed before the first forward: the
   * city takes the figures as approved only with it (a warning). */
  free(RUN_AS(&north, ANALYST(&north), "review", "reopen", "--unit", "pingan",
              "--period", "2022", "--reason", "医师数待核实"));
  resubmit(&north, "pingan", 90000, "含驻区医院医师");
  free(RUN_AS(&north, ANALYST(&north), "review", "approve", "--unit",
              "pingan", "--period", "2022", "--revision", "2"));
  free(RUN_AS(&north, ANALYST(&north), "review", "reopen", "--unit", "pingan",
              "--period", "2022", "--reason", "再核"));
  resubmit(&north, "pingan", 266, NULL);
  out = forward(&north, "north", "2022");
  expect_in(out, "5 approved reports, 5 stored, 0 at the city already, 0 "
                 "refused");
  free(out);
  text = explanation_of(&city, "pingan");
  cr_expect_str_eq(text, "含驻区医院医师");
  free(text);
}

/* The city is another server: nothing of the district's connection goes
 * to it. A plaintext city off the loopback (this machine's own address,
 * so that nothing leaves it) takes the token only with forward's own
 * --city-insecure-plaintext, not with the district's
 * --insecure-plaintext, before or after 'forward'. */
Test(forward, plaintext_to_the_city_needs_its_own_flag) {
  char ip[64], to[96], token[400];
  if (!tally_test_own_address(ip, sizeof ip))
    cr_skip_test("this machine has no address but the loopback");
  tally_test_server plain;
  const char *const tree[] = {"north=" NORTH, "south=" SOUTH, NULL};
  start_on(&plain, "plain", "jinan", tree,
           (const char *const[]){"--listen", "0.0.0.0:0",
                                 "--insecure-plaintext", NULL});
  snprintf(to, sizeof to, "%s:%s", ip, strchr(plain.address, ':') + 1);
  snprintf(token, sizeof token, "%s/south-at-plain.token", dir);
  char text[200];
  snprintf(text, sizeof text, "%s\n",
           tally_test_token(&plain, "reporter", "south"));
  tally_test_write_file(token, text);
  load_district(&south, "south", south_towns, NULL);
  unsetenv("TALLY_FORWARD_CA");

  const char *const before[] = {"--insecure-plaintext", "forward", "--period",
                                "2022", "--to", to, "--token-file", token,
                                NULL};
  const char *const after[] = {"forward", "--period", "2022", "--to", to,
                               "--token-file", token, "--insecure-plaintext",
                               NULL};
  const char *const *refused[] = {before, after};
  for (int i = 0; i < 2; i++) {
    char *out = run_want(&south, ANALYST(&south), 2, refused[i]);
    expect_in(out, "refusing to send a token in plaintext to");
    expect_in(out, "--city-insecure-plaintext if the network is otherwise "
                   "protected");
    free(out);
  }
  char *log = tally_test_read_file(plain.log);
  cr_expect(log && !strstr(log, "signed in as account 2"), "the token "
            "reached the city:\n%s", log ? log : "");
  free(log);
  json_t *v = values_of(&plain, "guide", "2022");
  cr_expect_eq(json_integer_value(json_object_get(v, "revision")), 0);
  json_decref(v);

  char *out = RUN_AS(&south, ANALYST(&south), "forward", "--period", "2022",
                     "--to", to, "--token-file", token,
                     "--city-insecure-plaintext");
  expect_in(out, "5 approved reports, 5 stored");
  free(out);
  tally_test_server_stop(&plain);
}

/* The city's token is wiped once used: at the end of tally forward no
 * memory of the process (freed or not) holds 16 bytes of it running
 * (tests/lib/secretscan.c). The district's token, in the environment
 * all along, is found: the scan sees what is there. */
Test(forward, the_city_token_is_wiped) {
  load_district(&south, "south", south_towns, NULL);
  const char *token = city_token_file("south");
  char secrets[400], report[400], text[300];
  snprintf(secrets, sizeof secrets, "%s/secrets", dir);
  snprintf(report, sizeof report, "%s/secrets.found", dir);
  char *city_tok = tally_test_read_file(token);
  snprintf(text, sizeof text, "%s%s\n", city_tok, ANALYST(&south));
  free(city_tok);
  tally_test_write_file(secrets, text);
  const char *asan = getenv("ASAN_OPTIONS");
  char opts[512];
  snprintf(opts, sizeof opts, "%s%sverify_asan_link_order=0",
           asan ? asan : "", asan && *asan ? ":" : "");
  setenv("ASAN_OPTIONS", opts, 1);
  setenv("TALLY_TEST_SECRET_FILE", secrets, 1);
  setenv("TALLY_TEST_SECRET_REPORT", report, 1);
  setenv("LD_PRELOAD", SECRETSCAN_PATH, 1);
  char *out = forward(&south, "south", "2022");
  unsetenv("LD_PRELOAD");
  expect_in(out, "5 approved reports, 5 stored");
  free(out);
  char *found = tally_test_read_file(report);
  cr_assert_not_null(found, "the scan wrote nothing");
  unsigned city_places = 99, district_places = 0;
  cr_assert_eq(sscanf(found, "%u\n%u", &city_places, &district_places), 2,
               "%s", found);
  cr_expect_eq(city_places, 0, "the city's token is left in %u places",
               city_places);
  cr_expect_gt(district_places, 0, "the scan did not find the district's "
               "token in the environment");
  free(found);
}
