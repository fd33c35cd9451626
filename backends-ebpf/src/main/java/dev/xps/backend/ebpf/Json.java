package dev.xps.backend.ebpf;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The little JSON the manifest needs: objects keep their keys in insertion order, output is
 * indented two spaces, one key per line, so a golden diff reads well. Values are {@link Map},
 * {@link List}, {@link String}, {@link Number}, {@link Boolean} or null.
 */
final class Json {
    private Json() {}

    static Map<String, Object> object() {
        return new LinkedHashMap<>();
    }

    static List<Object> array() {
        return new ArrayList<>();
    }

    static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, value, 0);
        return out.append('\n').toString();
    }

    private static void write(StringBuilder out, Object value, int depth) {
        switch (value) {
            case null -> out.append("null");
            case String s -> string(out, s);
            case Boolean b -> out.append(b);
            case Number n -> out.append(n);
            case Map<?, ?> m -> {
                if (m.isEmpty()) {
                    out.append("{}");
                    return;
                }
                out.append("{\n");
                int i = 0;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    indent(out, depth + 1);
                    string(out, String.valueOf(e.getKey()));
                    out.append(": ");
                    write(out, e.getValue(), depth + 1);
                    out.append(++i < m.size() ? ",\n" : "\n");
                }
                indent(out, depth);
                out.append('}');
            }
            case List<?> l -> {
                if (l.isEmpty()) {
                    out.append("[]");
                    return;
                }
                boolean simple = l.stream().allMatch(x -> x == null || x instanceof String || x instanceof Number
                        || x instanceof Boolean);
                if (simple) {
                    out.append('[');
                    for (int i = 0; i < l.size(); i++) {
                        write(out, l.get(i), depth);
                        if (i < l.size() - 1) {
                            out.append(", ");
                        }
                    }
                    out.append(']');
                    return;
                }
                out.append("[\n");
                for (int i = 0; i < l.size(); i++) {
                    indent(out, depth + 1);
                    write(out, l.get(i), depth + 1);
                    out.append(i < l.size() - 1 ? ",\n" : "\n");
                }
                indent(out, depth);
                out.append(']');
            }
            default -> throw new IllegalArgumentException("not a JSON value: " + value.getClass());
        }
    }

    private static void indent(StringBuilder out, int depth) {
        out.append("  ".repeat(depth));
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
