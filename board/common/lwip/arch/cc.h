// lwIP's compiler/platform header for the bare-metal boards (freestanding: no stdio,
// no ctype, no inttypes; diagnostics go to the console).
#ifndef O3S_LWIP_ARCH_CC_H
#define O3S_LWIP_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LWIP_NO_INTTYPES_H  1
#define LWIP_NO_CTYPE_H     1
#define X8_F    "02x"
#define U16_F   "u"
#define S16_F   "d"
#define X16_F   "x"
#define U32_F   "u"
#define S32_F   "d"
#define X32_F   "x"
#define SZT_F   "lu"

#define BYTE_ORDER LITTLE_ENDIAN
// The compiler's byte swap beats lwIP's shifts-and-masks.
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

void o3s_lwip_diag(const char *fmt, ...);
void o3s_lwip_assert(const char *msg, const char *file, int line) __attribute__((noreturn));
uint32_t o3s_lwip_rand(void);

#define LWIP_PLATFORM_DIAG(x)       do { o3s_lwip_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x)     o3s_lwip_assert((x), __FILE__, __LINE__)
#define LWIP_RAND()                 o3s_lwip_rand()

// Our checksum: 64-bit accumulation, ~4x fewer steps than lwIP's 16-bit loop (every
// byte sent or received is summed in software: QEMU's user network has no offload).
#define LWIP_CHKSUM                 o3s_lwip_chksum
uint16_t o3s_lwip_chksum(const void *data, int len);

#endif
