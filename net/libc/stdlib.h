/* net/libc/stdlib.h — lwIP's netif.c wants atoi (netif_find by name); nothing else. */
#ifndef KILN_NET_STDLIB_H
#define KILN_NET_STDLIB_H
int atoi(const char *s);
#endif
