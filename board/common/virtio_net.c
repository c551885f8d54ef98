// virtio-net driver; see virtio_net.h. Each RX and TX buffer is one descriptor holding
// the virtio-net header followed by the frame: QEMU accepts any layout, and one
// descriptor per frame keeps both rings full-sized.
#include <string.h>
#include "virtio_net.h"

#define RXQ 0
#define TXQ 1

// VERSION_1 always carries num_buffers; legacy only with MRG_RXBUF, which we don't take
// (every RX buffer holds a whole frame).
#define HDR_LEGACY 10
#define HDR_MODERN 12

static int rx_post(virtio_net_t *n, uint16_t i) {
    virtq_buf_t b = { n->rx_bufs + (size_t)i * VIRTIO_NET_BUF_SIZE, VIRTIO_NET_BUF_SIZE, 1 };
    return virtq_add(&n->rx, &b, 1, (void *)(uintptr_t)(i + 1));
}

int virtio_net_init(virtio_net_t *n, virtio_dev_t *d) {
    memset(n, 0, sizeof(*n));
    n->dev = d;
    // No checksum or segmentation offload: QEMU's user network has no vnet header, so
    // it would never offer them anyway, and lwIP fills in every checksum itself.
    if (virtio_negotiate(d, 1ull << VIRTIO_NET_F_MAC, 0) != 0) {
        return -1;
    }
    n->hdr_len = d->modern ? HDR_MODERN : HDR_LEGACY;
    if (virtq_init(d, &n->rx, RXQ, VIRTIO_NET_QUEUE_MAX) != 0
        || virtq_init(d, &n->tx, TXQ, VIRTIO_NET_QUEUE_MAX) != 0) {
        virtio_fail(d);
        return -1;
    }
    n->rx_bufs = virtio_dma_alloc((size_t)n->rx.size * VIRTIO_NET_BUF_SIZE, 64);
    n->tx_bufs = virtio_dma_alloc((size_t)n->tx.size * VIRTIO_NET_BUF_SIZE, 64);
    n->tx_free = virtio_dma_alloc(sizeof(uint16_t) * n->tx.size, 8);
    if (!n->rx_bufs || !n->tx_bufs || !n->tx_free) {
        virtio_fail(d);
        return -1;
    }
    for (uint16_t i = 0; i < n->tx.size; i++) {
        n->tx_free[n->tx_free_n++] = i;
    }
    if (d->features & (1ull << VIRTIO_NET_F_MAC)) {
        for (int i = 0; i < 6; i++) {
            n->mac[i] = d->ops->config_read8(d, i);
        }
    } else {
        // Locally administered, fixed: good enough for the one NIC QEMU gives us.
        static const uint8_t fallback[6] = { 0x02, 0x03, 0x53, 0x00, 0x00, 0x01 };
        memcpy(n->mac, fallback, 6);
    }
    for (uint16_t i = 0; i < n->rx.size; i++) {
        rx_post(n, i);
    }
    virtio_driver_ok(d);
    virtq_kick(&n->rx);
    return 0;
}

const uint8_t *virtio_net_rx_next(virtio_net_t *n, size_t *len, void **token) {
    uint32_t used_len;
    for (;;) {
        void *cookie = virtq_get(&n->rx, &used_len);
        if (!cookie) {
            return NULL;
        }
        uint16_t i = (uint16_t)((uintptr_t)cookie - 1);
        if (used_len <= n->hdr_len || used_len > VIRTIO_NET_BUF_SIZE) {
            n->rx_errors++;         // runt or impossible length: recycle silently
            rx_post(n, i);
            continue;
        }
        n->rx_frames++;
        *token = cookie;
        *len = used_len - n->hdr_len;
        return n->rx_bufs + (size_t)i * VIRTIO_NET_BUF_SIZE + n->hdr_len;
    }
}

void virtio_net_rx_release(virtio_net_t *n, void *token) {
    rx_post(n, (uint16_t)((uintptr_t)token - 1));
}

static void tx_reclaim(virtio_net_t *n) {
    void *cookie;
    while ((cookie = virtq_get(&n->tx, NULL)) != NULL) {
        n->tx_free[n->tx_free_n++] = (uint16_t)((uintptr_t)cookie - 1);
    }
}

uint8_t *virtio_net_tx_alloc(virtio_net_t *n) {
    if (!n->tx_free_n) {
        tx_reclaim(n);
        if (!n->tx_free_n) {
            n->tx_full++;
            return NULL;
        }
    }
    uint16_t i = n->tx_free[--n->tx_free_n];
    uint8_t *buf = n->tx_bufs + (size_t)i * VIRTIO_NET_BUF_SIZE;
    memset(buf, 0, n->hdr_len);     // no offloads requested: an all-zero header
    return buf + n->hdr_len;
}

void virtio_net_tx_send(virtio_net_t *n, uint8_t *frame, size_t len) {
    uint8_t *buf = frame - n->hdr_len;
    uint16_t i = (uint16_t)((size_t)(buf - n->tx_bufs) / VIRTIO_NET_BUF_SIZE);
    virtq_buf_t b = { buf, (uint32_t)(n->hdr_len + len), 0 };
    virtq_add(&n->tx, &b, 1, (void *)(uintptr_t)(i + 1));   // a buffer always has a slot
    virtq_kick(&n->tx);
    n->tx_frames++;
}

int virtio_net_service(virtio_net_t *n) {
    n->dev->ops->ack_irq(n->dev);
    virtq_kick(&n->rx);
    tx_reclaim(n);
    return virtq_has_used(&n->rx);
}
