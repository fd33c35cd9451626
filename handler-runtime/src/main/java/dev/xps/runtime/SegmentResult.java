package dev.xps.runtime;

import java.util.List;

/**
 * What a segment came to: the combined verdict, the response to send when it is
 * {@link Verdict#TX} (empty otherwise), and what each message that ran decided.
 */
public record SegmentResult(Verdict verdict, byte[] response, List<MessageResult> messages, Ending ending) {

    /** How the walk over the segment ended. */
    public enum Ending {
        /** Every message ran; the verdict combines theirs. */
        COMPLETE,
        /** Nothing was received: PASS. */
        EMPTY,
        /** The last message needs more bytes: PASS. */
        INCOMPLETE,
        /** More than {@link SegmentProcessor#MAX_MESSAGES_PER_SEGMENT} messages: PASS. */
        TOO_MANY_MESSAGES,
        /** A message said RESET: the connection ends, later messages are not examined. */
        RESET
    }

    /**
     * One message: where it started and how long it was (relative to the segment), its verdict,
     * whether it was malformed, and the response it encoded (empty unless its verdict is TX).
     */
    public record MessageResult(int offset, int length, Verdict verdict, boolean malformed, byte[] response) {}
}
