package dev.xps.agent;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Destroys a TCP socket by its 4-tuple with netlink SOCK_DIAG {@code SOCK_DESTROY} (the kernel aborts the socket:
 * an RST goes to the peer, the local socket's calls fail with ECONNABORTED). Needs a kernel built with
 * {@code CONFIG_INET_DIAG_DESTROY} and CAP_NET_ADMIN; {@link #probe()} says whether it works. An IPv6 connection
 * is an {@code AF_INET6} socket; an IPv4 one is an {@code AF_INET} socket or, on an {@code AF_INET6} listener, one
 * with v4-mapped ends, so for IPv4 both families are tried.
 */
public final class SocketDestroyer {
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int AF_NETLINK = 16;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int NETLINK_SOCK_DIAG = 4;
    private static final short SOCK_DESTROY = 21;
    private static final short NLM_F_REQUEST = 1;
    private static final short NLM_F_ACK = 4;
    private static final short NLMSG_ERROR = 2;
    private static final int IPPROTO_TCP = 6;
    private static final int ENOENT = 2;
    private static final int EOPNOTSUPP = 95;
    private static final int REQUEST_SIZE = 16 + 56; // nlmsghdr + inet_diag_req_v2

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SOCKET = libc("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SEND = libc("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle RECV = libc("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private SocketDestroyer() {}

    private static MethodHandle libc(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd,
                Linker.Option.captureCallState("errno"));
    }

    /** Why the agent cannot destroy sockets here, or null if it can (asks the kernel to destroy a socket that cannot exist). */
    public static String probe() {
        int err = destroy(AF_INET, new byte[] {127, 0, 0, 1}, 0, new byte[] {127, 0, 0, 1}, 0);
        return switch (err) {
            case 0, ENOENT -> null;
            case EOPNOTSUPP -> "the kernel cannot destroy sockets (SOCK_DESTROY: EOPNOTSUPP; it needs CONFIG_INET_DIAG_DESTROY)";
            default -> "SOCK_DESTROY failed: errno " + err;
        };
    }

    /** True if a socket matching the event was destroyed; false if there was none (already closed). */
    public static boolean destroy(Context.ResetEvent e) {
        int err;
        if (e.ipv6()) {
            err = destroy(AF_INET6, ip6(e.localIp()), e.localPort(), ip6(e.remoteIp()), e.remotePort());
        } else {
            byte[] local = ip4(e.localIp());
            byte[] remote = ip4(e.remoteIp());
            err = destroy(AF_INET, local, e.localPort(), remote, e.remotePort());
            if (err == ENOENT) {
                err = destroy(AF_INET6, mapped(local), e.localPort(), mapped(remote), e.remotePort());
            }
        }
        if (err == 0) {
            return true;
        }
        if (err == ENOENT) {
            return false;
        }
        throw new AgentException("cannot destroy the socket " + e + ": "
                + (err == EOPNOTSUPP ? "the kernel lacks CONFIG_INET_DIAG_DESTROY" : "errno " + err));
    }

    private static byte[] ip4(String dotted) {
        String[] p = dotted.split("\\.");
        return new byte[] {(byte) Integer.parseInt(p[0]), (byte) Integer.parseInt(p[1]), (byte) Integer.parseInt(p[2]),
                (byte) Integer.parseInt(p[3])};
    }

    /** An IPv6 literal's 16 bytes ({@code InetAddress.ofLiteral} parses, it never looks a name up). */
    private static byte[] ip6(String literal) {
        byte[] a = java.net.InetAddress.ofLiteral(literal).getAddress();
        return a.length == 16 ? a : mapped(a); // a v4-mapped literal comes back as an Inet4Address
    }

    private static byte[] mapped(byte[] v4) {
        byte[] a = new byte[16];
        a[10] = (byte) 0xff;
        a[11] = (byte) 0xff;
        System.arraycopy(v4, 0, a, 12, 4);
        return a;
    }

    /** Sends one SOCK_DESTROY request and returns the kernel's answer: 0 or a positive errno. */
    private static int destroy(int family, byte[] src, int sport, byte[] dst, int dport) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cap = arena.allocate(CAPTURE);
            int fd = (int) SOCKET.invokeExact(cap, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
            if (fd < 0) {
                return (int) ERRNO.get(cap, 0L);
            }
            try {
                MemorySegment req = arena.allocate(REQUEST_SIZE, 8);
                req.set(JAVA_INT, 0, REQUEST_SIZE);                      // nlmsg_len
                req.set(JAVA_SHORT, 4, SOCK_DESTROY);                    // nlmsg_type
                req.set(JAVA_SHORT, 6, (short) (NLM_F_REQUEST | NLM_F_ACK));
                req.set(JAVA_INT, 8, 1);                                 // seq
                req.set(JAVA_BYTE, 16, (byte) family);                   // sdiag_family
                req.set(JAVA_BYTE, 17, (byte) IPPROTO_TCP);              // sdiag_protocol
                req.set(JAVA_INT, 20, -1);                               // idiag_states: all
                var be16 = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);
                req.set(be16, 24, (short) sport);                        // id.idiag_sport
                req.set(be16, 26, (short) dport);                        // id.idiag_dport
                MemorySegment.copy(src, 0, req, JAVA_BYTE, 28, src.length); // id.idiag_src[4]
                MemorySegment.copy(dst, 0, req, JAVA_BYTE, 44, dst.length); // id.idiag_dst[4]
                req.set(JAVA_INT, 64, -1);                               // id.idiag_cookie: INET_DIAG_NOCOOKIE
                req.set(JAVA_INT, 68, -1);
                long sent = (long) SEND.invokeExact(cap, fd, req, (long) REQUEST_SIZE, 0);
                if (sent < 0) {
                    return (int) ERRNO.get(cap, 0L);
                }
                MemorySegment ack = arena.allocate(512, 8);
                long n = (long) RECV.invokeExact(cap, fd, ack, 512L, 0);
                if (n < 0) {
                    return (int) ERRNO.get(cap, 0L);
                }
                if (n < 20 || ack.get(JAVA_SHORT, 4) != NLMSG_ERROR) {
                    return 5; // EIO: not an ack
                }
                return -ack.get(JAVA_INT, 16);                           // nlmsgerr.error (negative errno)
            } finally {
                int ignored = (int) CLOSE.invokeExact(cap, fd);
            }
        } catch (Throwable t) {
            if (t instanceof RuntimeException r) {
                throw r;
            }
            if (t instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(t);
        }
    }
}
