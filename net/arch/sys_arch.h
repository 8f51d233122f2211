/* net/arch/sys_arch.h — NO_SYS: lwIP needs no semaphores, mailboxes or threads. */
#ifndef KILN_LWIP_ARCH_SYS_ARCH_H
#define KILN_LWIP_ARCH_SYS_ARCH_H
#endif
