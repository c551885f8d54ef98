// _net: the contract every implementation keeps (modnet_unix.c over BSD sockets + epoll;
// the lwIP raw-API one over NO_SYS=1, polled). Nothing in it ever blocks except poll().
//
// Sockets are small integer handles (a slot and a generation, so a stale handle from a
// closed socket is EBADF, never somebody else's connection).
//
//   listen(addr, port, backlog) -> h           addr "0.0.0.0" for any; SO_REUSEADDR on
//   accept(h) -> (h2, peer_ip, peer_port) | None   None: nothing pending; NODELAY on
//   connect(addr, port) -> h                   in progress: poll reports OUT when connected,
//                                              ERR when it failed (the next call raises it)
//   recv_into(h, buf[, n]) -> count | 0 at EOF | None when it would block
//   send(h, buf) -> bytes accepted (may be short) | None when nothing fits now
//   shutdown(h[, how=SHUT_WR])                 SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2
//   close(h)                                   graceful (FIN after queued data)
//   abort(h)                                   reset (RST), frees the handle
//   setopt(h, opt, value)                      NODELAY, KEEPALIVE (bool)
//   register(h, events)                        interest IN|OUT (0: none); one-shot: poll
//                                              clears the bits it reports
//   poll(timeout_ms) -> [(h, events), ...]     waits (timeout -1: no limit) for registered
//                                              interest; ERR/HUP are reported to any
//                                              handle with interest; services the console
//                                              meanwhile and raises KeyboardInterrupt on Ctrl-C
//   error(h) -> errno | 0                      the pending error, without raising
//   sockname(h) -> (ip, port)
//   ifconfig() -> (ip, netmask, gateway); ifconfig(ip, netmask, gateway) sets them
//   count() -> open handles; close_all()       (maintenance shell, soft reboot)
//
// Errors are OSError(errno) with the codes below (also module constants): ECONNRESET,
// EPIPE, ECONNREFUSED, ECONNABORTED, ETIMEDOUT, ENOTCONN, EADDRINUSE, EADDRNOTAVAIL,
// EHOSTUNREACH, EMFILE (no free handle), EBADF (unknown/closed handle), EINVAL.
// Once a socket has failed, every later recv_into/send on it raises the same error.
#ifndef O3S_NET_H
#define O3S_NET_H

// Event bits: the values of MicroPython's select.POLL* constants.
#define NET_IN      (0x01)
#define NET_OUT     (0x04)
#define NET_ERR     (0x08)
#define NET_HUP     (0x10)   // the peer closed its side (reading gives EOF)

// setopt options
#define NET_NODELAY     (1)
#define NET_KEEPALIVE   (2)

#endif
