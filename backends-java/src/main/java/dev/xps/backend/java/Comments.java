package dev.xps.backend.java;

import dev.xps.compiler.diag.SourceLocation;
import dev.xps.runtime.Bytes;

/** Text that goes into comments of generated code, made safe for a Java comment. */
final class Comments {
    private Comments() {}

    /** {@code redis-get.xps:12}: the file's name without directories, and the line. */
    static String at(SourceLocation location) {
        return fileName(location.file()) + ":" + location.line();
    }

    static String fileName(String path) {
        String p = path.replace('\\', '/');
        return safe(p.substring(p.lastIndexOf('/') + 1));
    }

    /** A byte string the way the source writes it: {@code "*2\r\n$3\r\n"}. */
    static String quoted(byte[] bytes) {
        return safe("\"" + Bytes.escape(bytes) + "\"");
    }

    /**
     * Keeps a comment a comment: no line breaks and no {@code *}{@code /}. (Backslashes are safe:
     * escaped bytes only ever have doubled ones, which javac never reads as a unicode escape, and
     * file names have theirs turned into slashes.)
     */
    static String safe(String text) {
        StringBuilder s = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            s.append(c < 0x20 || c == 0x7F ? '?' : c);
        }
        return s.toString().replace("*/", "*\\/");
    }
}
