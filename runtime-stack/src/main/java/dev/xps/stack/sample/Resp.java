package dev.xps.stack.sample;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Just enough RESP (the Redis protocol) for {@link KvService}: command parsing and reply encoding. */
final class Resp {
    private Resp() {}

    /** A request that can never become valid. */
    static final class ProtocolError extends Exception {
        private static final long serialVersionUID = 1L;

        ProtocolError(String message) {
            super(message, null, false, false);
        }
    }

    /** One parsed command and where the next one starts. */
    record Command(List<byte[]> args, int next) {
        String name() {
            return args.isEmpty() ? "" : new String(args.get(0), StandardCharsets.ISO_8859_1).toUpperCase(java.util.Locale.ROOT);
        }
    }

    private static final int MAX_ARGS = 1 << 20;
    private static final int MAX_BULK = 512 << 20;
    private static final int MAX_INLINE = 64 << 10;

    /** The command at {@code b[pos, len)}, or null when it has not all arrived. */
    static Command parse(byte[] b, int pos, int len) throws ProtocolError {
        if (pos >= len) {
            return null;
        }
        if (b[pos] != '*') {
            return inline(b, pos, len);
        }
        int eol = crlf(b, pos, len);
        if (eol < 0) {
            if (len - pos > 32) {
                throw new ProtocolError("invalid multibulk length");
            }
            return null;
        }
        long argc = number(b, pos + 1, eol);
        if (argc < 0 || argc > MAX_ARGS) {
            throw new ProtocolError("invalid multibulk length");
        }
        int at = eol + 2;
        List<byte[]> args = new ArrayList<>((int) Math.min(argc, 16));
        for (long i = 0; i < argc; i++) {
            if (at >= len) {
                return null;
            }
            if (b[at] != '$') {
                throw new ProtocolError("expected '$', got '" + (char) b[at] + "'");
            }
            int end = crlf(b, at, len);
            if (end < 0) {
                if (len - at > 32) {
                    throw new ProtocolError("invalid bulk length");
                }
                return null;
            }
            long n = number(b, at + 1, end);
            if (n < 0 || n > MAX_BULK) {
                throw new ProtocolError("invalid bulk length");
            }
            int start = end + 2;
            if ((long) len - start < n + 2) {
                return null;
            }
            if (b[start + (int) n] != '\r' || b[start + (int) n + 1] != '\n') {
                throw new ProtocolError("bulk string not followed by CRLF");
            }
            args.add(java.util.Arrays.copyOfRange(b, start, start + (int) n));
            at = start + (int) n + 2;
        }
        return new Command(args, at);
    }

    /** {@code PING\r\n} as typed into telnet: words separated by spaces, ended by LF. */
    private static Command inline(byte[] b, int pos, int len) throws ProtocolError {
        int lf = -1;
        for (int i = pos; i < len; i++) {
            if (b[i] == '\n') {
                lf = i;
                break;
            }
        }
        if (lf < 0) {
            if (len - pos > MAX_INLINE) {
                throw new ProtocolError("too big inline request");
            }
            return null;
        }
        int end = lf > pos && b[lf - 1] == '\r' ? lf - 1 : lf;
        List<byte[]> args = new ArrayList<>();
        int i = pos;
        while (i < end) {
            while (i < end && (b[i] == ' ' || b[i] == '\t')) {
                i++;
            }
            int start = i;
            while (i < end && b[i] != ' ' && b[i] != '\t') {
                i++;
            }
            if (i > start) {
                args.add(java.util.Arrays.copyOfRange(b, start, i));
            }
        }
        return new Command(args, lf + 1);
    }

    private static int crlf(byte[] b, int from, int len) {
        for (int i = from; i + 1 < len; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private static long number(byte[] b, int from, int to) throws ProtocolError {
        if (from >= to || to - from > 18) {
            throw new ProtocolError("invalid length");
        }
        boolean negative = b[from] == '-';
        long v = 0;
        for (int i = negative ? from + 1 : from; i < to; i++) {
            if (b[i] < '0' || b[i] > '9') {
                throw new ProtocolError("invalid length");
            }
            v = v * 10 + (b[i] - '0');
        }
        return negative ? -v : v;
    }

    // ------------------------------------------------------------------ replies

    static void simple(Out out, String text) {
        out.ascii("+").ascii(text).ascii("\r\n");
    }

    static void error(Out out, String text) {
        out.ascii("-").ascii(text).ascii("\r\n");
    }

    static void integer(Out out, long n) {
        out.ascii(":").ascii(Long.toString(n)).ascii("\r\n");
    }

    static void bulk(Out out, byte[] value) {
        if (value == null) {
            out.ascii("$-1\r\n");
            return;
        }
        out.ascii("$").ascii(Integer.toString(value.length)).ascii("\r\n").bytes(value).ascii("\r\n");
    }

    static void array(Out out, int count) {
        out.ascii("*").ascii(Integer.toString(count)).ascii("\r\n");
    }

    /** A growable byte buffer. */
    static final class Out {
        private byte[] buf = new byte[64];
        private int len;

        Out bytes(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, buf, len, b.length);
            len += b.length;
            return this;
        }

        Out ascii(String s) {
            return bytes(s.getBytes(StandardCharsets.ISO_8859_1));
        }

        private void ensure(int extra) {
            if (len + extra > buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
            }
        }

        byte[] toByteArray() {
            return java.util.Arrays.copyOf(buf, len);
        }
    }
}
