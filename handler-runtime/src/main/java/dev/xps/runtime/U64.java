package dev.xps.runtime;

/**
 * Unsigned 64-bit operations whose Java spelling would mean something else. Addition,
 * subtraction, multiplication and the bitwise operators of {@code long} already wrap exactly like
 * u64; comparisons use {@link Long#compareUnsigned}.
 */
public final class U64 {
    private U64() {}

    /** {@code value << count}; 0 when {@code count >= 64} (Java would shift by {@code count & 63}). */
    public static long shl(long value, long count) {
        return Long.compareUnsigned(count, 64) >= 0 ? 0 : value << count;
    }

    /** Logical {@code value >> count}; 0 when {@code count >= 64}. */
    public static long shr(long value, long count) {
        return Long.compareUnsigned(count, 64) >= 0 ? 0 : value >>> count;
    }
}
