/**
 * The abstract syntax tree: immutable records, one per construct, each with the source location
 * of its first token. The ANTLR parse tree never leaves {@code dev.xps.compiler.parse}; nothing
 * here has been checked yet except what the grammar itself guarantees (numbers are in u64 range,
 * escapes are valid). The small enums of the IR (Verdict, MapKind, Protocol, ByteOrder) are
 * reused rather than mirrored.
 */
package dev.xps.compiler.ast;
