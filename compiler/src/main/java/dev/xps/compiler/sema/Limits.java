package dev.xps.compiler.sema;

/**
 * Language-level bounds, the same for every target (targets may be stricter: see
 * {@link dev.xps.compiler.target.Capabilities}).
 */
public final class Limits {
    private Limits() {}

    /** The largest message, response, field or offset: a 16-bit length, as in IP. */
    public static final int MAX_BYTES = 65_535;
    /** 19 decimal digits always fit in an unsigned 64-bit integer. */
    public static final int MAX_DECIMAL_DIGITS = 19;
    public static final long MAX_CAPACITY = 4_294_967_295L;
    /** Dispatch on bytes compares at most this many bytes. */
    public static final int MAX_DISPATCH_BYTES = 64;
    /** Quorum sets are 64-bit bitmaps on every data plane. */
    public static final int MAX_REPLICAS = 63;
    /** Messages per segment: the kernel needs a bounded loop, so every target uses this bound. */
    public static final int MAX_MESSAGES_PER_SEGMENT = 32;
}
