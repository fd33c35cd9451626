package dev.xps.stack;

/**
 * What the service answers for one passed TCP segment (or one passed datagram).
 *
 * @param bytes      the bytes to send back for this segment, possibly empty (the service is still
 *                   waiting for the rest of a request, or the request needs no answer). They fill
 *                   the segment's slot in the connection's ordered output queue.
 * @param atBoundary whether the service's parser is at a message boundary after this segment (no
 *                   partial request buffered). The fast path of a connection that passed an
 *                   incomplete message runs again only after a reply that says so (see
 *                   {@link XpsStack}, "Resynchronisation").
 * @param close      close the connection (FIN) once these bytes are written.
 */
public record ServiceReply(byte[] bytes, boolean atBoundary, boolean close) {
    private static final byte[] NONE = new byte[0];

    public ServiceReply {
        bytes = bytes == null ? NONE : bytes;
    }

    /** Answer {@code bytes}; the parser is at a boundary. */
    public static ServiceReply of(byte[] bytes) {
        return new ServiceReply(bytes, true, false);
    }

    /** Nothing to send; {@code atBoundary} as the service's parser says. */
    public static ServiceReply nothing(boolean atBoundary) {
        return new ServiceReply(NONE, atBoundary, false);
    }
}
