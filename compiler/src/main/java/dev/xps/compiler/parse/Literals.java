package dev.xps.compiler.parse;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/** Decoding of literal tokens. Each method throws {@link LiteralException} with a user message. */
final class Literals {
    private static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private Literals() {}

    static final class LiteralException extends Exception {
        /** Offset, within the token, of the problem. */
        final int offset;

        LiteralException(String message, int offset) {
            super(message, null, false, false);
            this.offset = offset;
        }
    }

    /** A decimal or 0x hex integer with optional '_' separators, as an unsigned 64-bit value. */
    static long integer(String text) throws LiteralException {
        String digits = text.replace("_", "");
        BigInteger value;
        if (digits.startsWith("0x") || digits.startsWith("0X")) {
            value = new BigInteger(digits.substring(2), 16);
        } else {
            value = new BigInteger(digits);
        }
        if (value.compareTo(U64_MAX) > 0) {
            throw new LiteralException("integer literal " + text + " does not fit in 64 bits", 0);
        }
        return value.longValue();
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
                        throw new LiteralException("\\x must be followed by two hex digits", i);
                    }
                    out.write(Integer.parseInt(body.substring(i + 1, i + 3), 16));
                    i += 2;
                }
                default -> throw new LiteralException("unknown escape '\\" + e
                        + "' (use \\r \\n \\t \\0 \\\\ \\\" \\' or \\xHH)", i);
            }
        }
        return out.toByteArray();
    }

    /** An x"0a 0b_0c" hex string: pairs of hex digits; spaces and '_' are ignored. */
    static byte[] hex(String token) throws LiteralException {
        String body = token.substring(2, token.length() - 1).replace(" ", "").replace("_", "");
        if (body.length() % 2 != 0) {
            throw new LiteralException("hex string has an odd number of digits", 0);
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
