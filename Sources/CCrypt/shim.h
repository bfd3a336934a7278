#ifndef VCSA_CCRYPT_SHIM_H
#define VCSA_CCRYPT_SHIM_H
// libxcrypt (Debian's libcrypt), for the web config's bcrypt hashes: crypt_r is reentrant,
// so hashes can run on several threads without a lock around them.
#include <crypt.h>
#endif
