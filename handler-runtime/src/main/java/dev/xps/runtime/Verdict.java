package dev.xps.runtime;

/** What a handler decides for one message (and, combined, for a whole segment). */
public enum Verdict {
    /** Answer from the fast path with the encoded response. */
    TX,
    /** Discard the message silently. */
    DROP,
    /** Hand the data to the service unchanged. */
    PASS,
    /** Reset the connection (TCP) or drop (UDP, where there is no connection). */
    RESET
}
