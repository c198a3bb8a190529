/* test_address.c: HOST:PORT text and address kinds (common/address.c). */
#include "address.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>

Test(address, split_takes_the_last_colon_and_drops_the_brackets) {
  char host[64];
  int port;
  cr_assert_eq(tally_address_split("127.0.0.1:7300", host, sizeof host, &port), 0);
  cr_assert_str_eq(host, "127.0.0.1");
  cr_assert_eq(port, 7300);
  cr_assert_eq(tally_address_split("[::1]:0", host, sizeof host, &port), 0);
  cr_assert_str_eq(host, "::1");
  cr_assert_eq(port, 0);
  cr_assert_eq(tally_address_split("tally.example:65535", host, sizeof host,
                                   &port), 0);
  cr_assert_str_eq(host, "tally.example");
}

Test(address, split_refuses_what_is_not_host_colon_port) {
  static const char *const bad[] = {"7300",        "host:",     ":7300",
                                    "host:73a0",   "host:-1",   "host:65536",
                                    "host:+7300",  "[::1:7300", "[]:7300",
                                    "host:999999999999"};
  char host[8];
  int port;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_expect_eq(tally_address_split(bad[i], host, sizeof host, &port), -EINVAL,
                 "%s", bad[i]);
  cr_expect_eq(tally_address_split("a-long-host:1", host, sizeof host, &port),
               -EINVAL, "a host longer than the buffer");
}

Test(address, parse_reads_numeric_addresses_and_localhost) {
  struct sockaddr_storage ss;
  cr_assert_eq(tally_address_parse("localhost:7300", &ss), 0);
  const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
  cr_assert_eq(ss.ss_family, AF_INET);
  cr_assert_eq(ntohs(a->sin_port), 7300);
  cr_assert_eq(ntohl(a->sin_addr.s_addr), 0x7f000001u);
  cr_assert_eq(tally_address_parse("[2001:db8::1]:80", &ss), 0);
  cr_assert_eq(ss.ss_family, AF_INET6);
  cr_assert_eq(ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port), 80);
  cr_expect_eq(tally_address_parse("tally.example:7300", &ss), -EINVAL);
  cr_expect_eq(tally_address_parse("::1:7300", &ss), -EINVAL,
               "IPv6 without brackets");
  cr_expect_eq(tally_address_parse("[127.0.0.1]:7300", &ss), -EINVAL);
}

Test(address, loopback_is_127_8_and_colon_colon_1_also_v4_mapped) {
  static const struct {
    const char *text;
    int loopback;
  } cases[] = {{"127.0.0.1:1", 1},    {"127.255.0.9:1", 1},
               {"128.0.0.1:1", 0},    {"10.0.0.1:1", 0},
               {"[::1]:1", 1},        {"[::ffff:127.0.0.2]:1", 1},
               {"[::ffff:10.0.0.1]:1", 0}, {"[::2]:1", 0}};
  struct sockaddr_storage ss;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cr_assert_eq(tally_address_parse(cases[i].text, &ss), 0, "%s",
                 cases[i].text);
    cr_expect_eq(tally_address_is_loopback((struct sockaddr *)&ss),
                 cases[i].loopback, "%s", cases[i].text);
  }
}

Test(address, an_ip_is_told_from_a_name) {
  cr_expect(tally_address_is_ip("10.1.2.3"));
  cr_expect(tally_address_is_ip("fe80::1"));
  cr_expect_not(tally_address_is_ip("localhost"));
  cr_expect_not(tally_address_is_ip("10.1.2"));
  cr_expect_not(tally_address_is_ip("[::1]"));
}

Test(address, a_sender_is_an_ipv4_address_or_an_ipv6_64) {
  static const struct {
    const char *peer, *who;
  } cases[] = {
      {"10.1.2.3:4000", "10.1.2.3"},
      {"[::ffff:10.1.2.3]:4000", "10.1.2.3"},
      {"[::ffff:127.0.0.1]:1", "127.0.0.1"},
      {"[2001:db8:1:2:3:4:5:6]:80", "2001:db8:1:2::/64"},
      {"[::1]:7300", "::/64"},
      {"[fe80::1%lo]:7300", "fe80::1%lo"},
      {"not an address", "not an address"},
  };
  char who[48];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tally_address_sender(cases[i].peer, who, sizeof who);
    cr_expect_str_eq(who, cases[i].who, "%s", cases[i].peer);
  }
}
