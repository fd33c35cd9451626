package dev.xps.runtime;

import java.nio.charset.StandardCharsets;

/** Byte-string helpers for generated constants and for showing bytes to people. */
public final class Bytes {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Bytes() {}

    /** The bytes of a string whose characters are all in 0..255 (ISO-8859-1), one byte each. */
    public static byte[] ascii(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) > 0xFF) {
                throw new IllegalArgumentException("not a byte string: " + text);
            }
        }
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The bytes written as hex digits ({@code "00ff10"}); spaces and underscores are ignored. */
    public static byte[] hex(String digits) {
        String clean = digits.replace(" ", "").replace("_", "");
        if (clean.length() % 2 != 0) {
            throw new IllegalArgumentException("odd number of hex digits: " + digits);
        }
        byte[] out = new byte[clean.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(clean, 2 * i, 2 * i + 2, 16);
        }
        return out;
    }

    /**
     * The bytes as the text of an {@code .xps} string literal, without the quotes: printable
     * ASCII as is, {@code \r \n \t \" \\} escaped, anything else as {@code \xHH}.
     */
    public static String escape(byte[] bytes) {
        StringBuilder s = new StringBuilder(bytes.length + 8);
        for (byte b : bytes) {
            switch (b) {
                case '\r' -> s.append("\\r");
                case '\n' -> s.append("\\n");
                case '\t' -> s.append("\\t");
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                default -> {
                    if (b >= 0x20 && b < 0x7F) {
                        s.append((char) b);
                    } else {
                        s.append("\\x").append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
                    }
                }
            }
        }
        return s.toString();
    }

    /** The bytes as lowercase hex digits. */
    public static String toHex(byte[] bytes) {
        StringBuilder s = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            s.append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
        }
        return s.toString();
    }
}
