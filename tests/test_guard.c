/* test_guard.c: failed sign-ins counted per address (server/guard.c). */
#include "guard.h"

#include <criterion/criterion.h>
#include <stdio.h>

static tally_guard *g;

static void setup(void) { cr_assert_not_null(g = tally_guard_new()); }
static void teardown(void) { tally_guard_free(g); }

TestSuite(guard, .init = setup, .fini = teardown);

Test(guard, an_address_is_refused_after_the_limit_until_the_window_ends) {
  for (int i = 0; i < TALLY_GUARD_LIMIT; i++) {
    cr_assert_eq(tally_guard_wait(g, "10.0.0.1:4000", 1000), 0, "failure %d", i);
    tally_guard_fail(g, "10.0.0.1:4000", 1000);
  }
  /* The limit is reached: wait until the window that began at 1000 ends. */
  cr_assert_eq(tally_guard_wait(g, "10.0.0.1:4000", 1000),
               TALLY_GUARD_WINDOW_S);
  cr_assert_eq(tally_guard_wait(g, "10.0.0.1:4000", 1100),
               TALLY_GUARD_WINDOW_S - 100);
  cr_assert_eq(tally_guard_wait(g, "10.0.0.1:4000", 1000 + TALLY_GUARD_WINDOW_S),
               0);
}

Test(guard, the_port_does_not_matter_and_other_addresses_are_not_blocked) {
  for (int i = 0; i < TALLY_GUARD_LIMIT; i++)
    tally_guard_fail(g, "10.0.0.1:1000", 50); /* a new port each connection */
  cr_assert_gt(tally_guard_wait(g, "10.0.0.1:2000", 51), 0);
  cr_assert_eq(tally_guard_wait(g, "10.0.0.2:1000", 51), 0);
  cr_assert_eq(tally_guard_wait(g, "[::1]:1000", 51), 0);
}

Test(guard, failures_in_an_old_window_start_a_new_count) {
  for (int i = 0; i < TALLY_GUARD_LIMIT - 1; i++)
    tally_guard_fail(g, "10.0.0.3:1", 0);
  /* The window has passed: one more failure does not reach the limit. */
  tally_guard_fail(g, "10.0.0.3:1", TALLY_GUARD_WINDOW_S);
  cr_assert_eq(tally_guard_wait(g, "10.0.0.3:1", TALLY_GUARD_WINDOW_S), 0);
}

Test(guard, a_full_table_forgets_the_oldest_not_the_newest) {
  char peer[64];
  /* Far more addresses than slots, each failing once, in time order. */
  for (int i = 0; i < 20000; i++) {
    snprintf(peer, sizeof peer, "10.%d.%d.%d:1", i >> 16, (i >> 8) & 255,
             i & 255);
    tally_guard_fail(g, peer, i / 100);
  }
  /* The last address goes on being counted to its limit. */
  for (int i = 1; i < TALLY_GUARD_LIMIT; i++)
    tally_guard_fail(g, peer, 200);
  cr_assert_gt(tally_guard_wait(g, peer, 200), 0);
}

Test(guard, ipv6_addresses_of_one_64_count_together) {
  char peer[80];
  for (int i = 0; i < TALLY_GUARD_LIMIT; i++) {
    snprintf(peer, sizeof peer, "[2001:db8:1:2::%x]:%d", i + 1, 4000 + i);
    tally_guard_fail(g, peer, 10);
  }
  cr_assert_gt(tally_guard_wait(g, "[2001:db8:1:2:ffff::9]:1", 11), 0);
  cr_assert_eq(tally_guard_wait(g, "[2001:db8:1:3::1]:1", 11), 0);
}

/* On a [::] listener an IPv4 client is ::ffff:a.b.c.d, whose /64 is
 * ::/64: counted as a /64, one address would lock out every IPv4 one. */
Test(guard, ipv4_mapped_addresses_count_as_their_ipv4_address) {
  for (int i = 0; i < TALLY_GUARD_LIMIT; i++)
    tally_guard_fail(g, "[::ffff:10.0.0.7]:4000", 10);
  cr_assert_gt(tally_guard_wait(g, "[::ffff:10.0.0.7]:5000", 11), 0);
  cr_assert_gt(tally_guard_wait(g, "10.0.0.7:5000", 11), 0, "the same sender");
  cr_assert_eq(tally_guard_wait(g, "[::ffff:10.0.0.8]:4000", 11), 0);
  cr_assert_eq(tally_guard_wait(g, "10.0.0.8:4000", 11), 0);
}
