package dev.xps.compiler.ir;

public enum Protocol {
    TCP,
    UDP
}
