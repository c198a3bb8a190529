/* test_track.c: the path from a baseline to a later target
 * (common/track.c), by hand-worked examples. */
#include "error.h"
#include "track.h"

#include <criterion/criterion.h>
#include <math.h>

/* P01's shape: 59.55 in 2020 to >= 67 in 2025 at a constant rate:
 * 59.55 x (67 / 59.55)^(2/5) = 62.4311... by 2022. 61.16 is behind it;
 * the rate it still needs is (67 / 61.16)^(1/3) - 1 = 3.09 % a year. */
Test(track, a_total_at_a_constant_rate) {
  tally_target t = {.year = 2025, .op = TALLY_OP_GE, .value = 67};
  tally_track tr;
  cr_assert_eq(tally_track_judge(&t, 2020, 59.55, 1, 2022, 61.16, &tr), 0);
  cr_assert_float_eq(tr.path, 59.55 * pow(67 / 59.55, 0.4), 1e-12);
  cr_assert_not(tr.on_track);
  cr_assert(tr.has_needed);
  cr_assert_float_eq(tr.needed_per_year, (67 - 61.16) / 3, 1e-12);
  cr_assert(tr.has_needed_rate);
  cr_assert_float_eq(tr.needed_rate, (pow(67 / 61.16, 1.0 / 3) - 1) * 100,
                     1e-9);
  /* 62.5 is ahead of it: on track. */
  cr_assert_eq(tally_track_judge(&t, 2020, 59.55, 1, 2022, 62.5, &tr), 0);
  cr_assert(tr.on_track);
}

/* A share in a straight line: 57.3 in 2020 to >= 60 in 2025 is 58.38
 * by 2022; 59.04 is on track. A rate that is better lower (<= 10 in
 * 2030 from 15.625 in 2020) must be at or under its line. */
Test(track, a_share_in_a_straight_line) {
  tally_target ge = {.year = 2025, .op = TALLY_OP_GE, .value = 60};
  tally_target le = {.year = 2030, .op = TALLY_OP_LE, .value = 10};
  tally_track tr;
  cr_assert_eq(tally_track_judge(&ge, 2020, 57.3, 0, 2022, 59.04, &tr), 0);
  cr_assert_float_eq(tr.path, 57.3 + 2.7 * 0.4, 1e-12);
  cr_assert(tr.on_track);
  cr_assert_not(tr.has_needed_rate);
  cr_assert_eq(tally_track_judge(&le, 2020, 15.625, 0, 2023, 13.9, &tr), 0);
  cr_assert(tr.on_track); /* the line is at 13.9375 */
  cr_assert_eq(tally_track_judge(&le, 2020, 15.625, 0, 2023, 14, &tr), 0);
  cr_assert_not(tr.on_track);
  /* A value that meets the target already is on track, and needs
   * nothing more. */
  cr_assert_eq(tally_track_judge(&le, 2020, 15.625, 0, 2023, 9, &tr), 0);
  cr_assert(tr.on_track);
  cr_assert_not(tr.has_needed);
}

/* About targets: about<= aims at value + tolerance, about at the value
 * within the tolerance of the path. */
Test(track, about_targets) {
  tally_target le = {.year = 2030, .op = TALLY_OP_ABOUT_LE, .value = 3,
                     .tolerance = 0.5};
  tally_target two = {.year = 2030, .op = TALLY_OP_ABOUT, .value = 3,
                      .tolerance = 0.5};
  tally_track tr;
  cr_assert_eq(tally_track_bound(&le), 3.5);
  /* From 4.5 in 2020 to 3.5 in 2030: 4.0 by 2025. */
  cr_assert_eq(tally_track_judge(&le, 2020, 4.5, 0, 2025, 4.1, &tr), 0);
  cr_assert_float_eq(tr.path, 4.0, 1e-12);
  cr_assert_not(tr.on_track);
  /* From 5 to 3: 4 by 2025; 4.4 is within 0.5 of it. */
  cr_assert_eq(tally_track_judge(&two, 2020, 5, 0, 2025, 4.4, &tr), 0);
  cr_assert(tr.on_track);
  cr_assert_eq(tally_track_judge(&two, 2020, 5, 0, 2025, 4.6, &tr), 0);
  cr_assert_not(tr.on_track);
}

/* A target that is a rate of growth: 9 % a year on average over
 * 2021-2025. An average of 7.4 % since 2020 by 2022 is off track, and
 * the years left need (1.09^5 / 1.074^2)^(1/3) - 1. */
Test(track, a_growth_rate_target) {
  tally_target t = {.year = 2025, .op = TALLY_OP_GE, .value = 9};
  tally_track tr;
  cr_assert_eq(tally_track_growth(&t, 2020, 2022, 7.4, &tr), 0);
  cr_assert_not(tr.on_track);
  cr_assert_eq(tr.path, 9);
  cr_assert_float_eq(
      tr.needed_rate,
      (pow(pow(1.09, 5) / pow(1.074, 2), 1.0 / 3) - 1) * 100, 1e-9);
  cr_assert_eq(tally_track_growth(&t, 2020, 2022, 9.5, &tr), 0);
  cr_assert(tr.on_track);
  cr_assert_not(tr.has_needed_rate);
}

/* No path: the baseline is not before the year, the year is the
 * target's, or the target is not a number to reach. */
Test(track, no_path) {
  tally_target t = {.year = 2025, .op = TALLY_OP_GE, .value = 9};
  tally_target change = {.year = 2025, .op = TALLY_OP_CHANGE_LE, .value = -1};
  tally_target level = {.year = 2025, .op = TALLY_OP_GE, .value = 2,
                        .has_level = 1};
  tally_track tr;
  cr_assert_eq(tally_track_judge(&t, 2022, 1, 0, 2022, 1, &tr), TALLY_EVALUE);
  cr_assert_eq(tally_track_judge(&t, 2020, 1, 0, 2025, 1, &tr), TALLY_EVALUE);
  cr_assert_eq(tally_track_judge(&change, 2020, 1, 0, 2022, 1, &tr),
               TALLY_EVALUE);
  cr_assert_eq(tally_track_judge(&level, 2020, 1, 0, 2022, 1, &tr),
               TALLY_EVALUE);
  cr_assert_eq(tally_track_growth(&t, 2022, 2022, 1, &tr), TALLY_EVALUE);
}
