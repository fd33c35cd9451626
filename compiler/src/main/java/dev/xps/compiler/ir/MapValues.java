package dev.xps.compiler.ir;

/**
 * The canonical byte layout of map keys and values, shared by every target and by the agent:
 * integers are little-endian in exactly their declared width (the layout of a C integer in a BPF
 * map on the little-endian machines we target); bytes are their content, any length up to the
 * declared maximum.
 */
public final class MapValues {
    private MapValues() {}

    public static byte[] encodeInt(long value, int byteWidth) {
        byte[] out = new byte[byteWidth];
        for (int i = 0; i < byteWidth; i++) {
            out[i] = (byte) (value >>> (8 * i));
        }
        return out;
    }

    public static long decodeInt(byte[] bytes) {
        long v = 0;
        for (int i = bytes.length - 1; i >= 0; i--) {
            v = (v << 8) | (bytes[i] & 0xFF);
        }
        return v;
    }
}
