package dev.xps.compiler.target;

import java.util.EnumSet;
import java.util.Set;

/**
 * What a target can express: a set of features and the sizes it can hold. A backend declares
 * this once; {@link CapabilityChecker} compares every handler against it before generating code,
 * so a target never receives a construct it cannot lower.
 */
public record Capabilities(Set<Feature> features, int maxMessageBytes, int maxResponseBytes,
                           int maxKeyBytes, int maxValueBytes, long maxMapCapacity) {

    public Capabilities {
        features = Set.copyOf(features);
    }

    public boolean supports(Feature f) {
        return features.contains(f);
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
                maxMapCapacity);
    }
}
