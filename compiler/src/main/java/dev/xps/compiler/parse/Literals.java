package dev.xps.compiler.parse;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/** Decoding of literal tokens. Each method throws {@link LiteralException} with a user message. */
final class Literals {
    private static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private Literals() {}

    static final class LiteralException extends Exception {
        /** Offset, within the token (0 = its first character), of the problem. */
        final int offset;
        /** How many characters of the token the problem spans (the caret width). */
        final int length;

        LiteralException(String message, int offset, int length) {
            super(message, null, false, false);
            this.offset = offset;
            this.length = length;
        }
    }

    /** A decimal or 0x hex integer with optional '_' separators, as an unsigned 64-bit value. */
    static long integer(String text) throws LiteralException {
        String digits = text.replace("_", "");
        boolean hex = digits.startsWith("0x") || digits.startsWith("0X");
        String significant = (hex ? digits.substring(2) : digits).replaceFirst("^0+(?=.)", "");
        // More digits than 2^64-1 has (20 decimal, 16 hex) cannot fit: no need to build a huge BigInteger.
        if (significant.length() > (hex ? 16 : 20)
                || new BigInteger(significant, hex ? 16 : 10).compareTo(U64_MAX) > 0) {
            String shown = text.length() > 30 ? text.substring(0, 12) + "..." + text.substring(text.length() - 12)
                    + " (" + text.length() + " characters)" : text;
            throw new LiteralException("integer literal " + shown + " does not fit in 64 bits", 0, text.length());
        }
        return new BigInteger(significant, hex ? 16 : 10).longValue();
    }

    /** A "..." string: escapes \r \n \t \0 \\ \" \' \xHH; other characters are UTF-8 encoded. */
    static byte[] string(String token) throws LiteralException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String body = token.substring(1, token.length() - 1);
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c != '\\') {
                int cp = body.codePointAt(i);
                if (Character.isSupplementaryCodePoint(cp)) {
                    i++;
                }
                out.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
                continue;
            }
            // Offsets in messages are within the token: the body starts after the opening quote, and the
            // caret covers the backslash and the character after it.
            int at = i + 1;
            char e = body.charAt(++i);
            switch (e) {
                case 'r' -> out.write('\r');
                case 'n' -> out.write('\n');
                case 't' -> out.write('\t');
                case '0' -> out.write(0);
                case '\\' -> out.write('\\');
                case '"' -> out.write('"');
                case '\'' -> out.write('\'');
                case 'x' -> {
                    if (i + 2 >= body.length() || !isHex(body.charAt(i + 1)) || !isHex(body.charAt(i + 2))) {
                        throw new LiteralException("\\x must be followed by two hex digits", at,
                                Math.min(4, body.length() - i + 1));
                    }
                    out.write(Integer.parseInt(body.substring(i + 1, i + 3), 16));
                    i += 2;
                }
                // A backslash at the end of a line does not continue the string (the lexer's escape
                // rule lets it swallow the line break, so the message must not print that break).
                case '\r', '\n' -> throw new LiteralException("a string must close on the line it starts ('\\' at "
                        + "the end of a line does not continue it; use \\n for a line break)", at, 1);
                default -> {
                    int cp = body.codePointAt(i);
                    String escape = Character.isISOControl(cp) || Character.isWhitespace(cp)
                            ? "'\\' followed by U+" + String.format("%04X", cp) : "'\\" + Character.toString(cp) + "'";
                    throw new LiteralException("unknown escape " + escape
                            + " (use \\r \\n \\t \\0 \\\\ \\\" \\' or \\xHH)", at, Character.charCount(cp) + 1);
                }
            }
        }
        return out.toByteArray();
    }

    /** An x"0a 0b_0c" hex string: pairs of hex digits; spaces and '_' are ignored. */
    static byte[] hex(String token) throws LiteralException {
        String body = token.substring(2, token.length() - 1).replace(" ", "").replace("_", "");
        if (body.length() % 2 != 0) {
            throw new LiteralException("hex string has an odd number of digits (" + body.length()
                    + "); each byte is two hex digits", 0, token.length());
        }
        byte[] out = new byte[body.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(body.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    private static boolean isHex(char c) {
        return Character.digit(c, 16) >= 0;
    }
}
