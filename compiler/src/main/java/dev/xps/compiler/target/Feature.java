package dev.xps.compiler.target;

/**
 * Constructs a target may or may not be able to express. The capability check names the
 * construct with {@link #construct()} when it refuses a handler.
 */
public enum Feature {
    TCP("a TCP handler"),
    UDP("a UDP handler"),
    ADDRESS_MATCH("an address match ('from'/'to') in a predicate"),
    SOURCE_PORT_MATCH("a source-port match ('sport') in a predicate"),
    VARIABLE_LENGTH_FIELDS("a variable-length field (bytes(n), until, skip(n), skip_until)"),
    DECIMAL_TEXT("ASCII decimal numbers (decimal)"),
    CASE_INSENSITIVE_MATCH("a case-insensitive match (expect_ci)"),
    EXPLICIT_FRAME("an explicit message length (frame)"),
    DISPATCH("L7 dispatch"),
    WRITE_HANDLERS("a write handler"),
    RESET_VERDICT("the reset verdict"),
    MAP_WRITES("a map write in a handler (update, delete, append)"),
    LOG_MAPS("a log map"),
    MAP_STATS("per-key access statistics ('with stats')"),
    MULTIPLICATION("multiplication"),
    CONSENSUS("a consensus block");

    private final String construct;

    Feature(String construct) {
        this.construct = construct;
    }

    public String construct() {
        return construct;
    }
}
