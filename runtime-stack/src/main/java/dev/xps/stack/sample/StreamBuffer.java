package dev.xps.stack.sample;

import java.util.Arrays;

/** The bytes of a connection the service has received but not yet parsed. */
final class StreamBuffer {
    private byte[] buf = new byte[0];
    private int len;

    void append(byte[] b) {
        if (len == 0) {
            buf = b;
            len = b.length;
            return;
        }
        if (len + b.length > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + b.length));
        }
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
    }

    byte[] array() {
        return buf;
    }

    int length() {
        return len;
    }

    /** Drops the first {@code n} bytes. */
    void consume(int n) {
        if (n >= len) {
            buf = new byte[0];
            len = 0;
            return;
        }
        buf = Arrays.copyOfRange(buf, n, len);
        len -= n;
    }

    boolean isEmpty() {
        return len == 0;
    }
}
