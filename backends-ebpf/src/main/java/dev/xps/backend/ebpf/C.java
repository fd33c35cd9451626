package dev.xps.backend.ebpf;

import dev.xps.compiler.diag.SourceLocation;
import dev.xps.runtime.Bytes;

/** Small pieces of C text: string literals, comments, numbers. */
final class C {
    private C() {}

    /**
     * A C string literal with exactly these bytes. Printable ASCII stays as it is; the usual
     * escapes are used for \r \n \t; every other byte is a three-digit octal escape (never
     * {@code \x}, which would swallow a following hex digit).
     */
    static String string(byte[] bytes) {
        StringBuilder s = new StringBuilder(bytes.length + 2).append('"');
        for (byte b : bytes) {
            int c = b & 0xFF;
            switch (c) {
                case '\r' -> s.append("\\r");
                case '\n' -> s.append("\\n");
                case '\t' -> s.append("\\t");
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                case '?' -> s.append("\\?"); // no trigraphs
                default -> {
                    if (c >= 0x20 && c < 0x7F) {
                        s.append((char) c);
                    } else {
                        s.append('\\').append((char) ('0' + (c >> 6))).append((char) ('0' + ((c >> 3) & 7)))
                                .append((char) ('0' + (c & 7)));
                    }
                }
            }
        }
        return s.append('"').toString();
    }

    /** {@code redis-get.xps:12}: the file's name without directories, and the line. */
    static String at(SourceLocation location) {
        return fileName(location.file()) + ":" + location.line();
    }

    static String fileName(String path) {
        String p = path.replace('\\', '/');
        return comment(p.substring(p.lastIndexOf('/') + 1));
    }

    /** Text made safe inside a C block comment: no line breaks, no comment end. */
    static String comment(String text) {
        StringBuilder s = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            s.append(c < 0x20 || c == 0x7F ? '?' : c);
        }
        return s.toString().replace("*/", "* /").replace("/*", "/ *");
    }

    /** A byte string the way the source writes it, for comments: {@code "*2\r\n$3\r\n"}. */
    static String quoted(byte[] bytes) {
        return comment("\"" + Bytes.escape(bytes) + "\"");
    }

    /** A u64 constant. */
    static String u64(long value) {
        return Long.toUnsignedString(value) + "ULL";
    }

    static int powerOfTwoAtLeast(int n) {
        int p = 1;
        while (p < n) {
            p <<= 1;
        }
        return p;
    }
}
