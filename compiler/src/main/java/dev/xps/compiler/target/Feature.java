package dev.xps.compiler.target;

/**
 * Constructs a target may or may not be able to express. The capability check names the
 * construct with {@link #construct()} when it refuses a handler.
 */
public enum Feature {
    TCP("a TCP handler"),
    UDP("a UDP handler"),
    ADDRESS_MATCH("an address match ('from'/'to') in a predicate"),
    /** An address match whose prefix is IPv6 (the entry then sees IPv6 connections and datagrams only). */
    IPV6_ADDRESS_MATCH("an IPv6 address match ('from'/'to') in a predicate"),
    SOURCE_PORT_MATCH("a source-port match ('sport') in a predicate"),
    VARIABLE_LENGTH_FIELDS("a variable-length field (bytes(n), until, skip(n), skip_until)"),
    DECIMAL_TEXT("ASCII decimal numbers (decimal)"),
    CASE_INSENSITIVE_MATCH("a case-insensitive match (expect_ci)"),
    EXPLICIT_FRAME("an explicit message length (frame)"),
    DISPATCH("L7 dispatch"),
    WRITE_HANDLERS("a write handler"),
    RESET_VERDICT("the reset verdict"),
    MAP_WRITES("a map write in a handler (update, delete, append)"),
    /** An update or delete on a hash map (a target whose tables belong to the control plane lacks it). */
    HASH_MAP_WRITES("a write to a hash map in a handler (update, delete)"),
    /** A map whose values are bytes rather than integers. */
    BYTES_MAP_VALUES("a map with bytes values"),
    /**
     * A {@code bytes[N]} map key (in a lookup, update or delete) that is not exactly N bytes long: a
     * shorter constant or field, or a value whose length is only known at run time.
     */
    BYTES_KEYS_OF_OTHER_LENGTHS("a bytes[N] map key that is not exactly N bytes long"),
    /**
     * An encode whose position in the response is not known at compile time: after branches that
     * encode different lengths, or after a value of run-time length.
     */
    ENCODE_AT_VARIABLE_POSITION("an encode at a response position not known at compile time"),
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
