package dev.xps.consensus;

import java.net.InetSocketAddress;

/**
 * Client requests that the group's {@link OrderPredicate} does not match go here, on the leader, as if there were
 * no consensus block (e.g. the timestamp server's PROBE, the KV store's GET). Called on the node's I/O thread: keep
 * it short and thread-safe with respect to the service.
 */
@FunctionalInterface
public interface UnorderedHandler {
    /** @return the reply to send from port {@code P}, or {@code null} to drop the request */
    byte[] handle(InetSocketAddress client, byte[] request);
}
