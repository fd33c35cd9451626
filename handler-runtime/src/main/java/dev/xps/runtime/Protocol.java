package dev.xps.runtime;

public enum Protocol {
    TCP,
    UDP
}
