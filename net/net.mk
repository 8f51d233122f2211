# net/: lwIP (from build/lwip, never copied into the repo) built freestanding for the kernel,
# plus Kiln's port: the netif over virtio-net, timers, address configuration and the socket layer.
LWIP_DIR := $(B)/lwip/src
NET_CFLAGS := -Inet -Inet/libc -I$(LWIP_DIR)/include
LWIP_SRCS := $(addprefix core/, init.c def.c inet_chksum.c ip.c mem.c memp.c netif.c pbuf.c stats.c \
  tcp.c tcp_in.c tcp_out.c timeouts.c udp.c) \
  $(addprefix core/ipv4/, dhcp.c etharp.c icmp.c ip4.c ip4_addr.c ip4_frag.c) \
  netif/ethernet.c
LWIP_OBJS := $(addprefix $(B)/k/lwip/, $(LWIP_SRCS:.c=.o))

# lwIP's own sources: its warnings are not ours to fix.
$(B)/k/lwip/%.o: $(LWIP_DIR)/%.c $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) $(NET_CFLAGS) -w -c $< -o $@

NET_OBJS := $(B)/k/net/netif.o $(B)/k/net/ksock.o $(B)/k/net/stats.o $(B)/k/net/metrics.o $(B)/k/net/chksum.o \
  $(B)/k/drivers/pci.o $(B)/k/drivers/virtio.o $(B)/k/drivers/virtio_net.o
# wasi/socket_fd.c is listed by wasi/wasi.mk (every wasi/*.c); it needs our include paths.
$(NET_OBJS) $(B)/k/wasi/socket_fd.o: KERNEL_CFLAGS += $(NET_CFLAGS)

KERNEL_OBJS += $(LWIP_OBJS) $(NET_OBJS)
