package dev.xps.compiler.ir;

/** A named, single-assignment value inside a handler. */
public record IrLocal(String name, IrType type) {}
