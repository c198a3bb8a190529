/* address.h: "HOST:PORT" text, and what kind of address a host is.
 *
 * An address is written "HOST:PORT", or "[HOST6]:PORT" for an IPv6
 * address; PORT is decimal, 0-65535. The client, the server's listener,
 * its sign-in guard and the load generator all read addresses here.
 */
#ifndef TALLY_ADDRESS_H
#define TALLY_ADDRESS_H

#include <stddef.h>
#include <sys/socket.h>

/* Splits text into its host (without the brackets) and port. Returns 0,
 * or -EINVAL when text is not HOST:PORT or its host does not fit in hn
 * bytes. A host is not checked: it may be a name. */
int tally_address_split(const char *text, char *host, size_t hn, int *port);

/* Parses text naming a numeric address: an IPv4 address, "localhost"
 * (taken as 127.0.0.1), or a bracketed IPv6 address, with an optional
 * %zone. Returns 0 and *ss, or -EINVAL. */
int tally_address_parse(const char *text, struct sockaddr_storage *ss);

/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
int tally_address_is_loopback(const struct sockaddr *sa);

/* Who is counted for peer "HOST:PORT" or "[HOST6]:PORT" when senders
 * are counted (failed sign-ins, connections not signed in), into who
 * (n bytes, 48 are enough): the IPv4 address, an IPv4-mapped IPv6
 * address taken as its IPv4 one, or the IPv6 /64 ("2001:db8::/64"; one
 * machine usually has a whole /64). A peer that is not HOST:PORT is
 * taken as it is. */
void tally_address_sender(const char *peer, char *who, size_t n);

/* A socket address as "HOST:PORT" or "[HOST6]:PORT" into buf ("?" for
 * another family). */
void tally_address_format(const struct sockaddr_storage *ss, char *buf,
                          size_t n);

/* True when name is an IPv4 or IPv6 address rather than a host name. */
int tally_address_is_ip(const char *name);

#endif
