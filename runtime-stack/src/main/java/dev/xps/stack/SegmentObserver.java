package dev.xps.stack;

import dev.xps.runtime.SegmentResult;
import dev.xps.runtime.Verdict;
import java.util.Optional;

/**
 * A hook for tests and tracing: called on the I/O thread after each segment was decided, before
 * its effect (write, pass, close) is carried out. Must be quick and must not throw.
 */
@FunctionalInterface
public interface SegmentObserver {
    void segment(ConnectionInfo connection, byte[] segment, Outcome outcome);

    /** Why a segment went where it went. */
    enum Reason {
        /** The handlers ran; {@code result} says what they decided. */
        HANDLED,
        /** No entry point's predicate matched: passed. */
        NO_ENTRY,
        /** The connection is resynchronising after an incomplete message: passed without running handlers. */
        RESYNC
    }

    record Outcome(Verdict verdict, Reason reason, Optional<SegmentResult> result) {}
}
