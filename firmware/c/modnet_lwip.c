// _net for bare-metal boards: non-blocking TCP over lwIP's raw API (NO_SYS=1, polled).
// The contract is firmware/c/net.h, the same as modnet_unix.c's. lwIP callbacks only
// queue (pbufs, pending connections, errors) into a static socket table; Python-facing
// calls consume from it. Nothing here allocates from the GC heap inside a callback.
//
// Beyond net.h, for the bare-metal interface (unix has its own host network):
//   dhcp()  start DHCP on the first NIC (ifconfig() reads 0.0.0.0 until the lease)
//   link()  {"mac", "driver", "dhcp": "off"|"requesting"|"bound", frame counters}
//   ifconfig(1), ifconfig(ip, mask, gw, 1), link(1): the second NIC (the cluster network);
//   link(n) is None when there is no NIC n.
#include <string.h>

#include "py/runtime.h"
#include "py/mperrno.h"
#include "py/mphal.h"

#include "lwip/tcp.h"
#include "lwip/ip4_addr.h"
#include "netif_glue.h"
#include "board.h"
#include "net.h"

#define NET_MAX         (256)           // handles; lwipopts.h has pcbs for them all
#define SLOT_BITS       (12)            // handle = generation << SLOT_BITS | slot (as on unix)
#define NO_SLOT         (0xffff)
#define NET_EADDRNOTAVAIL (99)          // not in py/mperrno.h; Linux's value, as unix reports
// Writable once a useful amount fits: waking for a few bytes costs a Python round trip.
#define SEND_LOW_WATER  (TCP_MSS)

typedef struct {
    struct tcp_pcb *pcb;        // NULL once lwIP freed it (error, or fully closed)
    struct pbuf *rx;            // received, not yet read (a chain; tot_len <= TCP_WND)
    int err;                    // sticky errno once the socket failed
    uint16_t gen;
    uint16_t next_pending;      // accept queue link (connections not yet accepted)
    uint16_t pend_head, pend_tail, pend_n, backlog;   // listeners
    uint8_t used;
    uint8_t visible;            // returned to Python (not waiting in an accept queue)
    uint8_t listening;
    uint8_t connecting;
    uint8_t rx_eof;             // the peer sent FIN
    uint8_t shut_rd, shut_wr;
    uint8_t write_blocked;      // tcp_write ran out of memory: not writable until an ACK
    uint8_t interest;           // NET_IN|NET_OUT, one-shot
    uint16_t owner;             // pending connections: the listener's slot
} sock_t;

static sock_t socks[NET_MAX];
static unsigned used_top;

// --- errors ----------------------------------------------------------------------------

static int errno_of(err_t e) {
    switch (e) {
        case ERR_MEM: return MP_ENOMEM;
        case ERR_BUF: return MP_ENOBUFS;
        case ERR_TIMEOUT: return MP_ETIMEDOUT;
        case ERR_RTE: return MP_EHOSTUNREACH;
        case ERR_INPROGRESS: return MP_EINPROGRESS;
        case ERR_WOULDBLOCK: return MP_EAGAIN;
        case ERR_USE: return MP_EADDRINUSE;
        case ERR_ALREADY: return MP_EALREADY;
        case ERR_ISCONN: return MP_EISCONN;
        case ERR_CONN: return MP_ENOTCONN;
        case ERR_IF: return MP_EHOSTUNREACH;
        case ERR_ABRT: return MP_ECONNABORTED;
        case ERR_RST: return MP_ECONNRESET;
        case ERR_CLSD: return MP_ENOTCONN;
        default: return MP_EINVAL;
    }
}

static void raise_err(err_t e) {
    mp_raise_OSError(errno_of(e));
}

// --- the socket table --------------------------------------------------------------------

static mp_obj_t handle_of(unsigned slot) {
    return MP_OBJ_NEW_SMALL_INT(((mp_int_t)socks[slot].gen << SLOT_BITS) | slot);
}

static sock_t *get_sock(mp_obj_t h_in) {
    mp_int_t h = mp_obj_get_int(h_in);
    unsigned slot = h & ((1 << SLOT_BITS) - 1);
    if (h < 0 || slot >= NET_MAX || !socks[slot].used || !socks[slot].visible
        || socks[slot].gen != (h >> SLOT_BITS)) {
        mp_raise_OSError(MP_EBADF);
    }
    return &socks[slot];
}

static int alloc_slot(void) {
    for (unsigned i = 0; i < NET_MAX; i++) {
        if (!socks[i].used) {
            sock_t *s = &socks[i];
            uint16_t gen = s->gen;
            memset(s, 0, sizeof(*s));
            s->gen = gen;
            s->used = 1;
            s->next_pending = s->pend_head = s->pend_tail = NO_SLOT;
            s->owner = NO_SLOT;
            if (i >= used_top) {
                used_top = i + 1;
            }
            return (int)i;
        }
    }
    return -1;
}

static void release_slot(sock_t *s) {
    if (s->rx) {
        pbuf_free(s->rx);
        s->rx = NULL;
    }
    s->used = 0;
    s->visible = 0;
    s->gen = (s->gen + 1) & 0xffff;
    while (used_top > 0 && !socks[used_top - 1].used) {
        used_top--;
    }
}

// --- lwIP callbacks (run inside o3s_net_poll or inside our own lwIP calls) -------------

// After Python closed a socket, lwIP may still deliver data to its pcb: ack and drop it.
static err_t discard_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    (void)arg;
    (void)err;
    if (p) {
        tcp_recved(pcb, p->tot_len);
        pbuf_free(p);
    }
    return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    sock_t *s = arg;
    (void)err;
    if (!p) {
        s->rx_eof = 1;
        return ERR_OK;
    }
    if (s->shut_rd) {
        return discard_recv(NULL, pcb, p, ERR_OK);
    }
    if (!s->rx) {
        s->rx = p;
    } else if ((uint32_t)s->rx->tot_len + p->tot_len > 0xffff) {
        return ERR_MEM;             // pbuf lengths are 16-bit: lwIP keeps it and retries
    } else {
        pbuf_cat(s->rx, p);
    }
    return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
    sock_t *s = arg;
    (void)pcb;
    (void)len;
    s->write_blocked = 0;
    return ERR_OK;
}

// lwIP has already freed the pcb when this runs.
static void on_err(void *arg, err_t err) {
    sock_t *s = arg;
    if (!s) {
        return;
    }
    s->pcb = NULL;
    if (err == ERR_CLSD) {
        s->connecting = 0;
        return;                     // both sides closed normally: not an error
    }
    if (s->connecting) {
        s->err = err == ERR_RST ? MP_ECONNREFUSED : MP_ETIMEDOUT;
    } else {
        // ERR_ABRT from lwIP itself means retransmissions or keepalives ran out.
        s->err = err == ERR_ABRT ? MP_ETIMEDOUT : errno_of(err);
    }
    s->connecting = 0;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
    sock_t *s = arg;
    (void)pcb;
    (void)err;                      // always ERR_OK in lwIP 2.1
    s->connecting = 0;
    return ERR_OK;
}

static void attach(sock_t *s, struct tcp_pcb *pcb) {
    s->pcb = pcb;
    tcp_arg(pcb, s);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
}

// Detach our callbacks and close gracefully; a reset if lwIP can't queue the FIN.
static void close_pcb(struct tcp_pcb *pcb, int listening) {
    tcp_arg(pcb, NULL);
    if (!listening) {
        tcp_recv(pcb, discard_recv);
        tcp_sent(pcb, NULL);
        tcp_err(pcb, NULL);
    } else {
        tcp_accept(pcb, NULL);
    }
    if (tcp_close(pcb) != ERR_OK) {
        tcp_abort(pcb);
    }
}

static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err) {
    sock_t *l = arg;
    if (err != ERR_OK || !newpcb || !l) {
        return ERR_VAL;
    }
    int slot = l->pend_n < l->backlog ? alloc_slot() : -1;
    if (slot < 0) {
        // No handle free, or the application is far behind: refuse this peer at once
        // rather than leave it hanging.
        tcp_abort(newpcb);
        return ERR_ABRT;
    }
    sock_t *s = &socks[slot];
    attach(s, newpcb);
    tcp_nagle_disable(newpcb);      // Nagle + delayed ACK would cap request/response rates
    s->owner = (uint16_t)(l - socks);
    if (l->pend_tail == NO_SLOT) {
        l->pend_head = (uint16_t)slot;
    } else {
        socks[l->pend_tail].next_pending = (uint16_t)slot;
    }
    l->pend_tail = (uint16_t)slot;
    l->pend_n++;
    return ERR_OK;
}

// --- readiness ---------------------------------------------------------------------------

static uint8_t ready_bits(sock_t *s) {
    if (s->err) {
        return NET_ERR | NET_IN | NET_OUT;
    }
    if (s->listening) {
        return s->pend_n ? NET_IN : 0;
    }
    if (s->connecting) {
        return 0;
    }
    uint8_t r = 0;
    if (s->rx || s->rx_eof || s->shut_rd || !s->pcb) {
        r |= NET_IN;                // data, or EOF to read
    }
    if (s->rx_eof || !s->pcb) {
        r |= NET_HUP;
    }
    if (!s->pcb || s->shut_wr) {
        r |= NET_OUT;               // send() will say EPIPE at once
    } else if (!s->write_blocked && tcp_sndbuf(s->pcb) >= SEND_LOW_WATER
               && tcp_sndqueuelen(s->pcb) + 4 < TCP_SND_QUEUELEN) {
        r |= NET_OUT;
    }
    return r;
}

static int any_ready(void) {
    for (unsigned i = 0; i < used_top; i++) {
        sock_t *s = &socks[i];
        if (s->used && s->visible && s->interest) {
            uint8_t r = ready_bits(s);
            if ((r & s->interest) || (r & NET_ERR)) {
                return 1;
            }
        }
    }
    return 0;
}

static mp_obj_t collect(void) {
    mp_obj_t out = mp_obj_new_list(0, NULL);
    for (unsigned i = 0; i < used_top; i++) {
        sock_t *s = &socks[i];
        if (!s->used || !s->visible || !s->interest) {
            continue;
        }
        uint8_t r = ready_bits(s);
        uint8_t rep = (r & s->interest) | (r & (NET_ERR | NET_HUP));
        if (rep & (NET_IN | NET_OUT | NET_ERR)) {
            s->interest &= ~rep;
            if (rep & NET_ERR) {
                s->interest = 0;
            }
            mp_obj_t t[2] = { handle_of(i), MP_OBJ_NEW_SMALL_INT(rep) };
            mp_obj_list_append(out, mp_obj_new_tuple(2, t));
        }
    }
    return out;
}

// --- addresses -------------------------------------------------------------------------

static void parse_ip(mp_obj_t addr_in, ip_addr_t *out) {
    const char *addr = mp_obj_str_get_str(addr_in);
    if (!*addr) {
        addr = "0.0.0.0";
    }
    if (!ip4addr_aton(addr, ip_2_ip4(out))) {
        mp_raise_OSError(MP_EINVAL);
    }
    IP_SET_TYPE(out, IPADDR_TYPE_V4);
}

static uint16_t parse_port(mp_obj_t port_in) {
    mp_int_t port = mp_obj_get_int(port_in);
    if (port < 0 || port > 65535) {
        mp_raise_OSError(MP_EINVAL);
    }
    return (uint16_t)port;
}

static mp_obj_t ip_str(const ip4_addr_t *a) {
    char buf[16];
    ip4addr_ntoa_r(a, buf, sizeof(buf));
    return mp_obj_new_str(buf, strlen(buf));
}

static mp_obj_t ip_str_u32(uint32_t v) {
    ip4_addr_t a;
    ip4_addr_set_u32(&a, v);
    return ip_str(&a);
}

// --- the module ----------------------------------------------------------------------------

static mp_obj_t net_listen(mp_obj_t addr_in, mp_obj_t port_in, mp_obj_t backlog_in) {
    ip_addr_t ip;
    parse_ip(addr_in, &ip);
    uint16_t port = parse_port(port_in);
    mp_int_t backlog = mp_obj_get_int(backlog_in);
    backlog = backlog < 1 ? 1 : backlog > 255 ? 255 : backlog;
    // SOF_REUSEADDR (below) makes lwIP accept a second listener on a port; BSD refuses it,
    // and so do we: the first would get every connection.
    if (port) {
        for (unsigned i = 0; i < used_top; i++) {
            sock_t *o = &socks[i];
            if (o->used && o->listening && o->pcb && o->pcb->local_port == port
                && (ip_addr_isany(&ip) || ip_addr_isany(&o->pcb->local_ip)
                    || ip_addr_cmp(&ip, &o->pcb->local_ip))) {
                mp_raise_OSError(MP_EADDRINUSE);
            }
        }
    }
    int slot = alloc_slot();
    if (slot < 0) {
        mp_raise_OSError(MP_EMFILE);
    }
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (!pcb) {
        release_slot(&socks[slot]);
        mp_raise_OSError(MP_ENOMEM);
    }
    // Rebinding at once after a restart must work although old connections on the port
    // still sit in TIME_WAIT.
    ip_set_option(pcb, SOF_REUSEADDR);
    err_t e = tcp_bind(pcb, &ip, port);
    struct tcp_pcb *lpcb = e == ERR_OK ? tcp_listen_with_backlog_and_err(pcb, (u8_t)backlog, &e) : NULL;
    if (!lpcb) {
        tcp_abort(pcb);             // never connected: just frees it
        release_slot(&socks[slot]);
        raise_err(e);
    }
    sock_t *s = &socks[slot];
    s->pcb = lpcb;
    s->listening = 1;
    s->visible = 1;
    s->backlog = (uint16_t)backlog;
    tcp_arg(lpcb, s);
    tcp_accept(lpcb, on_accept);
    return handle_of(slot);
}
static MP_DEFINE_CONST_FUN_OBJ_3(net_listen_obj, net_listen);

static mp_obj_t net_accept(mp_obj_t h_in) {
    sock_t *l = get_sock(h_in);
    if (!l->listening) {
        mp_raise_OSError(MP_EINVAL);
    }
    while (l->pend_n) {
        uint16_t slot = l->pend_head;
        sock_t *s = &socks[slot];
        l->pend_head = s->next_pending;
        if (l->pend_head == NO_SLOT) {
            l->pend_tail = NO_SLOT;
        }
        l->pend_n--;
        s->next_pending = NO_SLOT;
        s->owner = NO_SLOT;
        if (!s->pcb && !s->rx) {
            release_slot(s);        // reset before anyone saw it: skip, as BSD does
            continue;
        }
        s->visible = 1;
        mp_obj_t t[3] = { handle_of(slot), MP_OBJ_NEW_SMALL_INT(0), MP_OBJ_NEW_SMALL_INT(0) };
        if (s->pcb) {
            t[1] = ip_str(ip_2_ip4(&s->pcb->remote_ip));
            t[2] = MP_OBJ_NEW_SMALL_INT(s->pcb->remote_port);
        } else {
            t[1] = MP_OBJ_NEW_QSTR(MP_QSTR_);
        }
        return mp_obj_new_tuple(3, t);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(net_accept_obj, net_accept);

static mp_obj_t net_connect(mp_obj_t addr_in, mp_obj_t port_in) {
    ip_addr_t ip;
    parse_ip(addr_in, &ip);
    uint16_t port = parse_port(port_in);
    int slot = alloc_slot();
    if (slot < 0) {
        mp_raise_OSError(MP_EMFILE);
    }
    sock_t *s = &socks[slot];
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (!pcb) {
        release_slot(s);
        mp_raise_OSError(MP_ENOMEM);
    }
    attach(s, pcb);
    tcp_nagle_disable(pcb);
    s->visible = 1;
    s->connecting = 1;
    err_t e = tcp_connect(pcb, &ip, port, on_connected);
    if (e != ERR_OK) {
        // A routing failure is a remote outcome: report it through poll, as unix does.
        close_pcb(pcb, 0);
        s->pcb = NULL;
        s->connecting = 0;
        if (e == ERR_RTE) {
            s->err = MP_EHOSTUNREACH;
        } else {
            release_slot(s);
            raise_err(e);
        }
    }
    return handle_of(slot);
}
static MP_DEFINE_CONST_FUN_OBJ_2(net_connect_obj, net_connect);

static mp_obj_t net_recv_into(size_t n_args, const mp_obj_t *args) {
    sock_t *s = get_sock(args[0]);
    mp_buffer_info_t bi;
    mp_get_buffer_raise(args[1], &bi, MP_BUFFER_WRITE);
    size_t n = bi.len;
    if (n_args > 2) {
        mp_int_t want = mp_obj_get_int(args[2]);
        if (want < 0) {
            mp_raise_ValueError(NULL);
        }
        if ((size_t)want < n) {
            n = want;
        }
    }
    if (s->err) {
        mp_raise_OSError(s->err);
    }
    if (s->listening) {
        mp_raise_OSError(MP_ENOTCONN);
    }
    if (n == 0) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    if (!s->rx) {
        if (s->rx_eof || s->shut_rd || (!s->pcb && !s->connecting)) {
            return MP_OBJ_NEW_SMALL_INT(0);
        }
        return mp_const_none;
    }
    if (n > s->rx->tot_len) {
        n = s->rx->tot_len;
    }
    u16_t got = pbuf_copy_partial(s->rx, bi.buf, (u16_t)n, 0);
    s->rx = pbuf_free_header(s->rx, got);
    if (s->pcb) {
        tcp_recved(s->pcb, got);    // opens the window as Python consumes
    }
    return MP_OBJ_NEW_SMALL_INT(got);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(net_recv_into_obj, 2, 3, net_recv_into);

static mp_obj_t net_send(mp_obj_t h_in, mp_obj_t buf_in) {
    sock_t *s = get_sock(h_in);
    mp_buffer_info_t bi;
    mp_get_buffer_raise(buf_in, &bi, MP_BUFFER_READ);
    if (s->err) {
        mp_raise_OSError(s->err);
    }
    if (s->listening) {
        mp_raise_OSError(MP_ENOTCONN);
    }
    if (s->connecting) {
        return mp_const_none;       // not writable yet
    }
    if (!s->pcb || s->shut_wr) {
        mp_raise_OSError(MP_EPIPE);
    }
    if (bi.len == 0) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    struct tcp_pcb *pcb = s->pcb;
    size_t n = tcp_sndbuf(pcb);
    if (n > bi.len) {
        n = bi.len;
    }
    if (n == 0 || tcp_sndqueuelen(pcb) + 4 >= TCP_SND_QUEUELEN) {
        return mp_const_none;
    }
    // Copied: Python may reuse its buffer at once, and lwIP keeps the data until acked.
    err_t e = tcp_write(pcb, bi.buf, (u16_t)n, TCP_WRITE_FLAG_COPY);
    while (e == ERR_MEM && n > TCP_MSS) {
        n /= 2;                     // the heap is short: try a smaller piece
        e = tcp_write(pcb, bi.buf, (u16_t)n, TCP_WRITE_FLAG_COPY);
    }
    if (e == ERR_MEM) {
        s->write_blocked = 1;       // writable again once an ACK frees memory
        tcp_output(pcb);
        return mp_const_none;
    }
    if (e != ERR_OK) {
        s->err = errno_of(e);
        mp_raise_OSError(s->err);
    }
    tcp_output(pcb);
    return MP_OBJ_NEW_SMALL_INT(n);
}
static MP_DEFINE_CONST_FUN_OBJ_2(net_send_obj, net_send);

static mp_obj_t net_shutdown(size_t n_args, const mp_obj_t *args) {
    sock_t *s = get_sock(args[0]);
    mp_int_t how = n_args > 1 ? mp_obj_get_int(args[1]) : 1;
    if (how < 0 || how > 2) {
        mp_raise_OSError(MP_EINVAL);
    }
    if (s->listening) {
        return mp_const_none;
    }
    if (how != 1 && !s->shut_rd) {
        // lwIP's own read shutdown resets the connection when data arrives; BSD just
        // discards it, and so do we.
        s->shut_rd = 1;
        if (s->rx) {
            if (s->pcb) {
                tcp_recved(s->pcb, s->rx->tot_len);
            }
            pbuf_free(s->rx);
            s->rx = NULL;
        }
    }
    if (how != 0 && !s->shut_wr) {
        s->shut_wr = 1;
        if (s->pcb && !s->connecting) {
            err_t e = tcp_shutdown(s->pcb, 0, 1);
            if (e != ERR_OK) {
                mp_raise_OSError(errno_of(e));
            }
        }
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(net_shutdown_obj, 1, 2, net_shutdown);

// Frees the handle; the pcb lingers in lwIP until the FIN exchange completes.
static void do_close(sock_t *s, int reset) {
    if (s->listening) {
        // Connections nobody accepted: reset them, they would never be served.
        while (s->pend_head != NO_SLOT) {
            sock_t *p = &socks[s->pend_head];
            s->pend_head = p->next_pending;
            if (p->pcb) {
                tcp_arg(p->pcb, NULL);
                tcp_err(p->pcb, NULL);
                tcp_abort(p->pcb);
            }
            release_slot(p);
        }
        s->pend_tail = NO_SLOT;
        s->pend_n = 0;
    }
    if (s->pcb) {
        if (reset) {
            tcp_arg(s->pcb, NULL);
            tcp_err(s->pcb, NULL);
            tcp_abort(s->pcb);
        } else {
            close_pcb(s->pcb, s->listening);
        }
        s->pcb = NULL;
    }
    release_slot(s);
}

static mp_obj_t net_close(mp_obj_t h_in) {
    do_close(get_sock(h_in), 0);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(net_close_obj, net_close);

static mp_obj_t net_abort(mp_obj_t h_in) {
    do_close(get_sock(h_in), 1);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(net_abort_obj, net_abort);

static mp_obj_t net_setopt(mp_obj_t h_in, mp_obj_t opt_in, mp_obj_t val_in) {
    sock_t *s = get_sock(h_in);
    int on = mp_obj_is_true(val_in);
    mp_int_t opt = mp_obj_get_int(opt_in);
    if (opt != NET_NODELAY && opt != NET_KEEPALIVE) {
        mp_raise_OSError(MP_EINVAL);
    }
    if (!s->pcb || s->listening) {
        return mp_const_none;       // nothing to tune any more (or yet)
    }
    if (opt == NET_NODELAY) {
        if (on) {
            tcp_nagle_disable(s->pcb);
        } else {
            tcp_nagle_enable(s->pcb);
        }
    } else if (on) {
        ip_set_option(s->pcb, SOF_KEEPALIVE);
    } else {
        ip_reset_option(s->pcb, SOF_KEEPALIVE);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(net_setopt_obj, net_setopt);

static mp_obj_t net_register(mp_obj_t h_in, mp_obj_t ev_in) {
    sock_t *s = get_sock(h_in);
    s->interest = mp_obj_get_int(ev_in) & (NET_IN | NET_OUT);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(net_register_obj, net_register);

static mp_obj_t net_error(mp_obj_t h_in) {
    return MP_OBJ_NEW_SMALL_INT(get_sock(h_in)->err);
}
static MP_DEFINE_CONST_FUN_OBJ_1(net_error_obj, net_error);

// Wait for registered interest: service the NIC and lwIP's timers, the console (Ctrl-C
// raises KeyboardInterrupt here) and scheduled callbacks; sleep in board_idle() between.
static mp_obj_t net_poll(mp_obj_t timeout_in) {
    mp_int_t timeout = mp_obj_get_int(timeout_in);
    if (timeout < -1) {
        timeout = 0;
    }
    uint64_t start = board_ticks_us();
    for (;;) {
        o3s_net_poll();
        o3s_console_poll();
        mp_handle_pending(true);
        if (any_ready() || timeout == 0) {
            break;
        }
        if (timeout > 0 && board_ticks_us() - start >= (uint64_t)timeout * 1000) {
            break;
        }
        board_idle();
    }
    return collect();
}
static MP_DEFINE_CONST_FUN_OBJ_1(net_poll_obj, net_poll);

static mp_obj_t net_sockname(mp_obj_t h_in) {
    sock_t *s = get_sock(h_in);
    if (!s->pcb) {
        mp_raise_OSError(s->err ? s->err : MP_ENOTCONN);
    }
    mp_obj_t t[2] = { ip_str(ip_2_ip4(&s->pcb->local_ip)), MP_OBJ_NEW_SMALL_INT(s->pcb->local_port) };
    return mp_obj_new_tuple(2, t);
}
static MP_DEFINE_CONST_FUN_OBJ_1(net_sockname_obj, net_sockname);

static uint32_t parse_ip_u32(mp_obj_t o) {
    ip_addr_t a;
    parse_ip(o, &a);
    return ip4_addr_get_u32(ip_2_ip4(&a));
}

// ifconfig([n]) -> (ip, netmask, gateway) of interface n (default 0, the user-facing one);
// ifconfig(ip, netmask, gateway[, n]) sets a static address (stopping DHCP). Gateway
// "0.0.0.0": none.
static int parse_ifn(mp_obj_t o) {
    mp_int_t n = mp_obj_get_int(o);
    if (n < 0 || n >= O3S_NET_MAX) {
        mp_raise_ValueError(MP_ERROR_TEXT("no such interface"));
    }
    return (int)n;
}

static mp_obj_t net_ifconfig(size_t n_args, const mp_obj_t *args) {
    if (n_args >= 3) {
        uint32_t ip = parse_ip_u32(args[0]);
        uint32_t mask = parse_ip_u32(args[1]);
        uint32_t gw = parse_ip_u32(args[2]);
        int ifn = n_args == 4 ? parse_ifn(args[3]) : 0;
        if (o3s_net_present() <= ifn) {
            mp_raise_OSError(MP_ENODEV);
        }
        o3s_net_configure(ifn, ip, mask, gw);
        return mp_const_none;
    }
    if (n_args == 2) {
        mp_raise_TypeError(NULL);
    }
    int ifn = n_args == 1 ? parse_ifn(args[0]) : 0;
    o3s_net_info_t info;
    o3s_net_info(ifn, &info);
    mp_obj_t t[3] = { ip_str_u32(info.ip), ip_str_u32(info.netmask), ip_str_u32(info.gateway) };
    return mp_obj_new_tuple(3, t);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(net_ifconfig_obj, 0, 4, net_ifconfig);

static mp_obj_t net_dhcp(void) {
    if (!o3s_net_present()) {
        mp_raise_OSError(MP_ENODEV);
    }
    if (o3s_net_dhcp_start() != 0) {
        mp_raise_OSError(MP_ENOMEM);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(net_dhcp_obj, net_dhcp);

static void dict_str(mp_obj_t d, qstr key, const char *val) {
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(key), mp_obj_new_str(val, strlen(val)));
}

static void dict_int(mp_obj_t d, qstr key, uint64_t val) {
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(key), mp_obj_new_int_from_ull(val));
}

static mp_obj_t net_link(size_t n_args, const mp_obj_t *args) {
    // Any n: None when that NIC is absent, so callers can probe without try/except.
    mp_int_t ifn = n_args ? mp_obj_get_int(args[0]) : 0;
    o3s_net_info_t info;
    if (ifn < 0 || ifn >= O3S_NET_MAX || o3s_net_info((int)ifn, &info) != 0) {
        return mp_const_none;       // no such NIC found
    }
    mp_obj_t d = mp_obj_new_dict(8);
    char mac[18];
    for (int i = 0; i < 6; i++) {
        mac[i * 3] = "0123456789abcdef"[info.mac[i] >> 4];
        mac[i * 3 + 1] = "0123456789abcdef"[info.mac[i] & 15];
        mac[i * 3 + 2] = i < 5 ? ':' : 0;
    }
    dict_str(d, MP_QSTR_mac, mac);
    char driver[40] = "virtio-net ";
    strncat(driver, info.transport ? info.transport : "?", sizeof(driver) - strlen(driver) - 1);
    dict_str(d, MP_QSTR_driver, driver);
    static const char *const dhcp_state[] = { "off", "requesting", "bound" };
    dict_str(d, MP_QSTR_dhcp, dhcp_state[info.dhcp]);
    dict_int(d, MP_QSTR_rx_frames, info.rx_frames);
    dict_int(d, MP_QSTR_tx_frames, info.tx_frames);
    dict_int(d, MP_QSTR_rx_dropped, info.rx_dropped);
    dict_int(d, MP_QSTR_tx_dropped, info.tx_dropped);
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(net_link_obj, 0, 1, net_link);

static mp_obj_t net_count(void) {
    int n = 0;
    for (unsigned i = 0; i < used_top; i++) {
        n += socks[i].used && socks[i].visible;
    }
    return MP_OBJ_NEW_SMALL_INT(n);
}
static MP_DEFINE_CONST_FUN_OBJ_0(net_count_obj, net_count);

static mp_obj_t net_close_all(void) {
    // Listeners first: closing one also releases its not-yet-accepted connections.
    for (unsigned i = 0; i < used_top; i++) {
        if (socks[i].used && socks[i].visible && socks[i].listening) {
            do_close(&socks[i], 0);
        }
    }
    for (unsigned i = 0; i < used_top; i++) {
        if (socks[i].used && socks[i].visible) {
            do_close(&socks[i], 0);
        }
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(net_close_all_obj, net_close_all);

static const mp_rom_map_elem_t net_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__net) },
    { MP_ROM_QSTR(MP_QSTR_listen), MP_ROM_PTR(&net_listen_obj) },
    { MP_ROM_QSTR(MP_QSTR_accept), MP_ROM_PTR(&net_accept_obj) },
    { MP_ROM_QSTR(MP_QSTR_connect), MP_ROM_PTR(&net_connect_obj) },
    { MP_ROM_QSTR(MP_QSTR_recv_into), MP_ROM_PTR(&net_recv_into_obj) },
    { MP_ROM_QSTR(MP_QSTR_send), MP_ROM_PTR(&net_send_obj) },
    { MP_ROM_QSTR(MP_QSTR_shutdown), MP_ROM_PTR(&net_shutdown_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&net_close_obj) },
    { MP_ROM_QSTR(MP_QSTR_abort), MP_ROM_PTR(&net_abort_obj) },
    { MP_ROM_QSTR(MP_QSTR_setopt), MP_ROM_PTR(&net_setopt_obj) },
    { MP_ROM_QSTR(MP_QSTR_register), MP_ROM_PTR(&net_register_obj) },
    { MP_ROM_QSTR(MP_QSTR_poll), MP_ROM_PTR(&net_poll_obj) },
    { MP_ROM_QSTR(MP_QSTR_error), MP_ROM_PTR(&net_error_obj) },
    { MP_ROM_QSTR(MP_QSTR_sockname), MP_ROM_PTR(&net_sockname_obj) },
    { MP_ROM_QSTR(MP_QSTR_ifconfig), MP_ROM_PTR(&net_ifconfig_obj) },
    { MP_ROM_QSTR(MP_QSTR_dhcp), MP_ROM_PTR(&net_dhcp_obj) },
    { MP_ROM_QSTR(MP_QSTR_link), MP_ROM_PTR(&net_link_obj) },
    { MP_ROM_QSTR(MP_QSTR_count), MP_ROM_PTR(&net_count_obj) },
    { MP_ROM_QSTR(MP_QSTR_close_all), MP_ROM_PTR(&net_close_all_obj) },
    { MP_ROM_QSTR(MP_QSTR_MAX), MP_ROM_INT(NET_MAX) },
    { MP_ROM_QSTR(MP_QSTR_IN), MP_ROM_INT(NET_IN) },
    { MP_ROM_QSTR(MP_QSTR_OUT), MP_ROM_INT(NET_OUT) },
    { MP_ROM_QSTR(MP_QSTR_ERR), MP_ROM_INT(NET_ERR) },
    { MP_ROM_QSTR(MP_QSTR_HUP), MP_ROM_INT(NET_HUP) },
    { MP_ROM_QSTR(MP_QSTR_NODELAY), MP_ROM_INT(NET_NODELAY) },
    { MP_ROM_QSTR(MP_QSTR_KEEPALIVE), MP_ROM_INT(NET_KEEPALIVE) },
    { MP_ROM_QSTR(MP_QSTR_SHUT_RD), MP_ROM_INT(0) },
    { MP_ROM_QSTR(MP_QSTR_SHUT_WR), MP_ROM_INT(1) },
    { MP_ROM_QSTR(MP_QSTR_SHUT_RDWR), MP_ROM_INT(2) },
    { MP_ROM_QSTR(MP_QSTR_EBADF), MP_ROM_INT(MP_EBADF) },
    { MP_ROM_QSTR(MP_QSTR_EINVAL), MP_ROM_INT(MP_EINVAL) },
    { MP_ROM_QSTR(MP_QSTR_EMFILE), MP_ROM_INT(MP_EMFILE) },
    { MP_ROM_QSTR(MP_QSTR_EPIPE), MP_ROM_INT(MP_EPIPE) },
    { MP_ROM_QSTR(MP_QSTR_ENOTCONN), MP_ROM_INT(MP_ENOTCONN) },
    { MP_ROM_QSTR(MP_QSTR_ECONNRESET), MP_ROM_INT(MP_ECONNRESET) },
    { MP_ROM_QSTR(MP_QSTR_ECONNABORTED), MP_ROM_INT(MP_ECONNABORTED) },
    { MP_ROM_QSTR(MP_QSTR_ECONNREFUSED), MP_ROM_INT(MP_ECONNREFUSED) },
    { MP_ROM_QSTR(MP_QSTR_ETIMEDOUT), MP_ROM_INT(MP_ETIMEDOUT) },
    { MP_ROM_QSTR(MP_QSTR_EHOSTUNREACH), MP_ROM_INT(MP_EHOSTUNREACH) },
    { MP_ROM_QSTR(MP_QSTR_EADDRINUSE), MP_ROM_INT(MP_EADDRINUSE) },
    { MP_ROM_QSTR(MP_QSTR_EADDRNOTAVAIL), MP_ROM_INT(NET_EADDRNOTAVAIL) },
};
static MP_DEFINE_CONST_DICT(net_module_globals, net_module_globals_table);

const mp_obj_module_t o3s_net_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&net_module_globals,
};
MP_REGISTER_MODULE(MP_QSTR__net, o3s_net_module);
