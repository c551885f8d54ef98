// _net for the unix target: non-blocking TCP over BSD sockets, readiness from one
// edge-triggered epoll set. The contract (and the event/option values) is in net.h;
// the lwIP implementation keeps the same one.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "py/runtime.h"
#include "py/mperrno.h"
#include "net.h"

#define NET_MAX         (1024)          // open handles (listeners included)
#define SLOT_BITS       (12)            // handle = generation << SLOT_BITS | slot
#define CONSOLE_TAG     (0xffffffffu)   // epoll tag of fd 0
#define EVENTS_MAX      (128)

void o3s_console_poll(void);

typedef struct {
    int fd;             // -1: free
    uint16_t gen;
    uint8_t ready;      // NET_* seen by epoll and not yet used up (IN/OUT cleared on EAGAIN)
    uint8_t interest;   // NET_IN|NET_OUT the application waits for (one-shot)
    uint8_t connecting;
    int err;            // sticky errno once the socket failed
} sock_t;

static sock_t socks[NET_MAX];
static int ep = -1;
static unsigned used_top;       // slots [0, used_top) may be in use
static char if_ip[16] = "0.0.0.0", if_mask[16] = "0.0.0.0", if_gw[16] = "0.0.0.0";

static void net_init(void) {
    if (ep >= 0) {
        return;
    }
    for (unsigned i = 0; i < NET_MAX; i++) {
        socks[i].fd = -1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        mp_raise_OSError(errno);
    }
    // The console wakes poll() so Ctrl-C is seen at once; a file or /dev/null on stdin
    // cannot be watched (EPERM) and needs no watching.
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u32 = CONSOLE_TAG };
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
}

static mp_obj_t handle_of(unsigned slot) {
    return MP_OBJ_NEW_SMALL_INT(((mp_int_t)socks[slot].gen << SLOT_BITS) | slot);
}

static sock_t *get_sock(mp_obj_t h_in) {
    mp_int_t h = mp_obj_get_int(h_in);
    unsigned slot = h & ((1 << SLOT_BITS) - 1);
    if (h < 0 || slot >= NET_MAX || socks[slot].fd < 0 || socks[slot].gen != (h >> SLOT_BITS)) {
        mp_raise_OSError(MP_EBADF);
    }
    return &socks[slot];
}

// Takes ownership of fd: registers it for every edge, or closes it and raises.
static unsigned add_sock(int fd, uint32_t events) {
    net_init();
    unsigned slot;
    for (slot = 0; slot < NET_MAX && socks[slot].fd >= 0; slot++) {
    }
    if (slot == NET_MAX) {
        close(fd);
        mp_raise_OSError(MP_EMFILE);
    }
    struct epoll_event ev = { .events = events | EPOLLET, .data.u32 = slot };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int e = errno;
        close(fd);
        mp_raise_OSError(e);
    }
    sock_t *s = &socks[slot];
    s->fd = fd;
    s->ready = 0;
    s->interest = 0;
    s->connecting = 0;
    s->err = 0;
    if (slot >= used_top) {
        used_top = slot + 1;
    }
    return slot;
}

static void free_sock(sock_t *s) {
    close(s->fd);   // also leaves the epoll set
    s->fd = -1;
    s->gen = (s->gen + 1) & 0xffff;
    while (used_top > 0 && socks[used_top - 1].fd < 0) {
        used_top--;
    }
}

static void parse_addr(mp_obj_t addr_in, mp_obj_t port_in, struct sockaddr_in *sa) {
    const char *addr = mp_obj_str_get_str(addr_in);
    mp_int_t port = mp_obj_get_int(port_in);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    if (port < 0 || port > 65535 || inet_pton(AF_INET, *addr ? addr : "0.0.0.0", &sa->sin_addr) != 1) {
        mp_raise_OSError(MP_EINVAL);
    }
    sa->sin_port = htons(port);
}

static mp_obj_t addr_tuple(struct sockaddr_in *sa) {
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof ip);
    mp_obj_t t[2] = { mp_obj_new_str(ip, strlen(ip)), MP_OBJ_NEW_SMALL_INT(ntohs(sa->sin_port)) };
    return mp_obj_new_tuple(2, t);
}

static void set_nodelay(int fd, int on) {
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

static mp_obj_t net_listen(mp_obj_t addr_in, mp_obj_t port_in, mp_obj_t backlog_in) {
    struct sockaddr_in sa;
    parse_addr(addr_in, port_in, &sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        mp_raise_OSError(errno);
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, mp_obj_get_int(backlog_in)) < 0) {
        int e = errno;
        close(fd);
        mp_raise_OSError(e);
    }
    return handle_of(add_sock(fd, EPOLLIN));
}
static MP_DEFINE_CONST_FUN_OBJ_3(net_listen_obj, net_listen);

static mp_obj_t net_accept(mp_obj_t h_in) {
    sock_t *s = get_sock(h_in);
    for (;;) {
        struct sockaddr_in sa;
        socklen_t len = sizeof sa;
        int fd = accept4(s->fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                s->ready &= ~NET_IN;
                return mp_const_none;
            }
            // EMFILE and friends: the pending connection stays queued; say so.
            mp_raise_OSError(errno);
        }
        unsigned slot;
        for (slot = 0; slot < NET_MAX && socks[slot].fd >= 0; slot++) {
        }
        if (slot == NET_MAX) {
            // No handle free: refuse this peer with a reset rather than leave it hanging.
            struct linger lg = { 1, 0 };
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close(fd);
            continue;
        }
        set_nodelay(fd, 1);   // Nagle + delayed ACK would cap request/response rates
        slot = add_sock(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
        socks[slot].ready = NET_OUT;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
        mp_obj_t t[3] = {
            handle_of(slot), mp_obj_new_str(ip, strlen(ip)), MP_OBJ_NEW_SMALL_INT(ntohs(sa.sin_port)),
        };
        return mp_obj_new_tuple(3, t);
    }
}
static MP_DEFINE_CONST_FUN_OBJ_1(net_accept_obj, net_accept);

static mp_obj_t net_connect(mp_obj_t addr_in, mp_obj_t port_in) {
    struct sockaddr_in sa;
    parse_addr(addr_in, port_in, &sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        mp_raise_OSError(errno);
    }
    set_nodelay(fd, 1);
    int r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    if (r < 0 && e != EINPROGRESS) {
        if (e == ECONNREFUSED || e == ETIMEDOUT || e == EHOSTUNREACH || e == ENETUNREACH) {
            // A remote outcome: report it through poll like the asynchronous case.
            unsigned slot = add_sock(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
            socks[slot].err = e;
            socks[slot].ready = NET_ERR | NET_IN | NET_OUT;
            return handle_of(slot);
        }
        close(fd);
        mp_raise_OSError(e);
    }
    unsigned slot = add_sock(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    socks[slot].connecting = (r < 0);
    return handle_of(slot);
}
static MP_DEFINE_CONST_FUN_OBJ_2(net_connect_obj, net_connect);

static void fail(sock_t *s, int e) {
    s->err = e;
    s->ready |= NET_ERR | NET_IN | NET_OUT;
    mp_raise_OSError(e);
}

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
    if (n == 0) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    for (;;) {
        ssize_t r = recv(s->fd, bi.buf, n, 0);
        if (r >= 0) {
            return MP_OBJ_NEW_SMALL_INT(r);
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            s->ready &= ~NET_IN;
            return mp_const_none;
        }
        fail(s, errno);
    }
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(net_recv_into_obj, 2, 3, net_recv_into);

static mp_obj_t net_send(mp_obj_t h_in, mp_obj_t buf_in) {
    sock_t *s = get_sock(h_in);
    mp_buffer_info_t bi;
    mp_get_buffer_raise(buf_in, &bi, MP_BUFFER_READ);
    if (s->err) {
        mp_raise_OSError(s->err);
    }
    if (bi.len == 0) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    for (;;) {
        ssize_t r = send(s->fd, bi.buf, bi.len, MSG_NOSIGNAL);
        if (r >= 0) {
            return MP_OBJ_NEW_SMALL_INT(r);
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            s->ready &= ~NET_OUT;
            return mp_const_none;
        }
        if (s->connecting && errno == ENOTCONN) {
            return mp_const_none;   // still connecting: not writable yet
        }
        fail(s, errno);
    }
}
static MP_DEFINE_CONST_FUN_OBJ_2(net_send_obj, net_send);

static mp_obj_t net_shutdown(size_t n_args, const mp_obj_t *args) {
    sock_t *s = get_sock(args[0]);
    int how = n_args > 1 ? mp_obj_get_int(args[1]) : SHUT_WR;
    if (how < 0 || how > 2) {
        mp_raise_OSError(MP_EINVAL);
    }
    if (shutdown(s->fd, how) < 0 && errno != ENOTCONN) {
        mp_raise_OSError(errno);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(net_shutdown_obj, 1, 2, net_shutdown);

static mp_obj_t net_close(mp_obj_t h_in) {
    free_sock(get_sock(h_in));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(net_close_obj, net_close);

static mp_obj_t net_abort(mp_obj_t h_in) {
    sock_t *s = get_sock(h_in);
    struct linger lg = { 1, 0 };   // close with RST
    setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    free_sock(s);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(net_abort_obj, net_abort);

static mp_obj_t net_setopt(mp_obj_t h_in, mp_obj_t opt_in, mp_obj_t val_in) {
    sock_t *s = get_sock(h_in);
    int on = mp_obj_is_true(val_in);
    int r;
    switch (mp_obj_get_int(opt_in)) {
        case NET_NODELAY:
            r = setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
            break;
        case NET_KEEPALIVE:
            r = setsockopt(s->fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
            break;
        default:
            mp_raise_OSError(MP_EINVAL);
    }
    if (r < 0) {
        mp_raise_OSError(errno);
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

static void take_event(struct epoll_event *e) {
    if (e->data.u32 == CONSOLE_TAG) {
        return;   // o3s_console_poll() below drains it
    }
    sock_t *s = &socks[e->data.u32];
    if (s->fd < 0) {
        return;
    }
    uint32_t ev = e->events;
    uint8_t r = 0;
    if (ev & EPOLLIN) {
        r |= NET_IN;
    }
    if (ev & EPOLLOUT) {
        r |= NET_OUT;
    }
    if (ev & EPOLLRDHUP) {
        r |= NET_IN | NET_HUP;
    }
    if (ev & EPOLLHUP) {
        r |= NET_IN | NET_OUT | NET_HUP;
    }
    if (ev & EPOLLERR) {
        r |= NET_IN | NET_OUT | NET_ERR;
    }
    if ((r & (NET_OUT | NET_ERR)) && (s->connecting || (ev & EPOLLERR))) {
        int e2 = 0;
        socklen_t len = sizeof e2;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e2, &len);
        s->connecting = 0;
        if (e2) {
            s->err = e2;
            r |= NET_ERR | NET_IN | NET_OUT;
        }
    }
    s->ready |= r;
}

// Handles whose registered interest is ready now, one-shot.
static mp_obj_t collect(void) {
    mp_obj_t out = mp_obj_new_list(0, NULL);
    for (unsigned i = 0; i < used_top; i++) {
        sock_t *s = &socks[i];
        if (s->fd < 0 || !s->interest) {
            continue;
        }
        uint8_t rep = (s->ready & s->interest) | (s->ready & (NET_ERR | NET_HUP));
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

static int any_ready(void) {
    for (unsigned i = 0; i < used_top; i++) {
        sock_t *s = &socks[i];
        if (s->fd >= 0 && ((s->ready & s->interest) || (s->interest && (s->ready & NET_ERR)))) {
            return 1;
        }
    }
    return 0;
}

static mp_obj_t net_poll(mp_obj_t timeout_in) {
    net_init();
    mp_int_t timeout = mp_obj_get_int(timeout_in);
    if (timeout < -1) {
        timeout = 0;
    }
    if (timeout > 0x7fffffff) {
        timeout = 0x7fffffff;
    }
    o3s_console_poll();
    mp_handle_pending(true);
    if (any_ready()) {
        timeout = 0;
    }
    struct epoll_event evs[EVENTS_MAX];
    int n = epoll_wait(ep, evs, EVENTS_MAX, timeout);   // EINTR (a signal): just look again
    for (int i = 0; i < n; i++) {
        take_event(&evs[i]);
    }
    // Ctrl-C typed on the console (or SIGINT) raises KeyboardInterrupt here.
    o3s_console_poll();
    mp_handle_pending(true);
    return collect();
}
static MP_DEFINE_CONST_FUN_OBJ_1(net_poll_obj, net_poll);

static mp_obj_t net_sockname(mp_obj_t h_in) {
    sock_t *s = get_sock(h_in);
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    if (getsockname(s->fd, (struct sockaddr *)&sa, &len) < 0) {
        mp_raise_OSError(errno);
    }
    return addr_tuple(&sa);
}
static MP_DEFINE_CONST_FUN_OBJ_1(net_sockname_obj, net_sockname);

static void set_ip(char *dst, mp_obj_t src) {
    const char *s = mp_obj_str_get_str(src);
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1) {
        mp_raise_OSError(MP_EINVAL);
    }
    inet_ntop(AF_INET, &a, dst, 16);
}

// On unix the host owns the interfaces: the address is the one the node binds to.
static mp_obj_t net_ifconfig(size_t n_args, const mp_obj_t *args) {
    if (n_args == 3) {
        set_ip(if_ip, args[0]);
        set_ip(if_mask, args[1]);
        set_ip(if_gw, args[2]);
        return mp_const_none;
    }
    if (n_args != 0) {
        mp_raise_TypeError(NULL);
    }
    mp_obj_t t[3] = {
        mp_obj_new_str(if_ip, strlen(if_ip)),
        mp_obj_new_str(if_mask, strlen(if_mask)),
        mp_obj_new_str(if_gw, strlen(if_gw)),
    };
    return mp_obj_new_tuple(3, t);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(net_ifconfig_obj, 0, 3, net_ifconfig);

static mp_obj_t net_count(void) {
    int n = 0;
    for (unsigned i = 0; i < used_top; i++) {
        n += socks[i].fd >= 0;
    }
    return MP_OBJ_NEW_SMALL_INT(n);
}
static MP_DEFINE_CONST_FUN_OBJ_0(net_count_obj, net_count);

static mp_obj_t net_close_all(void) {
    for (unsigned i = 0; i < used_top; i++) {
        if (socks[i].fd >= 0) {
            free_sock(&socks[i]);
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
    { MP_ROM_QSTR(MP_QSTR_EADDRNOTAVAIL), MP_ROM_INT(EADDRNOTAVAIL) },
};
static MP_DEFINE_CONST_DICT(net_module_globals, net_module_globals_table);

const mp_obj_module_t o3s_net_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&net_module_globals,
};
MP_REGISTER_MODULE(MP_QSTR__net, o3s_net_module);
