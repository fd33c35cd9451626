package dev.xps.runtime;

/**
 * The canonical byte layout of integer map keys and values, shared by every target and by the
 * agent: little-endian, exactly the declared width (the layout of a C integer in a BPF map on the
 * little-endian machines XPS targets). Storing a u64 into a narrower slot keeps its low bytes.
 */
public final class MapLayout {
    private MapLayout() {}

    /** The low {@code byteWidth} bytes of {@code value}, little-endian. */
    public static byte[] encodeInt(long value, int byteWidth) {
        byte[] out = new byte[byteWidth];
        for (int i = 0; i < byteWidth; i++) {
            out[i] = (byte) (value >>> (8 * i));
        }
        return out;
    }

    /** A little-endian unsigned integer of 1 to 8 bytes, zero-extended. */
    public static long decodeInt(byte[] bytes) {
        long value = 0;
        for (int i = bytes.length - 1; i >= 0; i--) {
            value = (value << 8) | (bytes[i] & 0xFF);
        }
        return value;
    }
}
