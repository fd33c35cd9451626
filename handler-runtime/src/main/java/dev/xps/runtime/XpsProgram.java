package dev.xps.runtime;

import java.util.List;
import java.util.Optional;

/**
 * A compiled {@code .xps} module: what {@code xpsc --target java} generates. A generated class has
 * a public constructor taking the {@link MapStore} in which it opens its maps, so a host builds it
 * with {@code new RedisGet(store)} (or finds that constructor once, when it loads the class), fills
 * the maps through the store, and feeds received segments to an entry point's handler through a
 * {@link SegmentProcessor}.
 */
public interface XpsProgram {
    /** The source file's name, e.g. {@code redis-get.xps}. */
    String sourceFile();

    /** The maps the program declared, as opened in its store. */
    List<MapSpec> maps();

    /** Entry points in source order. Their predicates do not overlap (the compiler checks). */
    List<EntryPoint> entryPoints();

    default Optional<EntryPoint> entryPoint(String name) {
        return entryPoints().stream().filter(e -> e.name().equals(name)).findFirst();
    }

    /** The entry point whose predicate matches a packet, if any. */
    default Optional<EntryPoint> route(Protocol protocol, int srcAddress, int srcPort, int dstAddress, int dstPort) {
        return entryPoints().stream()
                .filter(e -> e.predicate().matches(protocol, srcAddress, srcPort, dstAddress, dstPort))
                .findFirst();
    }

    /** The same for a packet of either family: addresses as 4 or 16 bytes, network order. */
    default Optional<EntryPoint> route(Protocol protocol, byte[] srcAddress, int srcPort, byte[] dstAddress,
                                       int dstPort) {
        return entryPoints().stream()
                .filter(e -> e.predicate().matches(protocol, srcAddress, srcPort, dstAddress, dstPort))
                .findFirst();
    }
}
