package dev.xps.runtime;

/**
 * The declared type of a map's keys or values, which fixes their canonical byte layout (see
 * {@link MapLayout}): an unsigned integer is exactly its width in little-endian bytes; a byte
 * string is its content, of any length up to the maximum.
 */
public sealed interface ValueType {
    /** Whether {@code bytes} has this type's layout. */
    boolean accepts(byte[] bytes);

    /** The value every array slot starts with: integer 0, or the empty string. */
    byte[] zero();

    record UInt(int byteWidth) implements ValueType {
        public UInt {
            if (byteWidth != 1 && byteWidth != 2 && byteWidth != 4 && byteWidth != 8) {
                throw new IllegalArgumentException("integer width " + byteWidth);
            }
        }

        @Override
        public boolean accepts(byte[] bytes) {
            return bytes.length == byteWidth;
        }

        @Override
        public byte[] zero() {
            return new byte[byteWidth];
        }

        @Override
        public String toString() {
            return "u" + byteWidth * 8;
        }
    }

    record Bytes(int maxLength) implements ValueType {
        public Bytes {
            if (maxLength < 0) {
                throw new IllegalArgumentException("negative maximum length " + maxLength);
            }
        }

        @Override
        public boolean accepts(byte[] bytes) {
            return bytes.length <= maxLength;
        }

        @Override
        public byte[] zero() {
            return new byte[0];
        }

        @Override
        public String toString() {
            return "bytes[" + maxLength + "]";
        }
    }

    static ValueType u8() {
        return new UInt(1);
    }

    static ValueType u16() {
        return new UInt(2);
    }

    static ValueType u32() {
        return new UInt(4);
    }

    static ValueType u64() {
        return new UInt(8);
    }

    static ValueType bytes(int maxLength) {
        return new Bytes(maxLength);
    }
}
