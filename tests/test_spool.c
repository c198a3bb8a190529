/* test_spool.c: the client's spool of unacknowledged submissions. */
#include "fixture.h"
#include "spool.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[256], spool[300];

static void setup(void) {
  tally_test_tmpdir(dir, sizeof dir);
  snprintf(spool, sizeof spool, "%s/a/b/spool", dir);
}

static void teardown(void) { tally_test_rmtree(dir); }

TestSuite(spool, .init = setup, .fini = teardown);

static void add(const char *unit, const char *id, char *name) {
  Tally__Value v = TALLY__VALUE__INIT, *pv = &v;
  Tally__SubmitRequest s = TALLY__SUBMIT_REQUEST__INIT;
  char err[256];
  v.element = "live_births";
  v.value = 12;
  s.unit = (char *)unit;
  s.period = "2022";
  s.values = &pv;
  s.n_values = 1;
  s.submission_id = (char *)id;
  cr_assert_eq(tally_spool_add(spool, &s, name, err, sizeof err), 0, "%s",
               err);
}

Test(spool, init_makes_the_folders_private) {
  char err[256];
  struct stat st;
  cr_assert_eq(tally_spool_init(spool, err, sizeof err), 0, "%s", err);
  cr_assert_eq(stat(spool, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0700);
  cr_assert_eq(tally_spool_init(spool, err, sizeof err), 0); /* again: fine */
}

Test(spool, entries_come_back_in_order_and_whole) {
  char err[256], n1[TALLY_SPOOL_NAME_MAX], n2[TALLY_SPOOL_NAME_MAX],
      n3[TALLY_SPOOL_NAME_MAX];
  tally_spool_entry *list;
  size_t n;
  cr_assert_eq(tally_spool_init(spool, err, sizeof err), 0);
  add("wenchang", "id-c", n1);
  add("guide", "id-a", n2);
  add("wande", "id-b", n3);
  cr_assert_eq(tally_spool_list(spool, &list, &n, err, sizeof err), 0);
  cr_assert_eq(n, 3);
  /* Submission order, not id order. */
  cr_assert_str_eq(list[0].req->unit, "wenchang");
  cr_assert_str_eq(list[1].req->unit, "guide");
  cr_assert_str_eq(list[2].req->unit, "wande");
  cr_assert_str_eq(list[1].req->submission_id, "id-a");
  cr_assert_eq(list[1].req->n_values, 1);
  cr_assert_eq(list[1].req->values[0]->value, 12);
  cr_assert_gt(list[0].created_ms, 1600000000000LL);
  tally_spool_list_free(list, n);

  cr_assert_eq(tally_spool_remove(spool, n2), 0);
  cr_assert_eq(tally_spool_set_aside(spool, n1), 0);
  cr_assert_eq(tally_spool_list(spool, &list, &n, err, sizeof err), 0);
  cr_assert_eq(n, 1);
  cr_assert_str_eq(list[0].req->unit, "wande");
  tally_spool_list_free(list, n);

  char aside[600];
  struct stat st;
  snprintf(aside, sizeof aside, "%s/refused/%s", spool, n1);
  cr_assert_eq(stat(aside, &st), 0, "the refused entry is kept");
}

Test(spool, a_missing_spool_is_empty_and_junk_is_reported) {
  tally_spool_entry *list;
  size_t n;
  char err[256] = "", path[600], name[TALLY_SPOOL_NAME_MAX];
  cr_assert_eq(tally_spool_list(spool, &list, &n, err, sizeof err), 0);
  cr_assert_eq(n, 0);

  cr_assert_eq(tally_spool_init(spool, err, sizeof err), 0);
  add("guide", "ok", name);
  snprintf(path, sizeof path, "%s/0000000000000000001-junk.sub", spool);
  tally_test_write_file(path, "\xff\xff\xff not protobuf");
  /* A temporary file of an interrupted write is not an entry. */
  snprintf(path, sizeof path, "%s/.0000000000000000002-x.sub.tmp", spool);
  tally_test_write_file(path, "");
  cr_assert_eq(tally_spool_list(spool, &list, &n, err, sizeof err), 0);
  cr_assert_eq(n, 1);
  cr_assert(strstr(err, "junk.sub does not decode"), "%s", err);
  tally_spool_list_free(list, n);
}

Test(spool, ids_are_version_4_uuids) {
  char a[37], b[37];
  cr_assert_eq(tally_spool_new_id(a), 0);
  cr_assert_eq(tally_spool_new_id(b), 0);
  cr_assert_eq(strlen(a), 36);
  cr_assert_str_neq(a, b);
  cr_assert_eq(a[14], '4');
  cr_assert(strchr("89ab", a[19]) != NULL);
  cr_assert(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
}

/* An entry named from the future (a clock that stepped back since) still
 * comes before the next one. */
Test(spool, order_survives_a_clock_that_steps_back) {
  char err[256], name[TALLY_SPOOL_NAME_MAX], path[600];
  tally_spool_entry *list;
  size_t n;
  cr_assert_eq(tally_spool_init(spool, err, sizeof err), 0);
  add("guide", "first", name);
  /* Rename it as if written in 2100. */
  char from[600];
  snprintf(from, sizeof from, "%s/%s", spool, name);
  snprintf(path, sizeof path, "%s/4102444800000000000-first.sub", spool);
  cr_assert_eq(rename(from, path), 0);
  add("wande", "second", name);
  cr_assert_eq(tally_spool_list(spool, &list, &n, err, sizeof err), 0);
  cr_assert_eq(n, 2);
  cr_assert_str_eq(list[0].req->unit, "guide");
  cr_assert_str_eq(list[1].req->unit, "wande");
  tally_spool_list_free(list, n);
}

/* Writes a temporary file as a writer would leave it, last written
 * age_s ago; returns its path. */
static const char *leave_tmp(const char *name, int age_s) {
  static char path[3][512];
  static int k;
  char *p = path[k++ % 3];
  snprintf(p, sizeof path[0], "%s/%s", spool, name);
  tally_test_write_file(p, "half an entry");
  struct timespec t[2];
  clock_gettime(CLOCK_REALTIME, &t[0]);
  t[0].tv_sec -= age_s;
  t[1] = t[0];
  cr_assert_eq(utimensat(AT_FDCWD, p, t, 0), 0);
  return p;
}

/* A client killed before its rename leaves a .tmp file: the next list
 * (every command that opens the spool) removes it, but not one a live
 * writer holds, nor one just written. */
Test(spool, a_dead_writers_temporary_file_is_removed) {
  char err[256], n1[TALLY_SPOOL_NAME_MAX];
  tally_spool_entry *list;
  size_t n;
  struct stat st;
  cr_assert_eq(tally_spool_init(spool, err, sizeof err), 0);
  add("wenchang", "id-a", n1);
  const char *dead = leave_tmp(".1-dead.sub.tmp", 3600);
  const char *fresh = leave_tmp(".2-fresh.sub.tmp", 0);
  const char *held = leave_tmp(".3-held.sub.tmp", 3600);
  int fd = open(held, O_RDONLY);
  cr_assert_geq(fd, 0);
  cr_assert_eq(flock(fd, LOCK_EX), 0); /* a writer still at work */

  cr_assert_eq(tally_spool_list(spool, &list, &n, err, sizeof err), 0);
  cr_assert_eq(n, 1);
  cr_assert_str_eq(list[0].name, n1);
  tally_spool_list_free(list, n);
  cr_assert_neq(stat(dead, &st), 0, "the dead writer's file is gone");
  cr_assert_eq(stat(fresh, &st), 0, "a file just written is kept");
  cr_assert_eq(stat(held, &st), 0, "a locked file is kept");
  close(fd);
}
