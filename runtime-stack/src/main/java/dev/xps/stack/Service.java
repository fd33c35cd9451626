package dev.xps.stack;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The normal service behind the fast path: it receives what the handlers pass, byte for byte.
 *
 * <p>TCP: {@link #open} is called once per accepted connection (on the stack's service executor);
 * the session then receives every passed segment of that connection, in order, one call at a
 * time, and answers each with a {@link ServiceReply}. The stack writes the replies in the order
 * of the segments, interleaved correctly with fast-path responses, whatever order the stages
 * complete in.
 *
 * <p>UDP: {@link #datagram} receives each passed datagram; a non-empty reply is sent back to the
 * sender as one datagram.
 *
 * <p>Calls never happen on an I/O thread, so a service may block (it delays only its own
 * connection's replies and the executor it runs on).
 */
public interface Service {
    /** A connection was accepted. */
    default Session open(ConnectionInfo connection) {
        return bytes -> CompletableFuture.completedFuture(ServiceReply.nothing(true));
    }

    /** A datagram the handlers passed (or that no handler matched). */
    default CompletionStage<ServiceReply> datagram(ConnectionInfo from, byte[] bytes) {
        return CompletableFuture.completedFuture(ServiceReply.nothing(true));
    }

    /** One connection's service state (its parser, typically). */
    interface Session {
        /** The next passed segment: exactly the bytes received. */
        CompletionStage<ServiceReply> received(byte[] bytes);

        /** The connection is gone (closed by either side, or reset). */
        default void closed() {}
    }
}
