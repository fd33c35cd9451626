package dev.xps.stack;

import dev.xps.runtime.EntryPoint;
import dev.xps.runtime.XpsProgram;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * How a listener finds the entry point for a segment: by the predicates (the normal case: the
 * 5-tuple with the listener's logical port), or pinned to one entry point by name (tests, or a
 * service that wants exactly one handler on a socket whatever its port). Looked up per segment,
 * so a hot-swapped program takes effect on the next segment.
 */
sealed interface Route {
    Optional<EntryPoint> find(XpsProgram program, ConnectionInfo connection);

    record ByPredicate() implements Route {
        @Override
        public Optional<EntryPoint> find(XpsProgram program, ConnectionInfo c) {
            return program.route(c.protocol(), ipv4(c.remote()), c.remote().getPort(), ipv4(c.local()),
                    c.logicalPort());
        }
    }

    record Pinned(String entryName) implements Route {
        @Override
        public Optional<EntryPoint> find(XpsProgram program, ConnectionInfo c) {
            return program.entryPoint(entryName);
        }
    }

    /** The address as the runtime's int (network order); 0 for IPv6 that is not IPv4-mapped. */
    static int ipv4(InetSocketAddress address) {
        InetAddress a = address == null ? null : address.getAddress();
        byte[] b;
        if (a instanceof Inet4Address) {
            b = a.getAddress();
        } else if (a != null && a.getAddress().length == 16 && isMapped(a.getAddress())) {
            byte[] all = a.getAddress();
            b = new byte[] {all[12], all[13], all[14], all[15]};
        } else {
            return 0;
        }
        return ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
    }

    private static boolean isMapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xFF && a[11] == (byte) 0xFF;
    }
}
