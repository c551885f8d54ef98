# The network stack for bare-metal boards that set BOARD_NET = lwip: lwIP 2.1.3 (IPv4,
# TCP, DHCP; raw API, NO_SYS) from the fetched sources, the virtio-net driver, the netif
# glue and the `_net` module over it. The board adds its virtio transport itself.
# An empty value counts as unset: the top Makefile exports LWIP_DIR even when nobody set it.
ifeq ($(strip $(LWIP_DIR)),)
LWIP_DIR := $(REPO)/deps/src/lwip
endif

# Sources are named relative to LWIP_DIR (objects land in $(BUILD)/src/...).
vpath %.c $(LWIP_DIR)
LWIP_SRC_C = \
	src/core/init.c \
	src/core/def.c \
	src/core/inet_chksum.c \
	src/core/ip.c \
	src/core/mem.c \
	src/core/memp.c \
	src/core/netif.c \
	src/core/pbuf.c \
	src/core/stats.c \
	src/core/sys.c \
	src/core/tcp.c \
	src/core/tcp_in.c \
	src/core/tcp_out.c \
	src/core/timeouts.c \
	src/core/udp.c \
	src/core/ipv4/dhcp.c \
	src/core/ipv4/etharp.c \
	src/core/ipv4/icmp.c \
	src/core/ipv4/ip4.c \
	src/core/ipv4/ip4_addr.c \
	src/core/ipv4/ip4_frag.c \
	src/netif/ethernet.c \
	src/api/err.c \

NET_SRC_C = \
	board/common/virtio_net.c \
	board/common/lwip/netif_glue.c \
	firmware/c/modnet_lwip.c \

BOARD_SRC_C += $(LWIP_SRC_C) $(NET_SRC_C)
BOARD_QSTR_SRC_C += firmware/c/modnet_lwip.c
INC += -I$(REPO)/board/common/lwip -I$(LWIP_DIR)/src/include
BOARD_CFLAGS += -DO3S_NET_LWIP=1

$(LWIP_DIR)/src/core/init.c:
	$(error lwIP is missing at $(LWIP_DIR): run `make deps` (tools/fetch_deps.py))
