/**
 * The XPS intermediate representation: what every backend consumes.
 *
 * <p>The IR is a typed, structured tree (not a CFG) because every target we generate for
 * (Java, eBPF C, P4, Micro-C) is itself structured code, and keeping the handler's shape makes
 * the generated code read like the source. Everything in it is bounded: every byte string has a
 * maximum length, every decode operation has a maximum span, every handler a maximum message
 * and response size. Names are the user's names, already checked to be unique and defined before
 * use, so backends never need a symbol table. See docs/ir.md.
 */
package dev.xps.compiler.ir;
