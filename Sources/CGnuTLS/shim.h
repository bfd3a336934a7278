#ifndef VCSA_CGNUTLS_SHIM_H
#define VCSA_CGNUTLS_SHIM_H
// GnuTLS, which libmicrohttpd serves HTTPS with: the server certificate is chosen per handshake
// (so a replaced certificate is served without a restart) and client certificates are checked here.
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>
// gnutls_hash_fast: SHA-256 for the basic-auth cache keys and the admin token compare.
#include <gnutls/crypto.h>

/// gnutls_free is a function pointer variable, which Swift 6 will not read without a lock.
static inline void vcsa_gnutls_free(void *pointer) {
    gnutls_free(pointer);
}
#endif
