package dev.xps.runtime;

import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One message being decoded: a view of the received segment from the message's first byte to the
 * end of the segment, with the decode state of the language's {@code decode} block.
 *
 * <p>Offsets are relative to the message start. The {@linkplain #cursor() cursor} is where the
 * next sequential step reads; {@linkplain #furthest() furthest} is the end of the furthest byte
 * any step has taken, at the cursor or at a fixed {@code at} offset (fixed-offset reads leave the
 * cursor alone). When decoding is done, the message is {@code frame} bytes long if a
 * {@link #frame} step ran, else {@code max(cursor, furthest)}; a handler without a decode block,
 * and a malformed message, take the whole rest of the segment.
 *
 * <p>Every decode method either returns its value or throws {@link Incomplete#INSTANCE} (more
 * bytes are needed) or {@link Malformed#INSTANCE} (no amount of further bytes would help). Values
 * returned as {@code byte[]} are fresh copies: the segment buffer may be reused by the host.
 *
 * <p>Not thread-safe: a message is decoded by one thread.
 */
public final class Message {
    private final byte[] data;
    private final int start;
    private final int end;
    private int cursor;
    private int furthest;
    private int frame = -1;
    private int length;
    private boolean malformed;

    /** The message starting at {@code data[start]} in a segment that ends before {@code data[end]}. */
    public Message(byte[] data, int start, int end) {
        if (start < 0 || end > data.length || start > end) {
            throw new IndexOutOfBoundsException("message [" + start + ", " + end + ") of " + data.length + " bytes");
        }
        this.data = data;
        this.start = start;
        this.end = end;
        this.length = end - start;
    }

    /** A message over all of {@code data}. */
    public static Message of(byte[] data) {
        return new Message(data, 0, data.length);
    }

    // ------------------------------------------------------------------ state

    /** Bytes from the message start to the end of the received segment. */
    public int size() {
        return end - start;
    }

    /** Bytes received after the cursor. */
    public int available() {
        return end - start - cursor;
    }

    public int cursor() {
        return cursor;
    }

    public int furthest() {
        return furthest;
    }

    /**
     * How many bytes of the segment this message consumes: the whole rest of the segment until
     * {@link #endDecode()} or {@link #malformed(Verdict)} decides otherwise.
     */
    public int length() {
        return length;
    }

    /** True once {@link #malformed(Verdict)} was called. */
    public boolean isMalformed() {
        return malformed;
    }

    // ------------------------------------------------------------------ sequential steps

    /** {@code expect "literal"}: the literal bytes at the cursor. */
    public void expect(byte[] literal) {
        match(literal, false);
    }

    /** {@code expect_ci "literal"}: like {@link #expect}, ASCII letters compared without case. */
    public void expectIgnoreCase(byte[] literal) {
        match(literal, true);
    }

    private void match(byte[] literal, boolean ignoreCase) {
        int base = start + cursor;
        int n = Math.min(literal.length, available());
        for (int i = 0; i < n; i++) {
            byte a = data[base + i];
            byte b = literal[i];
            if (a != b && !(ignoreCase && foldAscii(a) == foldAscii(b))) {
                throw Malformed.INSTANCE;
            }
        }
        // A matching prefix may still become the literal once the rest arrives.
        if (n < literal.length) {
            throw Incomplete.INSTANCE;
        }
        advance(literal.length);
    }

    private static int foldAscii(byte b) {
        return b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b;
    }

    /** {@code skip n}. */
    public void skip(int count) {
        need(count);
        advance(count);
    }

    /** {@code skip(count) max m}: malformed when {@code count > max} (unsigned). */
    public void skip(long count, int max) {
        skip(bounded(count, max));
    }

    /** {@code skip_until "delim" max m}: past the first delimiter that starts at most {@code max} bytes after the cursor. */
    public void skipUntil(byte[] delimiter, int max) {
        int at = find(delimiter, max);
        advance(at - cursor + delimiter.length);
    }

    /** {@code until "delim" max m}: the bytes before the delimiter (at most {@code max}); consumes the delimiter too. */
    public byte[] until(byte[] delimiter, int max) {
        int at = find(delimiter, max);
        byte[] value = Arrays.copyOfRange(data, start + cursor, start + at);
        advance(at - cursor + delimiter.length);
        return value;
    }

    /** The relative offset where {@code delimiter} starts, searching from the cursor. */
    private int find(byte[] delimiter, int max) {
        int first = start + cursor;
        long last = Math.min((long) first + max, (long) end - delimiter.length);
        for (int p = first; p <= last; p++) {
            if (Arrays.equals(data, p, p + delimiter.length, delimiter, 0, delimiter.length)) {
                return p - start;
            }
        }
        // Every allowed position was fully visible and none matched: it never will.
        if ((long) available() >= (long) max + delimiter.length) {
            throw Malformed.INSTANCE;
        }
        throw Incomplete.INSTANCE;
    }

    /**
     * {@code decimal max d digits}: 1 to {@code maxDigits} ASCII digits at the cursor, as an
     * unsigned 64-bit value (wrapping, like every other u64 operation). The number ends at the
     * first non-digit, which is looked at but not consumed; until that byte has been received the
     * number may still grow, so the message is incomplete.
     */
    public long decimal(int maxDigits) {
        int base = start + cursor;
        long value = 0;
        for (int i = 0; i <= maxDigits; i++) {
            if (base + i >= end) {
                throw Incomplete.INSTANCE;
            }
            byte b = data[base + i];
            if (b < '0' || b > '9') {
                if (i == 0) {
                    throw Malformed.INSTANCE;
                }
                advance(i);
                return value;
            }
            if (i == maxDigits) {
                throw Malformed.INSTANCE;
            }
            value = value * 10 + (b - '0');
        }
        throw new AssertionError("unreachable");
    }

    /** {@code bytes(length) max m}: malformed when {@code length > max} (unsigned). */
    public byte[] bytes(long length, int max) {
        return bytes(bounded(length, max));
    }

    /** {@code bytes[size]} at the cursor. */
    public byte[] bytes(int size) {
        need(size);
        byte[] value = Arrays.copyOfRange(data, start + cursor, start + cursor + size);
        advance(size);
        return value;
    }

    public long u8() {
        return uint(1, ByteOrder.BIG_ENDIAN);
    }

    public long u16be() {
        return uint(2, ByteOrder.BIG_ENDIAN);
    }

    public long u16le() {
        return uint(2, ByteOrder.LITTLE_ENDIAN);
    }

    public long u32be() {
        return uint(4, ByteOrder.BIG_ENDIAN);
    }

    public long u32le() {
        return uint(4, ByteOrder.LITTLE_ENDIAN);
    }

    public long u64be() {
        return uint(8, ByteOrder.BIG_ENDIAN);
    }

    public long u64le() {
        return uint(8, ByteOrder.LITTLE_ENDIAN);
    }

    /** An unsigned integer of {@code width} bytes (1..8) at the cursor, zero-extended. */
    public long uint(int width, ByteOrder order) {
        need(width);
        long value = read(start + cursor, width, order);
        advance(width);
        return value;
    }

    // ------------------------------------------------------------------ fixed-offset steps

    /** {@code bytes[size] at offset}: does not move the cursor. */
    public byte[] bytesAt(int offset, int size) {
        reach(offset, size);
        return Arrays.copyOfRange(data, start + offset, start + offset + size);
    }

    public long u8At(int offset) {
        return uintAt(offset, 1, ByteOrder.BIG_ENDIAN);
    }

    public long u16beAt(int offset) {
        return uintAt(offset, 2, ByteOrder.BIG_ENDIAN);
    }

    public long u16leAt(int offset) {
        return uintAt(offset, 2, ByteOrder.LITTLE_ENDIAN);
    }

    public long u32beAt(int offset) {
        return uintAt(offset, 4, ByteOrder.BIG_ENDIAN);
    }

    public long u32leAt(int offset) {
        return uintAt(offset, 4, ByteOrder.LITTLE_ENDIAN);
    }

    public long u64beAt(int offset) {
        return uintAt(offset, 8, ByteOrder.BIG_ENDIAN);
    }

    public long u64leAt(int offset) {
        return uintAt(offset, 8, ByteOrder.LITTLE_ENDIAN);
    }

    /** An unsigned integer of {@code width} bytes at {@code offset}; does not move the cursor. */
    public long uintAt(int offset, int width, ByteOrder order) {
        reach(offset, width);
        return read(start + offset, width, order);
    }

    // ------------------------------------------------------------------ checks and framing

    /** {@code require cond}: malformed when false. */
    public void require(boolean condition) {
        if (!condition) {
            throw Malformed.INSTANCE;
        }
    }

    /**
     * {@code frame length max m}: the message is exactly {@code length} bytes. Malformed when it
     * exceeds {@code max} or is shorter than what was already read; incomplete until all of it has
     * been received.
     */
    public void frame(long length, int max) {
        if (Long.compareUnsigned(length, max) > 0 || length < furthest) {
            throw Malformed.INSTANCE;
        }
        if (length > size()) {
            throw Incomplete.INSTANCE;
        }
        frame = (int) length;
    }

    /** Ends the decode block: from here on the message is {@link #length()} bytes long. */
    public void endDecode() {
        int decoded = frame >= 0 ? frame : Math.max(cursor, furthest);
        // An empty message would consume nothing and stall the segment walk.
        if (decoded == 0) {
            throw Malformed.INSTANCE;
        }
        length = decoded;
    }

    /**
     * Records that decoding failed with {@link Malformed}: the message consumes the rest of the
     * segment. Returns {@code verdict} so generated code reads {@code return msg.malformed(Verdict.PASS);}.
     */
    public Verdict malformed(Verdict verdict) {
        malformed = true;
        length = size();
        return verdict;
    }

    // ------------------------------------------------------------------ dispatch

    /**
     * The dispatch selector: an unsigned integer at {@code offset}. Unlike a decode step it is
     * not part of the message's extent: the selected handler decodes the message from scratch.
     */
    public long peekUint(int offset, int width, ByteOrder order) {
        checkReach(offset, width);
        return read(start + offset, width, order);
    }

    /** The dispatch selector as bytes; see {@link #peekUint}. */
    public byte[] peekBytes(int offset, int length) {
        checkReach(offset, length);
        return Arrays.copyOfRange(data, start + offset, start + offset + length);
    }

    // ------------------------------------------------------------------ internals

    private int bounded(long length, int max) {
        if (Long.compareUnsigned(length, max) > 0) {
            throw Malformed.INSTANCE;
        }
        return (int) length;
    }

    private void need(int count) {
        if (count > available()) {
            throw Incomplete.INSTANCE;
        }
    }

    private void advance(int count) {
        cursor += count;
        furthest = Math.max(furthest, cursor);
    }

    private void reach(int offset, int count) {
        checkReach(offset, count);
        furthest = Math.max(furthest, offset + count);
    }

    private void checkReach(int offset, int count) {
        if ((long) offset + count > size()) {
            throw Incomplete.INSTANCE;
        }
    }

    private long read(int at, int width, ByteOrder order) {
        long value = 0;
        if (order == ByteOrder.BIG_ENDIAN) {
            for (int i = 0; i < width; i++) {
                value = (value << 8) | (data[at + i] & 0xFF);
            }
        } else {
            for (int i = width - 1; i >= 0; i--) {
                value = (value << 8) | (data[at + i] & 0xFF);
            }
        }
        return value;
    }
}
