package dev.xps.stack;

import dev.xps.runtime.Protocol;
import java.net.InetSocketAddress;

/**
 * Who is talking: the client ({@code remote}), the server's socket ({@code local}) and the port
 * the handlers' predicates see ({@code logicalPort}, the listener's port unless it was bound
 * elsewhere, e.g. a test on an ephemeral port standing for port 6379).
 */
public record ConnectionInfo(Protocol protocol, InetSocketAddress remote, InetSocketAddress local, int logicalPort) {}
