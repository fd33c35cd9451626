package dev.xps.compiler.ir;

/** What a handler decides for one message. */
public enum Verdict {
    /** Answer from the fast path with the encoded response. */
    TX,
    /** Discard the message silently. */
    DROP,
    /** Hand the message to the service unchanged. */
    PASS,
    /** Reset the connection (TCP) or drop (UDP, where there is no connection). */
    RESET;

    public String keyword() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
