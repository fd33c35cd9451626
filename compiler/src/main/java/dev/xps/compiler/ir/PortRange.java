package dev.xps.compiler.ir;

public record PortRange(int low, int high) {
    public static PortRange single(int port) {
        return new PortRange(port, port);
    }

    public boolean overlaps(PortRange other) {
        return low <= other.high && other.low <= high;
    }

    public boolean isSingle() {
        return low == high;
    }

    @Override
    public String toString() {
        return isSingle() ? Integer.toString(low) : low + ".." + high;
    }
}
