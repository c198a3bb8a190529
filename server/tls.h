/* tls.h: the server's TLS, through memory buffers (OpenSSL 3).
 *
 * The server's event loop owns the socket; a session never touches it.
 * Ciphertext read from the socket is fed in, plaintext comes out;
 * plaintext written goes in, and the ciphertext to send is taken out.
 * One tally_tls serves every connection; each connection has a session.
 * The same sessions serve an event-loop client (bench/loadgen.c): a
 * tally_tls made by tally_tls_client_new gives client-side sessions.
 */
#ifndef TALLY_TLS_H
#define TALLY_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct tally_tls tally_tls;
typedef struct tally_tls_session tally_tls_session;

/* The first byte of every TLS connection: a handshake record. */
#define TALLY_TLS_HANDSHAKE_RECORD 0x16

/* Loads a certificate chain (PEM, the server's first) and its private key.
 * Returns 0 and *out (free with tally_tls_free), or TALLY_ETLS / -errno
 * with a message in err that names the file at fault. */
int tally_tls_new(const char *cert_file, const char *key_file, tally_tls **out,
                  char *err, size_t errlen);

/* The client side, for a client on an event loop: trusts only the CA
 * (PEM) in ca_file, not the system's store, and wants a certificate for
 * server_name: its DNS names (no partial wildcards), or its IP addresses
 * when server_name is an address. TLS 1.2 at the least. Its sessions
 * start the handshake: the first tally_tls_session_read makes the
 * ClientHello, to be taken and sent. Returns 0 and *out (free with
 * tally_tls_free), or TALLY_ETLS / -errno / -ENOMEM with a message in
 * err that names the file at fault. */
int tally_tls_client_new(const char *ca_file, const char *server_name,
                         tally_tls **out, char *err, size_t errlen);

void tally_tls_free(tally_tls *t);

/* The end of the server certificate's validity (notAfter), as Unix
 * time; 0 if it cannot be read. */
int64_t tally_tls_not_after(const tally_tls *t);

/* A session for one connection: server-side, or client-side when t was
 * made by tally_tls_client_new. Returns 0 and *out (free with
 * tally_tls_session_free), or -ENOMEM. */
int tally_tls_session_new(tally_tls *t, tally_tls_session **out);

void tally_tls_session_free(tally_tls_session *s);

/* Takes ciphertext read from the peer. Returns 0 or -ENOMEM. */
int tally_tls_session_feed(tally_tls_session *s, const void *bytes, size_t len);

/* Moves the handshake on and decrypts: returns the number of plaintext
 * bytes put in buf (> 0), 0 when nothing more can be had until more
 * ciphertext is fed (or the peer has ended TLS), or TALLY_ETLS when the
 * session failed (tally_tls_session_error says why; the session is then
 * dead, but may have an alert to send). */
ssize_t tally_tls_session_read(tally_tls_session *s, void *buf, size_t len);

/* Encrypts len bytes of plaintext; the handshake must be done. Returns 0
 * or TALLY_ETLS. */
int tally_tls_session_write(tally_tls_session *s, const void *bytes,
                            size_t len);

/* Queues the close_notify alert, when the handshake was done and the
 * session has not failed. */
void tally_tls_session_shutdown(tally_tls_session *s);

/* The number of ciphertext bytes waiting to be sent. */
size_t tally_tls_session_pending(const tally_tls_session *s);

/* Moves up to len bytes of ciphertext to send into buf; returns how many. */
size_t tally_tls_session_take(tally_tls_session *s, void *buf, size_t len);

/* True once the handshake is done. */
int tally_tls_session_ready(const tally_tls_session *s);

/* True once the session has failed. */
int tally_tls_session_failed(const tally_tls_session *s);

/* Why the session failed, e.g. "tlsv1 alert unknown ca" (on a client:
 * "the server's certificate: hostname mismatch" when it did not
 * verify); "" if it has not. Valid until the session is freed. */
const char *tally_tls_session_error(const tally_tls_session *s);

#endif
