/* net/arch/cc.h — lwIP's compiler/platform glue for the freestanding kernel. */
#ifndef KILN_LWIP_ARCH_CC_H
#define KILN_LWIP_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>

/* No <inttypes.h> or <ctype.h> in a freestanding build: give lwIP the formats directly. */
#define LWIP_NO_INTTYPES_H 1
#define X8_F "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"
#define LWIP_NO_CTYPE_H 1
#define LWIP_NO_UNISTD_H 1

#define BYTE_ORDER LITTLE_ENDIAN
#define LWIP_ERR_T int

/* Diagnostics go to the kernel console; a failed assertion is a broken invariant: panic. */
void kiln_net_diag(const char *fmt, ...);
_Noreturn void kiln_net_assert(const char *msg, const char *file, int line);
#define LWIP_PLATFORM_DIAG(x) do { kiln_net_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) kiln_net_assert((x), __FILE__, __LINE__)

/* lwIP's byte swaps through the compiler's builtins. */
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

#endif
