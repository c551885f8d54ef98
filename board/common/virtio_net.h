// virtio-net: Ethernet frames in and out over two virtqueues, polled. Knows nothing of
// any IP stack: the caller copies frames in and out (see lwip/netif_glue.c).
#ifndef O3S_VIRTIO_NET_H
#define O3S_VIRTIO_NET_H

#include "virtio.h"

#define VIRTIO_NET_F_MAC        5
#define VIRTIO_NET_F_STATUS     16

#define VIRTIO_NET_FRAME_MAX    1518        // Ethernet header + 1500 + a VLAN tag
#define VIRTIO_NET_BUF_SIZE     2048        // header + frame, rounded for alignment
#define VIRTIO_NET_QUEUE_MAX    256         // per direction: ~180 full-size TCP windows' worth

typedef struct {
    virtio_dev_t *dev;
    virtq_t rx, tx;
    uint8_t mac[6];
    uint16_t hdr_len;                       // 10 (legacy) or 12 (VERSION_1)
    uint8_t *rx_bufs, *tx_bufs;             // rx.size / tx.size buffers of BUF_SIZE
    uint16_t *tx_free;                      // stack of free TX buffer numbers
    uint16_t tx_free_n;
    uint64_t rx_frames, tx_frames, rx_errors, tx_full;
} virtio_net_t;

// Negotiate, set up both queues, post every RX buffer. 0 on success.
int virtio_net_init(virtio_net_t *n, virtio_dev_t *d);

// The next received frame (header stripped) and its length, or NULL. Give the buffer
// back with virtio_net_rx_release(token) once done with it.
const uint8_t *virtio_net_rx_next(virtio_net_t *n, size_t *len, void **token);
void virtio_net_rx_release(virtio_net_t *n, void *token);

// A free TX buffer to build a frame of up to VIRTIO_NET_FRAME_MAX bytes in, or NULL when
// all are in flight. virtio_net_tx_send() queues it and tells the device.
uint8_t *virtio_net_tx_alloc(virtio_net_t *n);
void virtio_net_tx_send(virtio_net_t *n, uint8_t *frame, size_t len);

// Post released RX buffers, reclaim sent TX buffers, acknowledge the interrupt (the level
// line that wakes the idle loop). Returns 1 if a frame may be waiting.
int virtio_net_service(virtio_net_t *n);

#endif
