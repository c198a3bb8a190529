/* address.c: "HOST:PORT" text, and what kind of address a host is. */
#include "address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int tally_address_split(const char *text, char *host, size_t hn, int *port) {
  const char *colon = strrchr(text, ':');
  size_t hl;
  long p = 0;

  if (colon == NULL || colon[1] == 0)
    return -EINVAL;
  for (const char *d = colon + 1; *d; d++) {
    if (*d < '0' || *d > '9' || p > 65535)
      return -EINVAL;
    p = p * 10 + (*d - '0');
  }
  if (p > 65535)
    return -EINVAL;
  hl = (size_t)(colon - text);
  if (hl > 0 && text[0] == '[') {
    if (hl < 2 || text[hl - 1] != ']')
      return -EINVAL;
    text++;
    hl -= 2;
  }
  if (hl == 0 || hl >= hn)
    return -EINVAL;
  memcpy(host, text, hl);
  host[hl] = 0;
  *port = (int)p;
  return 0;
}

int tally_address_parse(const char *text, struct sockaddr_storage *ss) {
  char host[128];
  int port;

  if (tally_address_split(text, host, sizeof host, &port) != 0)
    return -EINVAL;
  memset(ss, 0, sizeof *ss);
  if (text[0] == '[') {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    char *zone = strchr(host, '%');
    if (zone) {
      *zone++ = 0;
      a->sin6_scope_id = if_nametoindex(zone); /* 0 when there is none */
    }
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    return inet_pton(AF_INET6, host, &a->sin6_addr) == 1 ? 0 : -EINVAL;
  }
  struct sockaddr_in *a = (struct sockaddr_in *)ss;
  a->sin_family = AF_INET;
  a->sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host,
                   &a->sin_addr) == 1
             ? 0
             : -EINVAL;
}

int tally_address_is_loopback(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
  }
  if (sa->sa_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) ||
           (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
  }
  return 0;
}

int tally_address_is_ip(const char *name) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, name, buf) == 1 ||
         inet_pton(AF_INET6, name, buf) == 1;
}

void tally_address_sender(const char *peer, char *who, size_t n) {
  char host[INET6_ADDRSTRLEN + 8];
  struct in6_addr a;
  int port;

  if (tally_address_split(peer, host, sizeof host, &port) != 0) {
    snprintf(who, n, "%s", peer);
    return;
  }
  if (inet_pton(AF_INET6, host, &a) != 1) {
    snprintf(who, n, "%s", host); /* IPv4, or a name */
    return;
  }
  if (IN6_IS_ADDR_V4MAPPED(&a)) {
    char v4[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, a.s6_addr + 12, v4, sizeof v4);
    snprintf(who, n, "%s", v4);
    return;
  }
  memset(a.s6_addr + 8, 0, 8);
  inet_ntop(AF_INET6, &a, host, sizeof host);
  snprintf(who, n, "%s/64", host);
}

void tally_address_format(const struct sockaddr_storage *ss, char *buf,
                          size_t n) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    snprintf(buf, n, "%s:%d", host, ntohs(a->sin_port));
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    snprintf(buf, n, "[%s]:%d", host, ntohs(a->sin6_port));
  } else {
    snprintf(buf, n, "?");
  }
}
