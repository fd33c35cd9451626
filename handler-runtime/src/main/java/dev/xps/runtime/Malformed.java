package dev.xps.runtime;

/**
 * The bytes received cannot be the message the decode block describes, however many more arrive.
 * The handler answers with its decode block's {@code else} verdict (see
 * {@link Message#malformed(Verdict)}).
 */
public final class Malformed extends DecodeFailure {
    private static final long serialVersionUID = 1L;

    public static final Malformed INSTANCE = new Malformed();

    private Malformed() {
        super("malformed message");
    }
}
