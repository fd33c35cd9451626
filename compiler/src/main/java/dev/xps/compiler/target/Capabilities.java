package dev.xps.compiler.target;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What a target can express: a set of features and the sizes it can hold. A backend declares
 * this once; {@link CapabilityChecker} compares every handler against it before generating code,
 * so a target never receives a construct it cannot lower.
 *
 * <p>{@code reasons} optionally says, per missing feature, why the target cannot express it; the
 * capability check appends the reason to its diagnostic ("target 'nfp' cannot express a TCP
 * handler: ...") so the user learns why, not only what.
 */
public record Capabilities(Set<Feature> features, int maxMessageBytes, int maxResponseBytes,
                           int maxKeyBytes, int maxValueBytes, long maxMapCapacity, Map<Feature, String> reasons) {

    public Capabilities {
        features = Set.copyOf(features);
        reasons = Map.copyOf(reasons);
        for (Feature f : reasons.keySet()) {
            if (features.contains(f)) {
                throw new IllegalArgumentException("a reason for not expressing " + f + ", which is supported");
            }
        }
    }

    public Capabilities(Set<Feature> features, int maxMessageBytes, int maxResponseBytes, int maxKeyBytes,
                        int maxValueBytes, long maxMapCapacity) {
        this(features, maxMessageBytes, maxResponseBytes, maxKeyBytes, maxValueBytes, maxMapCapacity, Map.of());
    }

    public boolean supports(Feature f) {
        return features.contains(f);
    }

    /** Why the target cannot express {@code f}, when its backend says. */
    public Optional<String> reason(Feature f) {
        return Optional.ofNullable(reasons.get(f));
    }

    /** Everything except the listed features, with generous limits: for software targets. */
    public static Capabilities allExcept(Feature... missing) {
        EnumSet<Feature> set = EnumSet.allOf(Feature.class);
        for (Feature f : missing) {
            set.remove(f);
        }
        return new Capabilities(set, 65_535, 65_535, 65_535, 1 << 20, 1L << 32);
    }

    public Capabilities withLimits(int maxMessageBytes, int maxResponseBytes, int maxKeyBytes,
                                   int maxValueBytes, long maxMapCapacity) {
        return new Capabilities(features, maxMessageBytes, maxResponseBytes, maxKeyBytes, maxValueBytes,
                maxMapCapacity, reasons);
    }

    /** The same capabilities, saying why {@code missing} (a feature not supported) cannot be expressed. */
    public Capabilities because(Feature missing, String reason) {
        if (supports(missing)) {
            throw new IllegalArgumentException(missing + " is supported: there is nothing to explain");
        }
        Map<Feature, String> r = new EnumMap<>(Feature.class);
        r.putAll(reasons);
        r.put(missing, reason);
        return new Capabilities(features, maxMessageBytes, maxResponseBytes, maxKeyBytes, maxValueBytes,
                maxMapCapacity, r);
    }
}
