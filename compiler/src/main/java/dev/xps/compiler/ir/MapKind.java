package dev.xps.compiler.ir;

public enum MapKind {
    /** Key/value with exact-match lookup. */
    HASH,
    /** Integer index in [0, capacity), every slot always present (zero-filled). */
    ARRAY,
    /** Append-only, ordered, indexed from 1; for consensus and replicated logs. */
    LOG
}
