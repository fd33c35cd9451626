package dev.xps.backend.java;

import com.palantir.javapoet.CodeBlock;
import com.palantir.javapoet.FieldSpec;
import com.palantir.javapoet.TypeName;
import dev.xps.runtime.Bytes;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.lang.model.element.Modifier;

/**
 * The byte-string literals of a module as {@code private static final byte[]} constants, one per
 * distinct content, named after what they say ({@code "\r\n$"} → {@code CRLF_DOLLAR}) so that a
 * decode step reads like its source line.
 */
final class Constants {
    /** Short literals are named punctuation and all; longer ones by their first words. */
    private static final int SPELL_OUT_PUNCTUATION_UP_TO = 12;
    private static final int MAX_WORDS = 5;
    private static final int SINGLE_LINE_UP_TO = 40;

    private final JavaNames.Allocator names;
    private final Map<ByteBuffer, Constant> byContent = new LinkedHashMap<>();

    private record Constant(String name, byte[] bytes, String firstUse) {}

    Constants(JavaNames.Allocator names) {
        this.names = names;
    }

    /** The constant's name; {@code firstUse} ({@code file:line}) goes into its comment. */
    String of(byte[] bytes, String firstUse) {
        return byContent.computeIfAbsent(ByteBuffer.wrap(bytes.clone()),
                k -> new Constant(allocate(bytes), bytes.clone(), firstUse)).name();
    }

    /** "GET" and "get" both spell GET; the lowercase one becomes GET_LOWER rather than GET_. */
    private String allocate(byte[] bytes) {
        String name = nameFor(bytes);
        if (names.isTaken(name) && isLowercaseText(bytes)) {
            name = name + "_LOWER";
        }
        return names.allocate(name);
    }

    private static boolean isLowercaseText(byte[] bytes) {
        boolean letters = false;
        for (byte b : bytes) {
            if (b >= 'A' && b <= 'Z') {
                return false;
            }
            letters |= b >= 'a' && b <= 'z';
        }
        return letters;
    }

    /** The name of a literal registered with {@link #of}. */
    String named(byte[] bytes) {
        Constant c = byContent.get(ByteBuffer.wrap(bytes));
        if (c == null) {
            throw new IllegalStateException("literal \"" + Bytes.escape(bytes) + "\" was not collected");
        }
        return c.name();
    }

    List<FieldSpec> fields() {
        List<FieldSpec> out = new ArrayList<>();
        for (Constant c : byContent.values()) {
            out.add(FieldSpec.builder(TypeName.get(byte[].class), c.name(),
                            Modifier.PRIVATE, Modifier.STATIC, Modifier.FINAL)
                    .addJavadoc("$L ($L)", Comments.quoted(c.bytes()), c.firstUse())
                    .initializer(initializer(c.bytes()))
                    .build());
        }
        return out;
    }

    /** Text stays text ({@code Bytes.ascii("GET\r\n")}); anything else is hex. */
    private static CodeBlock initializer(byte[] bytes) {
        if (isText(bytes)) {
            return CodeBlock.of("$T.ascii($L)", Bytes.class, lines(bytes));
        }
        return CodeBlock.of("$T.hex($S)", Bytes.class, Bytes.toHex(bytes));
    }

    /** Long text with line breaks is written one line per source line, as a concatenation. */
    private static CodeBlock lines(byte[] bytes) {
        List<byte[]> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '\n' && i + 1 < bytes.length) {
                lines.add(java.util.Arrays.copyOfRange(bytes, start, i + 1));
                start = i + 1;
            }
        }
        lines.add(java.util.Arrays.copyOfRange(bytes, start, bytes.length));
        if (bytes.length <= SINGLE_LINE_UP_TO || lines.size() == 1) {
            return CodeBlock.of("$L", javaString(bytes));
        }
        CodeBlock.Builder code = CodeBlock.builder().add("$L$>$>", javaString(lines.getFirst()));
        for (byte[] line : lines.subList(1, lines.size())) {
            code.add("\n+ $L", javaString(line));
        }
        return code.add("$<$<").build();
    }

    /**
     * A Java string literal of text bytes. (JavaPoet's {@code $S} would split it after every
     * {@code \n}, turning {@code "\r\n$"} into a concatenation.)
     */
    private static String javaString(byte[] bytes) {
        StringBuilder s = new StringBuilder("\"");
        for (byte b : bytes) {
            switch (b) {
                case '\r' -> s.append("\\r");
                case '\n' -> s.append("\\n");
                case '\t' -> s.append("\\t");
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                default -> s.append((char) b);
            }
        }
        return s.append('"').toString();
    }

    static boolean isText(byte[] bytes) {
        for (byte b : bytes) {
            if (!(b >= 0x20 && b < 0x7F) && b != '\r' && b != '\n' && b != '\t') {
                return false;
            }
        }
        return true;
    }

    static String nameFor(byte[] bytes) {
        if (!isText(bytes)) {
            return bytes.length > 0 && bytes.length <= 8 ? "BYTES_" + Bytes.toHex(bytes).toUpperCase(java.util.Locale.ROOT)
                    : "BYTES";
        }
        boolean punctuation = bytes.length <= SPELL_OUT_PUNCTUATION_UP_TO;
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < bytes.length; i++) {
            char c = (char) bytes[i];
            if (Character.isLetterOrDigit(c)) {
                word.append(Character.toUpperCase(c));
                continue;
            }
            if (!word.isEmpty()) {
                words.add(word.toString());
                word.setLength(0);
            }
            if (c == '\r' && i + 1 < bytes.length && bytes[i + 1] == '\n') {
                words.add("CRLF");
                i++;
            } else if (punctuation) {
                String name = punctuationName(c);
                if (name != null) {
                    words.add(name);
                }
            }
        }
        if (!word.isEmpty()) {
            words.add(word.toString());
        }
        String name = String.join("_", words.subList(0, Math.min(words.size(), MAX_WORDS)));
        if (name.isEmpty()) {
            return "LITERAL";
        }
        return Character.isDigit(name.charAt(0)) ? "LIT_" + name : name;
    }

    private static String punctuationName(char c) {
        return switch (c) {
            case ' ' -> "SP";
            case '\r' -> "CR";
            case '\n' -> "LF";
            case '\t' -> "TAB";
            case '$' -> "DOLLAR";
            case '*' -> "STAR";
            case ':' -> "COLON";
            case '/' -> "SLASH";
            case '.' -> "DOT";
            case ',' -> "COMMA";
            case ';' -> "SEMI";
            case '-' -> "DASH";
            case '+' -> "PLUS";
            case '=' -> "EQ";
            case '?' -> "QMARK";
            case '&' -> "AMP";
            case '#' -> "HASH";
            case '@' -> "AT";
            case '%' -> "PERCENT";
            case '"' -> "QUOTE";
            case '_' -> "UNDERSCORE";
            default -> null;
        };
    }
}
