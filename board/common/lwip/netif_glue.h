// Up to two Ethernet interfaces: virtio-net joined to lwIP. The board finds the NICs and
// calls o3s_net_attach() for each, in command-line order: interface 0 is the user-facing
// one (DHCP or --ip, default route), interface 1 the cluster network (static). _net (firmware/c/modnet_lwip.c) and the idle loop call
// o3s_net_poll(). Addresses are in network byte order.
#ifndef O3S_NETIF_GLUE_H
#define O3S_NETIF_GLUE_H

#include <stdint.h>
#include "virtio_net.h"

#define O3S_NET_MAX 2

// Join this NIC to lwIP as the next interface. 0 on success, 1 if O3S_NET_MAX are
// attached already (the NIC is left alone), -1 on failure.
int o3s_net_attach(virtio_net_t *nic);
// How many interfaces are attached (0: no NIC).
int o3s_net_present(void);

// Receive waiting frames, run lwIP's timers. Returns nonzero if anything happened, so an
// idle loop knows not to sleep yet. Safe to call from anywhere but lwIP callbacks.
int o3s_net_poll(void);

// The board's hook around o3s_net_poll() (board_idle() calls it before sleeping).
int board_net_poll(void);

// Static address of interface ifn (gw 0: none; ip 0 takes the cluster NIC down), or DHCP
// (interface 0 only).
void o3s_net_configure(int ifn, uint32_t ip, uint32_t netmask, uint32_t gateway);
int o3s_net_dhcp_start(void);

typedef struct {
    uint32_t ip, netmask, gateway;  // 0.0.0.0 until configured / leased
    uint8_t mac[6];
    int up;                         // an address is set
    int dhcp;                       // 0 static, 1 DHCP in progress, 2 DHCP bound
    const char *transport;          // "mmio", "mmio-legacy", ...
    uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped;
} o3s_net_info_t;

// -1 (and zeros) if there is no interface ifn.
int o3s_net_info(int ifn, o3s_net_info_t *out);

// Interface ifn's netif, for the raw-API user (bind to its address, etc.); NULL if none.
struct netif *o3s_net_netif(int ifn);

#endif
