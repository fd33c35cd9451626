package dev.xps.runtime;

/** How a map is organised; see {@link XpsMap} for what each kind does on lookup, put and delete. */
public enum MapKind {
    /** Exact-match key/value, at most {@code capacity} entries. */
    HASH,
    /** Integer index in {@code [0, capacity)}; every slot exists and starts zeroed. */
    ARRAY,
    /** Append-only, entries indexed from 1. */
    LOG
}
