package dev.xps.consensus;

import java.util.Arrays;
import java.util.Objects;

/** One log entry: its op number, the client that sent it and the request bytes. */
public record LogEntry(long op, int clientIpv4, int clientPort, byte[] request) {
    public LogEntry {
        request = Objects.requireNonNull(request, "request").clone();
    }

    @Override
    public byte[] request() {
        return request.clone();
    }

    byte[] requestUnsafe() {
        return request;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LogEntry e && e.op == op && e.clientIpv4 == clientIpv4 && e.clientPort == clientPort
                && Arrays.equals(e.request, request);
    }

    @Override
    public int hashCode() {
        return Objects.hash(op, clientIpv4, clientPort, Arrays.hashCode(request));
    }

    @Override
    public String toString() {
        return "LogEntry[op=" + op + ", client=" + (clientIpv4 >>> 24) + "." + ((clientIpv4 >>> 16) & 0xff) + "."
                + ((clientIpv4 >>> 8) & 0xff) + "." + (clientIpv4 & 0xff) + ":" + clientPort + ", "
                + request.length + " bytes]";
    }
}
