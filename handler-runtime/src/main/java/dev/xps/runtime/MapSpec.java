package dev.xps.runtime;

import java.util.Locale;
import java.util.Objects;

/**
 * A map as declared in the source: {@code map name : kind<key, value> capacity n [with stats];}.
 * For {@link MapKind#LOG} the key is the u64 entry index.
 */
public record MapSpec(String name, MapKind kind, ValueType keyType, ValueType valueType, long capacity,
                      boolean stats) {
    public MapSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(keyType, "keyType");
        Objects.requireNonNull(valueType, "valueType");
        if (capacity < 0) {
            throw new IllegalArgumentException("negative capacity " + capacity);
        }
        if (kind != MapKind.HASH && !(keyType instanceof ValueType.UInt)) {
            throw new IllegalArgumentException(kind + " map '" + name + "' needs an integer key, not " + keyType);
        }
    }

    /** The declaration as the source spells it. */
    @Override
    public String toString() {
        String types = kind == MapKind.LOG ? valueType.toString() : keyType + ", " + valueType;
        return "map " + name + " : " + kind.name().toLowerCase(Locale.ROOT) + "<" + types + "> capacity " + capacity
                + (stats ? " with stats" : "");
    }
}
