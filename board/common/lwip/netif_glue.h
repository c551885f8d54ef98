// The one Ethernet interface: virtio-net joined to lwIP. The board finds the NIC and
// calls o3s_net_attach(); _net (firmware/c/modnet_lwip.c) and the idle loop call
// o3s_net_poll(). Addresses are in network byte order.
#ifndef O3S_NETIF_GLUE_H
#define O3S_NETIF_GLUE_H

#include <stdint.h>
#include "virtio_net.h"

// Start lwIP on this NIC (once; later calls are ignored). 0 on success.
int o3s_net_attach(virtio_net_t *nic);
int o3s_net_present(void);

// Receive waiting frames, run lwIP's timers. Returns nonzero if anything happened, so an
// idle loop knows not to sleep yet. Safe to call from anywhere but lwIP callbacks.
int o3s_net_poll(void);

// The board's hook around o3s_net_poll() (board_idle() calls it before sleeping).
int board_net_poll(void);

// Static address (gw 0: none), or DHCP.
void o3s_net_configure(uint32_t ip, uint32_t netmask, uint32_t gateway);
int o3s_net_dhcp_start(void);

typedef struct {
    uint32_t ip, netmask, gateway;  // 0.0.0.0 until configured / leased
    uint8_t mac[6];
    int up;                         // an address is set
    int dhcp;                       // 0 static, 1 DHCP in progress, 2 DHCP bound
    const char *transport;          // "mmio", "mmio-legacy", ...
    uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped;
} o3s_net_info_t;

void o3s_net_info(o3s_net_info_t *out);

// The netif, for the raw-API user (bind to its address, etc.); NULL if none.
struct netif *o3s_net_netif(void);

#endif
