// virtio-net <-> lwIP: one Ethernet netif per NIC (up to two), whose output copies into a
// virtio TX buffer and whose input copies each received frame into a pool pbuf (so the RX
// ring is refilled at once, however long TCP holds the data). Also lwIP's platform hooks: time, random,
// diagnostics, checksum.
#include <stdarg.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "board.h"
#include "netif_glue.h"

#define RX_BUDGET 128               // frames per poll: bounded so timers and Python still run

// One slot per NIC, in discovery order: 0 is the user-facing one (DHCP or --ip, the
// default route), 1 the cluster network (static, no gateway). lwIP picks the outgoing
// netif by address/netmask, so peers on the cluster subnet are reached through slot 1.
typedef struct {
    struct netif eth;
    virtio_net_t *nic;
    int dhcp_on;
    uint64_t rx_dropped, tx_dropped;
} slot_t;

static slot_t slots[O3S_NET_MAX];
static int attached, in_poll, lwip_started;

// --- platform hooks --------------------------------------------------------------------

u32_t sys_now(void) {
    return (u32_t)(board_ticks_us() / 1000);
}

uint32_t o3s_lwip_rand(void) {
    // xorshift64*, seeded from the cycle counter at first use: ports, ISNs and DHCP xids
    // need only to differ between boots, not to be secret.
    static uint64_t s;
    if (!s) {
        s = board_ticks_us() * 0x9e3779b97f4a7c15ull ^ (uintptr_t)&s;
        s |= 1;
    }
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return (uint32_t)((s * 0x2545f4914f6cdd1dull) >> 32);
}

void o3s_lwip_diag(const char *fmt, ...) {
    // Only compiled-in asserts and debug paths print; the format is enough to find them.
    board_console_write("DEBUG lwip: ", 12);
    board_console_write(fmt, strlen(fmt));
}

void o3s_lwip_assert(const char *msg, const char *file, int line) {
    (void)line;
    board_console_write("FATAL lwip assertion: ", 22);
    board_console_write(msg, strlen(msg));
    board_console_write(" in ", 4);
    board_console_write(file, strlen(file));
    board_console_write("\r\n", 2);
    board_poweroff(70);
}

uint16_t o3s_lwip_chksum(const void *data, int len) {
    // Sum 64-bit little-endian words as 32-bit halves; since 2^16 = 1 (mod 0xffff) the
    // folded result equals the 16-bit one's-complement sum lwIP expects (host order,
    // not inverted), odd start address included, as words pair from the first byte.
    const uint8_t *p = data;
    uint64_t sum = 0;
    while (len >= 32) {
        uint64_t a, b, c, d;
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        memcpy(&c, p + 16, 8);
        memcpy(&d, p + 24, 8);
        sum += (a & 0xffffffff) + (a >> 32) + (b & 0xffffffff) + (b >> 32)
            + (c & 0xffffffff) + (c >> 32) + (d & 0xffffffff) + (d >> 32);
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        uint64_t a;
        memcpy(&a, p, 8);
        sum += (a & 0xffffffff) + (a >> 32);
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    for (int i = 0; i < len; i++) {
        tail |= (uint64_t)p[i] << (8 * i);
    }
    sum += (tail & 0xffffffff) + (tail >> 32);
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

// --- the netif -----------------------------------------------------------------------

static err_t eth_output(struct netif *netif, struct pbuf *p) {
    slot_t *sl = netif->state;
    virtio_net_t *nic = sl->nic;
    if (p->tot_len > VIRTIO_NET_FRAME_MAX) {
        sl->tx_dropped++;
        return ERR_IF;
    }
    uint8_t *buf = virtio_net_tx_alloc(nic);
    if (!buf) {
        // QEMU drains TX quickly; wait a little rather than drop an ACK or a SYN-ACK.
        uint64_t until = board_ticks_us() + 2000;
        while (!buf && board_ticks_us() < until) {
            virtio_net_service(nic);
            buf = virtio_net_tx_alloc(nic);
        }
        if (!buf) {
            sl->tx_dropped++;
            return ERR_MEM;
        }
    }
    pbuf_copy_partial(p, buf, p->tot_len, 0);
    virtio_net_tx_send(nic, buf, p->tot_len);
    return ERR_OK;
}

// One console line in o3s/console.py's format ("<uptime> LEVEL component: message").
static void log_line(const char *level, const char *msg) {
    char stamp[24];
    uint64_t ms = board_ticks_us() / 1000;
    uint64_t s = ms / 1000;
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + s % 10);
        s /= 10;
    } while (s);
    int p = 0;
    for (int pad = 6 - n; pad > 0; pad--) {
        stamp[p++] = ' ';
    }
    while (n) {
        stamp[p++] = digits[--n];
    }
    stamp[p++] = '.';
    stamp[p++] = (char)('0' + ms % 1000 / 100);
    stamp[p++] = (char)('0' + ms % 100 / 10);
    stamp[p++] = (char)('0' + ms % 10);
    stamp[p++] = ' ';
    board_console_write(stamp, p);
    board_console_write(level, strlen(level));
    board_console_write("net: ", 5);
    board_console_write(msg, strlen(msg));
    board_console_write("\r\n", 2);
}

static int prefix_len(uint32_t mask_net_order) {
    uint32_t m = lwip_htonl(mask_net_order);
    int n = 0;
    while (m & 0x80000000u) {
        n++;
        m <<= 1;
    }
    return n;
}

// DHCP's outcome is the driver's event: logged here, so it is seen whatever Python does.
static void on_status(struct netif *netif) {
    slot_t *sl = netif->state;
    virtio_net_t *nic = sl->nic;
    if (!sl->dhcp_on) {
        return;                     // static addresses are in the boot banner already
    }
    char msg[160], ip[16], gw[16];
    if (ip4_addr_isany_val(*netif_ip4_addr(netif))) {
        log_line("WARN  ", "dhcp lease lost; asking again");
        return;
    }
    ip4addr_ntoa_r(netif_ip4_addr(netif), ip, sizeof(ip));
    ip4addr_ntoa_r(netif_ip4_gw(netif), gw, sizeof(gw));
    int plen = prefix_len(ip4_addr_get_u32(netif_ip4_netmask(netif)));
    char pl[4] = { (char)('0' + plen / 10), (char)('0' + plen % 10), 0, 0 };
    if (plen < 10) {
        pl[0] = pl[1];
        pl[1] = 0;
    }
    static const char hex[] = "0123456789abcdef";
    char mac[18];
    for (int i = 0; i < 6; i++) {
        mac[i * 3] = hex[nic->mac[i] >> 4];
        mac[i * 3 + 1] = hex[nic->mac[i] & 15];
        mac[i * 3 + 2] = i < 5 ? ':' : 0;
    }
    msg[0] = 0;
    strcat(msg, "dhcp lease ");
    strcat(msg, ip);
    strcat(msg, "/");
    strcat(msg, pl);
    strcat(msg, " gateway ");
    strcat(msg, gw);
    strcat(msg, " (virtio-net ");
    strcat(msg, nic->dev->transport_name);
    strcat(msg, ", mac ");
    strcat(msg, mac);
    strcat(msg, ")");
    log_line("INFO  ", msg);
}

static err_t eth_init(struct netif *netif) {
    virtio_net_t *nic = ((slot_t *)netif->state)->nic;
    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->output = etharp_output;
    netif->linkoutput = eth_output;
    netif->mtu = 1500;
    netif->hwaddr_len = 6;
    memcpy(netif->hwaddr, nic->mac, 6);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    #if LWIP_NETIF_HOSTNAME
    netif->hostname = "o3storage";
    #endif
    return ERR_OK;
}

int o3s_net_attach(virtio_net_t *n) {
    if (attached == O3S_NET_MAX) {
        return 1;
    }
    if (!lwip_started) {
        lwip_init();
        lwip_started = 1;
    }
    slot_t *sl = &slots[attached];
    sl->nic = n;
    if (!netif_add(&sl->eth, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, sl, eth_init, ethernet_input)) {
        return -1;
    }
    netif_set_status_callback(&sl->eth, on_status);
    if (attached == 0) {
        // The user-facing NIC: default route, up at once (DHCP needs it up to ask).
        netif_set_default(&sl->eth);
        netif_set_up(&sl->eth);
    }
    // The cluster NIC stays down until o3s_net_configure() gives it an address.
    attached++;
    return 0;
}

int o3s_net_present(void) {
    return attached;
}

struct netif *o3s_net_netif(int ifn) {
    return ifn >= 0 && ifn < attached ? &slots[ifn].eth : NULL;
}

static int poll_slot(slot_t *sl) {
    virtio_net_t *nic = sl->nic;
    int work = 0;
    virtio_net_service(nic);
    for (int i = 0; i < RX_BUDGET; i++) {
        size_t len;
        void *token;
        const uint8_t *frame = virtio_net_rx_next(nic, &len, &token);
        if (!frame) {
            break;
        }
        work = 1;
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
        if (p) {
            pbuf_take(p, frame, (u16_t)len);
        }
        virtio_net_rx_release(nic, token);
        if (!p) {
            sl->rx_dropped++;       // pool empty: TCP will resend once Python catches up
            continue;
        }
        if (sl->eth.input(p, &sl->eth) != ERR_OK) {
            pbuf_free(p);
        }
    }
    virtio_net_service(nic);        // hand the released RX buffers back to the device
    return work;
}

int o3s_net_poll(void) {
    if (!attached || in_poll) {
        return 0;
    }
    in_poll = 1;
    int work = 0;
    for (int k = 0; k < attached; k++) {
        work |= poll_slot(&slots[k]);
    }
    #if LWIP_NETIF_LOOPBACK
    netif_poll_all();               // deliver what was sent to ourselves
    #endif
    sys_check_timeouts();
    in_poll = 0;
    return work;
}

void o3s_net_configure(int ifn, uint32_t ip, uint32_t netmask, uint32_t gateway) {
    if (ifn < 0 || ifn >= attached) {
        return;
    }
    slot_t *sl = &slots[ifn];
    if (sl->dhcp_on) {
        dhcp_release_and_stop(&sl->eth);
        sl->dhcp_on = 0;
    }
    ip4_addr_t a, m, g;
    ip4_addr_set_u32(&a, ip);
    ip4_addr_set_u32(&m, netmask);
    ip4_addr_set_u32(&g, gateway);
    netif_set_addr(&sl->eth, &a, &m, &g);
    if (ip) {
        netif_set_up(&sl->eth);
    } else if (ifn > 0) {
        netif_set_down(&sl->eth);   // 0.0.0.0 on the cluster NIC: take it down again
    }
}

int o3s_net_dhcp_start(void) {
    if (!attached) {
        return -1;
    }
    if (dhcp_start(&slots[0].eth) != ERR_OK) {
        return -1;
    }
    slots[0].dhcp_on = 1;
    return 0;
}

int o3s_net_info(int ifn, o3s_net_info_t *out) {
    memset(out, 0, sizeof(*out));
    if (ifn < 0 || ifn >= attached) {
        return -1;
    }
    slot_t *sl = &slots[ifn];
    virtio_net_t *nic = sl->nic;
    out->ip = ip4_addr_get_u32(netif_ip4_addr(&sl->eth));
    out->netmask = ip4_addr_get_u32(netif_ip4_netmask(&sl->eth));
    out->gateway = ip4_addr_get_u32(netif_ip4_gw(&sl->eth));
    memcpy(out->mac, nic->mac, 6);
    out->up = out->ip != 0;
    out->dhcp = sl->dhcp_on ? (dhcp_supplied_address(&sl->eth) ? 2 : 1) : 0;
    out->transport = nic->dev->transport_name;
    out->rx_frames = nic->rx_frames;
    out->tx_frames = nic->tx_frames;
    out->rx_dropped = sl->rx_dropped + nic->rx_errors;
    out->tx_dropped = sl->tx_dropped;
    return 0;
}
