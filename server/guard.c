/* guard.c: failed sign-ins per address, in a small open-addressed table. */
#include "guard.h"

#include "address.h"
#include "hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096 /* a power of two */
#define PROBES 8

typedef struct {
  char host[48];    /* "" = free */
  int64_t since;    /* start of the window */
  unsigned failures;
} slot;

struct tally_guard {
  slot slots[SLOTS];
};

tally_guard *tally_guard_new(void) { return calloc(1, sizeof(tally_guard)); }

void tally_guard_free(tally_guard *g) { free(g); }

/* The slot of host; with create, a free or the oldest one taken over. */
static slot *find(tally_guard *g, const char *host, int create) {
  uint32_t h = (uint32_t)tally_hash_fnv1a(host, strlen(host));
  slot *victim = NULL; /* a free slot, else the oldest window */
  for (int i = 0; i < PROBES; i++) {
    slot *s = &g->slots[(h + (uint32_t)i) & (SLOTS - 1)];
    if (strcmp(s->host, host) == 0)
      return s;
    if (victim == NULL || (victim->host[0] && s->host[0] == 0) ||
        (victim->host[0] && s->since < victim->since))
      victim = s;
  }
  if (!create)
    return NULL;
  memset(victim, 0, sizeof *victim);
  strcpy(victim->host, host);
  return victim;
}

int64_t tally_guard_wait(tally_guard *g, const char *peer, int64_t now) {
  char host[48];
  tally_address_sender(peer, host, sizeof host);
  slot *s = find(g, host, 0);
  if (s == NULL || now >= s->since + TALLY_GUARD_WINDOW_S)
    return 0;
  return s->failures >= TALLY_GUARD_LIMIT ? s->since + TALLY_GUARD_WINDOW_S - now
                                          : 0;
}

unsigned tally_guard_clear(tally_guard *g, const char *sender) {
  char host[48], peer[80];
  /* An address as typed: counted as its sender is (an IPv6 one, by its
   * /64). */
  if (strchr(sender, ':') && !strchr(sender, '/'))
    snprintf(peer, sizeof peer, "[%s]:0", sender);
  else if (!strchr(sender, '/'))
    snprintf(peer, sizeof peer, "%s:0", sender);
  else
    snprintf(peer, sizeof peer, "%s", sender);
  tally_address_sender(peer, host, sizeof host);
  slot *s = find(g, host, 0);
  if (s == NULL)
    return 0;
  unsigned failures = s->failures;
  memset(s, 0, sizeof *s);
  return failures;
}

void tally_guard_each_locked(const tally_guard *g, int64_t now,
                             void (*fn)(void *arg, const char *sender,
                                        unsigned failures, int64_t until),
                             void *arg) {
  for (size_t i = 0; i < SLOTS; i++) {
    const slot *s = &g->slots[i];
    if (s->host[0] && s->failures >= TALLY_GUARD_LIMIT &&
        now < s->since + TALLY_GUARD_WINDOW_S)
      fn(arg, s->host, s->failures, s->since + TALLY_GUARD_WINDOW_S);
  }
}

void tally_guard_fail(tally_guard *g, const char *peer, int64_t now) {
  char host[48];
  tally_address_sender(peer, host, sizeof host);
  slot *s = find(g, host, 1);
  if (now >= s->since + TALLY_GUARD_WINDOW_S) {
    s->since = now;
    s->failures = 0;
  }
  s->failures++;
}
