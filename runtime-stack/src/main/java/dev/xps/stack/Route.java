package dev.xps.stack;

import dev.xps.runtime.EntryPoint;
import dev.xps.runtime.XpsProgram;
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
            return program.route(c.protocol(), bytes(c.remote()), c.remote().getPort(), bytes(c.local()),
                    c.logicalPort());
        }
    }

    record Pinned(String entryName) implements Route {
        @Override
        public Optional<EntryPoint> find(XpsProgram program, ConnectionInfo c) {
            return program.entryPoint(entryName);
        }
    }

    /** The address's bytes (4 or 16, network order; the runtime treats IPv4-mapped ones as IPv4); none if unknown. */
    static byte[] bytes(InetSocketAddress address) {
        InetAddress a = address == null ? null : address.getAddress();
        return a == null ? new byte[0] : a.getAddress();
    }
}
