package dev.xps.consensus;

import java.util.Arrays;

/**
 * A consensus block's {@code order} clause: which client requests are ordered (docs/consensus.md, "Client
 * requests"). {@code order all;} is {@link #all()}; {@code order when u8 at K in { a, b }} is
 * {@link #u8At(int, int...)}. A request too short to hold byte {@code K} does not match.
 */
public sealed interface OrderPredicate {
    boolean matches(byte[] request, int length);

    default boolean matches(byte[] request) {
        return matches(request, request.length);
    }

    static OrderPredicate all() {
        return All.INSTANCE;
    }

    static OrderPredicate u8At(int offset, int... values) {
        return new U8In(offset, values);
    }

    /** {@code order all;} */
    enum All implements OrderPredicate {
        INSTANCE;

        @Override
        public boolean matches(byte[] request, int length) {
            return true;
        }

        @Override
        public String toString() {
            return "order all";
        }
    }

    /** {@code order when u8 at offset in { values }}. */
    record U8In(int offset, int[] values) implements OrderPredicate {
        public U8In {
            if (offset < 0) {
                throw new IllegalArgumentException("offset must be >= 0, got " + offset);
            }
            values = values.clone();
            for (int v : values) {
                if (v < 0 || v > 255) {
                    throw new IllegalArgumentException("a u8 value is 0..255, got " + v);
                }
            }
        }

        @Override
        public boolean matches(byte[] request, int length) {
            if (length <= offset) {
                return false;
            }
            int b = request[offset] & 0xff;
            for (int v : values) {
                if (v == b) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public int[] values() {
            return values.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof U8In u && u.offset == offset && Arrays.equals(u.values, values);
        }

        @Override
        public int hashCode() {
            return 31 * offset + Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return "order when u8 at " + offset + " in " + Arrays.toString(values);
        }
    }
}
