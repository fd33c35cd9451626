package dev.xps.runtime;

/**
 * Why a decode step could not produce a value. Thrown by {@link Message}'s decode methods and
 * caught by the generated handler ({@link Malformed}) or by the {@link SegmentProcessor}
 * ({@link Incomplete}).
 *
 * <p>Both are preallocated singletons without a stack trace: failing to decode is an ordinary
 * outcome on the fast path (a request split across two reads, a request the fast path does not
 * understand), so it must cost no more than a return code.
 */
public abstract sealed class DecodeFailure extends RuntimeException permits Incomplete, Malformed {
    private static final long serialVersionUID = 1L;

    DecodeFailure(String message) {
        super(message, null, false, false);
    }
}
