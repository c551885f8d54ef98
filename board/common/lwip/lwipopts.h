// lwIP 2.1.3 configuration for O3Storage: IPv4, TCP, DHCP over one Ethernet NIC, raw API
// only, polled from the main loop (NO_SYS). Sized for S3 object traffic with ~100
// concurrent clients on a machine with hundreds of MB of RAM.
#ifndef O3S_LWIPOPTS_H
#define O3S_LWIPOPTS_H

// --- system: no threads, no OS; the main loop calls sys_check_timeouts() ---
#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0       // never called from an interrupt
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0
#define LWIP_NETIF_API              0

// --- protocols ---
#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_ICMP                   1       // answer ping: the first thing an operator tries
#define LWIP_RAW                    0
#define LWIP_UDP                    1       // DHCP needs it
#define LWIP_TCP                    1
#define LWIP_DHCP                   1
#define DHCP_DOES_ARP_CHECK         0       // saves ~1 s at boot; QEMU's DHCP server never hands out duplicates
#define LWIP_DNS                    0
#define LWIP_IGMP                   0
#define LWIP_AUTOIP                 0
#define IP_REASSEMBLY               1       // cheap; big UDP never comes our way, but be correct
#define IP_FRAG                     0       // TCP never sends more than the MTU
#define ARP_TABLE_SIZE              32      // a cluster is a handful of peers plus the gateway
#define ARP_QUEUEING                1

// --- memory: lwIP's own heap and pools, statically allocated in BSS ---
#define MEM_LIBC_MALLOC             0
#define MEMP_MEM_MALLOC             0
#define MEM_ALIGNMENT               8
// The heap holds PBUF_RAM: data copied by tcp_write (TCP_WRITE_FLAG_COPY) until acked.
// 100 connections each with a full 64 KB send buffer is 6.4 MB; 8 MB covers that plus
// the headers of every segment, and is still under 2 % of a 512 MB machine.
#define MEM_SIZE                    (8 * 1024 * 1024)
// Received frames land in pool pbufs of one full frame each (one pbuf per segment keeps
// the per-byte cost to one copy). 2048 frames = ~3 MB: a 64 KB window for ~45
// connections receiving at once, more than the NIC's RX ring can deliver between polls.
#define PBUF_POOL_SIZE              2048
#define PBUF_POOL_BUFSIZE           1536    // 1514-byte frame + headroom, 8-byte aligned
#define MEMP_NUM_PBUF               256     // PBUF_REF/ROM: only for zero-copy sends
// One per _net handle (NET_MAX 256): 100 concurrent clients, peers, and closed
// connections lingering in TIME_WAIT
// (lwIP reuses the oldest TIME_WAIT pcb when it runs out, so this is not a hard cap).
#define MEMP_NUM_TCP_PCB            256
#define MEMP_NUM_TCP_PCB_LISTEN     8       // S3 port, Raft port, a spare or two
#define MEMP_NUM_UDP_PCB            4       // DHCP
// Segments on the unsent/unacked queues of all connections: TCP_SND_QUEUELEN each for the
// busy ones, plus out-of-sequence segments held for reassembly.
#define MEMP_NUM_TCP_SEG            4096
#define MEMP_NUM_REASSDATA          8
#define MEMP_NUM_ARP_QUEUE          32

// --- TCP ---
#define TCP_MSS                     1460    // 1500-byte Ethernet MTU minus IP and TCP headers
// 44 segments: the largest whole number of MSS under 64 KB, so no window scaling is
// needed and a single bulk transfer isn't window-bound on a LAN (BDP ~ 1.25 MB/s per ms).
// `tools/bench_net.py --window-sweep` builds the firmware with other sizes
// (-DO3S_TCP_WND_MSS=N) and prints MB/s for each (docs/bench.md has the figures).
#ifndef O3S_TCP_WND_MSS
#define O3S_TCP_WND_MSS             44
#endif
#define TCP_WND                     (O3S_TCP_WND_MSS * TCP_MSS)
// Same size for sending: a GET of a large object keeps a full window in flight while
// Python produces the next chunk.
#define TCP_SND_BUF                 (O3S_TCP_WND_MSS * TCP_MSS)
// Each tcp_write of a Python chunk may be split into several segments; room for 4 per MSS.
#define TCP_SND_QUEUELEN            (4 * TCP_SND_BUF / TCP_MSS)
// Let the sender know about reclaimed window after a quarter of it, not after 4 MSS
// only: fewer pure ACKs, which each cost a frame in TCG.
#define TCP_WND_UPDATE_THRESHOLD    (TCP_WND / 4)
#define TCP_QUEUE_OOSEQ             1       // keep out-of-order segments: avoids resending a window
#define TCP_OVERSIZE                TCP_MSS // tcp_write fills whole segments when data is copied
#define LWIP_TCP_SACK_OUT           1       // tell the sender what we hold: fast recovery
#define TCP_LISTEN_BACKLOG          1       // the listener's backlog counts pending accepts
#define TCP_DEFAULT_LISTEN_BACKLOG  128     // a burst of 100 connects waits for accept()
#define LWIP_TCP_KEEPALIVE          1       // the keepalive option, for peers that vanish
#define SO_REUSE                    1       // rebind the port at once after a restart (TIME_WAIT)
#define LWIP_TCP_TIMESTAMPS         0

// --- netif ---
#define LWIP_SINGLE_NETIF           0
#define LWIP_NETIF_STATUS_CALLBACK  1       // logs the DHCP lease when it arrives or changes
#define LWIP_NETIF_LINK_CALLBACK    0
#define LWIP_NETIF_HOSTNAME         1       // DHCP tells QEMU / the LAN's server our name
#define LWIP_NUM_NETIF_CLIENT_DATA  0
#define ETH_PAD_SIZE                0
// 127.0.0.1 and our own address work (a node talking to itself; the _net contract tests
// run over it). NO_SYS: looped packets wait for netif_poll_all() in o3s_net_poll().
#define LWIP_HAVE_LOOPIF            1
#define LWIP_NETIF_LOOPBACK         1

// --- checksums: all in software (see arch/cc.h for the fast routine) ---
#define CHECKSUM_GEN_IP             1
#define CHECKSUM_GEN_TCP            1
#define CHECKSUM_GEN_UDP            1
#define CHECKSUM_CHECK_IP           1
#define CHECKSUM_CHECK_TCP          1
#define CHECKSUM_CHECK_UDP          1

// --- no statistics or debug output in the image ---
#define LWIP_STATS                  0
#define LWIP_DEBUG                  0
#define LWIP_PERF                   0

#endif
