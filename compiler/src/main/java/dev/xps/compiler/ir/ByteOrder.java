package dev.xps.compiler.ir;

public enum ByteOrder {
    BIG,
    LITTLE
}
