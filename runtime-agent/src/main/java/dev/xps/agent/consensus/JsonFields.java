package dev.xps.agent.consensus;

import java.util.List;
import java.util.Map;

/** Typed access to the manifest's JSON (parsed by the agent's {@link dev.xps.agent.Json}), naming what is wrong. */
final class JsonFields {
    private JsonFields() {}

    static Object parse(String text) {
        return dev.xps.agent.Json.parse(text);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(Object o, String what) {
        if (o instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw new IllegalArgumentException("manifest: " + what + " is not an object");
    }

    @SuppressWarnings("unchecked")
    static List<Object> array(Object o, String what) {
        if (o instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw new IllegalArgumentException("manifest: " + what + " is not an array");
    }

    static String string(Object o, String what) {
        if (o instanceof String str) {
            return str;
        }
        throw new IllegalArgumentException("manifest: " + what + " is not a string");
    }

    static long number(Object o, String what) {
        if (o instanceof Long l) {
            return l;
        }
        throw new IllegalArgumentException("manifest: " + what + " is not an integer");
    }

    static int integer(Object o, String what) {
        return Math.toIntExact(number(o, what));
    }
}
