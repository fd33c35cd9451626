package dev.xps.runtime;

/** Ports {@code low..high}, both included. */
public record PortRange(int low, int high) {
    public PortRange {
        if (low < 0 || high > 65_535 || low > high) {
            throw new IllegalArgumentException("port range " + low + ".." + high);
        }
    }

    public static PortRange of(int port) {
        return new PortRange(port, port);
    }

    public static PortRange of(int low, int high) {
        return new PortRange(low, high);
    }

    public boolean contains(int port) {
        return port >= low && port <= high;
    }

    @Override
    public String toString() {
        return low == high ? Integer.toString(low) : low + ".." + high;
    }
}
