package dev.xps.backend.java;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Java spellings of the user's names. The user's names are kept as they are wherever Java allows
 * it; a name that Java reserves, or that would hide a name the generated code needs, gets a
 * trailing underscore.
 */
final class JavaNames {
    private JavaNames() {}

    private static final Set<String> KEYWORDS = Set.of(
            "abstract", "assert", "boolean", "break", "byte", "case", "catch", "char", "class", "const",
            "continue", "default", "do", "double", "else", "enum", "extends", "final", "finally", "float",
            "for", "goto", "if", "implements", "import", "instanceof", "int", "interface", "long", "native",
            "new", "package", "private", "protected", "public", "return", "short", "static", "strictfp",
            "super", "switch", "synchronized", "this", "throw", "throws", "transient", "try", "void",
            "volatile", "while", "true", "false", "null", "_",
            // Contextual: legal as variable names, but "yield = 1;" would read as a yield statement.
            "yield");

    /**
     * Simple names the generated code refers to: a variable or field with one of these names would
     * hide the type (Java resolves {@code Long.compareUnsigned} to a variable named {@code Long}
     * first) or a parameter.
     */
    static final Set<String> GENERATED = Set.of(
            "msg", "out", "selector", "entryPoints",
            "Verdict", "Message", "Response", "MapLayout", "U64", "Arrays", "ByteOrder", "Bytes", "List",
            "EntryPoint", "Predicate", "MapSpec", "MapKind", "ValueType", "XpsMap", "MapStore", "Malformed",
            "Ipv4Prefix", "IpPrefix", "XpsProgram", "Override", "Long", "String", "Object", "Math", "System", "Integer");

    /** {@code redis-get} → {@code RedisGet}; a name that would not start with a letter gets {@code Xps}. */
    static String className(String baseName) {
        StringBuilder out = new StringBuilder();
        boolean upper = true;
        for (char c : baseName.toCharArray()) {
            if (c < 128 && Character.isLetterOrDigit(c)) {
                out.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            } else {
                upper = true;
            }
        }
        if (out.isEmpty() || !Character.isLetter(out.charAt(0))) {
            out.insert(0, "Xps");
        }
        return out.toString();
    }

    /** Hands out distinct identifiers, renaming what is reserved or already taken. */
    static final class Allocator {
        private final Set<String> reserved = new HashSet<>();
        private final Set<String> taken = new HashSet<>();

        Allocator(Set<String> reserved) {
            this.reserved.addAll(reserved);
            this.reserved.addAll(KEYWORDS);
            taken.addAll(this.reserved);
        }

        Allocator(Allocator parent) {
            reserved.addAll(parent.reserved);
            taken.addAll(parent.taken);
        }

        /**
         * {@code wanted} if free; a reserved word becomes {@code wanted_} ({@code class_}); a name
         * another user name took becomes {@code wanted_2}, {@code wanted_3}, ...
         */
        String allocate(String wanted) {
            String name = wanted;
            if (taken.contains(name) && reserved.contains(wanted)) {
                name = wanted + "_";
            }
            for (int i = 2; taken.contains(name); i++) {
                name = wanted + "_" + i;
            }
            taken.add(name);
            return name;
        }

        boolean isTaken(String name) {
            return taken.contains(name);
        }
    }

    static String upperSnake(String name) {
        return name.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
    }
}
