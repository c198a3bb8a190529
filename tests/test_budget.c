/* test_budget.c: the arithmetic of the server's memory budget. */
#include "budget.h"

#include <criterion/criterion.h>
#include <stdint.h>

Test(budget, a_zero_limit_is_the_default) {
  tally_budget b;
  tally_budget_init(&b, 0);
  cr_assert_eq(b.limit, TALLY_BUDGET_DEFAULT);
  cr_assert_eq(b.held, 0);
  cr_assert_eq(tally_budget_left(&b), TALLY_BUDGET_DEFAULT);
}

Test(budget, over_only_past_the_limit) {
  tally_budget b;
  tally_budget_init(&b, 100);
  tally_budget_take(&b, 60);
  cr_assert_eq(tally_budget_left(&b), 40);
  tally_budget_take(&b, 40);
  cr_assert_not(tally_budget_over(&b), "at the limit is within it");
  cr_assert_eq(tally_budget_left(&b), 0);
  tally_budget_take(&b, 1);
  cr_assert(tally_budget_over(&b));
  cr_assert_eq(tally_budget_left(&b), 0);
  tally_budget_give(&b, 1);
  cr_assert_not(tally_budget_over(&b));
}

Test(budget, a_holding_that_moves) {
  tally_budget b;
  tally_budget_init(&b, 1000);
  tally_budget_move(&b, 0, 300);  /* a partial frame grows */
  tally_budget_move(&b, 300, 700);
  cr_assert_eq(b.held, 700);
  tally_budget_move(&b, 700, 0);  /* and is handed out whole */
  cr_assert_eq(b.held, 0);
}

Test(budget, the_count_never_wraps) {
  tally_budget b;
  tally_budget_init(&b, 10);
  tally_budget_give(&b, 5); /* more given back than held: none held */
  cr_assert_eq(b.held, 0);
  tally_budget_take(&b, SIZE_MAX);
  tally_budget_take(&b, 5);
  cr_assert_eq(b.held, SIZE_MAX);
  cr_assert(tally_budget_over(&b));
}
