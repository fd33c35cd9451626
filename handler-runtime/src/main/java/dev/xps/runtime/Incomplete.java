package dev.xps.runtime;

/**
 * The message needs bytes that have not been received yet. The whole segment is then passed to
 * the service, which sees the rest of the request when it arrives.
 */
public final class Incomplete extends DecodeFailure {
    private static final long serialVersionUID = 1L;

    public static final Incomplete INSTANCE = new Incomplete();

    private Incomplete() {
        super("incomplete message");
    }
}
