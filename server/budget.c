/* budget.c: the arithmetic of the server's memory budget. */
#include "budget.h"

void tally_budget_init(tally_budget *b, size_t limit) {
  b->limit = limit ? limit : TALLY_BUDGET_DEFAULT;
  b->held = 0;
}

void tally_budget_take(tally_budget *b, size_t n) {
  b->held = n > (size_t)-1 - b->held ? (size_t)-1 : b->held + n;
}

void tally_budget_give(tally_budget *b, size_t n) {
  b->held = n > b->held ? 0 : b->held - n;
}

void tally_budget_move(tally_budget *b, size_t was, size_t now) {
  if (now > was)
    tally_budget_take(b, now - was);
  else
    tally_budget_give(b, was - now);
}

int tally_budget_over(const tally_budget *b) { return b->held > b->limit; }

size_t tally_budget_left(const tally_budget *b) {
  return b->held < b->limit ? b->limit - b->held : 0;
}
