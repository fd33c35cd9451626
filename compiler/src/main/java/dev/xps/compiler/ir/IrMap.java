package dev.xps.compiler.ir;

import dev.xps.compiler.diag.SourceLocation;

/**
 * A data map shared between the fast path and the service. For {@link MapKind#LOG} the key type
 * is u64 (the entry index). {@code stats} asks for a per-key access counter.
 */
public record IrMap(String name, MapKind kind, IrType keyType, IrType valueType, long capacity,
                    boolean stats, SourceLocation location) {}
