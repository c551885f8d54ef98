// mbedTLS build configuration for the firmware (MBEDTLS_CONFIG_FILE, see firmware/c/hash.mk).
// Only the digests `_hash` needs; HMAC is done in modhash.c over the digest contexts,
// so md.c (and its heap allocations) stay out. TLS, when it comes, grows this file.
#ifndef O3S_MBEDTLS_CONFIG_H
#define O3S_MBEDTLS_CONFIG_H

#define MBEDTLS_SHA256_C
#define MBEDTLS_MD5_C
#define MBEDTLS_SHA1_C

// No stdio/stdlib/time from mbedTLS headers: the bare-metal boards have no FILE or calloc.
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
// Only the *_ret functions exist: the void ones hide errors.
#define MBEDTLS_DEPRECATED_REMOVED

#include "mbedtls/check_config.h"

#endif
