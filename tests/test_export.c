/* test_export.c: tally export through the real tally and tallyd: the
 * sample figures of every unit exported as ADX, DHIS2 JSON and the long
 * CSV, imported into a fresh server, give the same report to the last
 * digit, and the same figures. */
#include "fixture.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tally_test_server srv;
static char files[256];

static void setup(void) { tally_test_cli_start(&srv, files, sizeof files); }
static void teardown(void) { tally_test_cli_stop(&srv, files); }

TestSuite(export, .init = setup, .fini = teardown, .timeout = 180);

static void expect_in(const char *text, const char *want) {
  cr_expect(text && strstr(text, want), "'%s' is not in:\n%s", want, text);
}

/* The bundled samples (deploy/sample/YEAR/UNIT.csv) of years as one
 * long-form file, at path. */
static void samples_long(const char *path, const char *const *years) {
  FILE *out = fopen(path, "w");
  cr_assert(out);
  fprintf(out, "unit,period,element,value\n");
  for (; *years; years++) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/deploy/sample/%s", TALLY_SOURCE_DIR, *years);
    DIR *d = opendir(dir);
    cr_assert(d, "%s", dir);
    struct dirent *de;
    while ((de = readdir(d))) {
      size_t n = strlen(de->d_name);
      if (n < 5 || strcmp(de->d_name + n - 4, ".csv"))
        continue;
      char file[900], line[512], unit[64];
      snprintf(unit, sizeof unit, "%.*s", (int)(n - 4), de->d_name);
      snprintf(file, sizeof file, "%s/%s", dir, de->d_name);
      FILE *in = fopen(file, "r");
      cr_assert(in);
      while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\r\n")] = 0;
        char *comma = strchr(line, ',');
        if (!comma || line[0] == '#' || comma[1] == 0 ||
            strncmp(line, "data_element,", 13) == 0)
          continue;
        fprintf(out, "%s,%s,%s\n", unit, *years, line);
      }
      fclose(in);
    }
    closedir(d);
  }
  fclose(out);
}

/* tally's output, signed in as an analyst of s. */
static char *run_on(tally_test_server *s, const char *const *args) {
  char *out = NULL, *err = NULL;
  setenv("TALLY_SERVER", s->address, 1);
  tally_test_sign_in(s, "analyst", NULL);
  int rc = tally_test_run(args, NULL, &out, &err);
  cr_assert_eq(rc, 0, "tally %s: %s", args[0], err);
  free(err);
  return out;
}
#define RUN_ON(s, ...) run_on(s, (const char *const[]){__VA_ARGS__, NULL})

/* Each line of CSV text cut before its last field, in place. */
static void drop_last_column(char *text) {
  char *w = text;
  for (char *line = text; *line;) {
    char *nl = strchr(line, '\n');
    size_t n = nl ? (size_t)(nl - line) : strlen(line);
    char *last = NULL;
    for (char *p = line; p < line + n; p++)
      if (*p == ',')
        last = p;
    size_t keep = last ? (size_t)(last - line) : n;
    memmove(w, line, keep);
    w += keep;
    *w++ = '\n';
    line += n + (nl != NULL);
  }
  *w = 0;
}

static void round_trip(const char *format, const char *ext) {
  char path[512], exported[2][512];
  const char *const years[] = {"2021", "2022", NULL};
  snprintf(path, sizeof path, "%s/samples.csv", files);
  samples_long(path, years);
  free(RUN_ON(&srv, "import", path));
  for (int i = 0; i < 2; i++) {
    snprintf(exported[i], sizeof exported[i], "%s/export-%s.%s", files,
             years[i], ext);
    free(RUN_ON(&srv, "export", "--period", years[i], "--format", format,
                "--output", exported[i]));
  }
  char *want = RUN_ON(&srv, "report", "--period", "2022", "--format", "csv");
  char *want_values = RUN_ON(&srv, "values", "--unit", "wenchang", "--period",
                             "2022", "--format", "csv");

  tally_test_server fresh;
  tally_test_server_start(&fresh, NULL);
  for (int i = 0; i < 2; i++) {
    char *out = RUN_ON(&fresh, "import", exported[i]);
    expect_in(out, " 0 refused");
    expect_in(out, "11 stored");
    free(out);
  }
  char *got = RUN_ON(&fresh, "report", "--period", "2022", "--format", "csv");
  char *got_values = RUN_ON(&fresh, "values", "--unit", "wenchang", "--period",
                            "2022", "--format", "csv");
  tally_test_server_stop(&fresh);
  setenv("TALLY_SERVER", srv.address, 1);
  cr_expect(strlen(want) > 2000, "a report of every indicator: %s", want);
  cr_expect_str_eq(got, want, "the report differs after %s", format);
  /* The figures, their times apart (the last column). */
  drop_last_column(want_values);
  drop_last_column(got_values);
  cr_expect_str_eq(got_values, want_values, "wenchang's figures differ after "
                   "%s", format);
  free(want);
  free(got);
  free(want_values);
  free(got_values);
}

Test(export, adx_round_trip) {
  round_trip("adx", "adx");
  char path[512];
  snprintf(path, sizeof path, "%s/export-2022.adx", files);
  char *adx = tally_test_read_file(path);
  expect_in(adx, "<adx ");
  expect_in(adx, "xmlns=\"urn:ihe:qrph:adx:2015\"");
  expect_in(adx, "<group orgUnit=\"wenchang\" period=\"2022-01-01/P1Y\" "
                 "dataSet=\"changqing\">");
  expect_in(adx, "<dataValue dataElement=\"deaths\" AGE_GROUP=\"1-4\" value=");
  expect_in(adx, "<dataValue dataElement=\"live_births\" value=\"1255\"/>");
  free(adx);
}

Test(export, dhis2_json_round_trip) {
  round_trip("json", "json");
  char path[512];
  snprintf(path, sizeof path, "%s/export-2022.json", files);
  char *json = tally_test_read_file(path);
  expect_in(json, "\"dataValues\": [");
  expect_in(json, "\"categoryOptionCombo\": \"85+\"");
  free(json);
}

Test(export, long_csv_round_trip) { round_trip("csv", "csv"); }
