package dev.xps.runtime;

import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The bytes a handler's {@code encode} statements produce, in order. The methods mirror the
 * encode items of the language and return {@code this}, so one encode statement is one chain:
 * {@code out.append(DOLLAR).decimal(value.length).append(CRLF).append(value).append(CRLF);}
 *
 * <p>Not thread-safe: one response is built by one thread.
 */
public final class Response {
    private byte[] buffer;
    private int length;

    public Response() {
        this(256);
    }

    public Response(int initialCapacity) {
        buffer = new byte[Math.max(16, initialCapacity)];
    }

    /** A literal or a bytes value. */
    public Response append(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buffer, length, bytes.length);
        length += bytes.length;
        return this;
    }

    /** {@code decimal(v)}: {@code v} as an unsigned ASCII decimal number, without padding. */
    public Response decimal(long value) {
        ensure(20);
        int digits = 1;
        for (long rest = Long.divideUnsigned(value, 10); rest != 0; rest = Long.divideUnsigned(rest, 10)) {
            digits++;
        }
        long rest = value;
        for (int i = digits - 1; i >= 0; i--) {
            buffer[length + i] = (byte) ('0' + Long.remainderUnsigned(rest, 10));
            rest = Long.divideUnsigned(rest, 10);
        }
        length += digits;
        return this;
    }

    public Response u8(long value) {
        return uint(value, 1, ByteOrder.BIG_ENDIAN);
    }

    public Response u16be(long value) {
        return uint(value, 2, ByteOrder.BIG_ENDIAN);
    }

    public Response u16le(long value) {
        return uint(value, 2, ByteOrder.LITTLE_ENDIAN);
    }

    public Response u32be(long value) {
        return uint(value, 4, ByteOrder.BIG_ENDIAN);
    }

    public Response u32le(long value) {
        return uint(value, 4, ByteOrder.LITTLE_ENDIAN);
    }

    public Response u64be(long value) {
        return uint(value, 8, ByteOrder.BIG_ENDIAN);
    }

    public Response u64le(long value) {
        return uint(value, 8, ByteOrder.LITTLE_ENDIAN);
    }

    /** The low {@code width} bytes (1..8) of {@code value} in {@code order}. */
    public Response uint(long value, int width, ByteOrder order) {
        ensure(width);
        for (int i = 0; i < width; i++) {
            int shift = order == ByteOrder.BIG_ENDIAN ? 8 * (width - 1 - i) : 8 * i;
            buffer[length + i] = (byte) (value >>> shift);
        }
        length += width;
        return this;
    }

    public int length() {
        return length;
    }

    /** Forgets everything after the first {@code newLength} bytes (a message that did not answer). */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IndexOutOfBoundsException(newLength);
        }
        length = newLength;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buffer, length);
    }

    /** A copy of the bytes in {@code [from, to)}. */
    public byte[] slice(int from, int to) {
        if (from < 0 || to > length || from > to) {
            throw new IndexOutOfBoundsException("[" + from + ", " + to + ") of " + length);
        }
        return Arrays.copyOfRange(buffer, from, to);
    }

    private void ensure(int extra) {
        if (length + extra > buffer.length) {
            buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, length + extra));
        }
    }
}
