package dev.xps.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The maps of a running program, by name. A generated program {@linkplain #open opens} the maps it
 * declares when it is constructed; the host (the agent, a test) reaches the same maps by name to
 * fill them and read their stats. Where a map lives is the factory's business: the default keeps
 * maps in the heap ({@link InMemoryMap}); a host can plug in maps backed by anything else.
 */
public final class MapStore {
    private final Function<MapSpec, XpsMap> factory;
    private final Map<String, XpsMap> maps = new ConcurrentHashMap<>();

    /** A store of {@link InMemoryMap}s. */
    public MapStore() {
        this(InMemoryMap::new);
    }

    public MapStore(Function<MapSpec, XpsMap> factory) {
        this.factory = factory;
    }

    /**
     * The map named {@code spec.name()}, created on first use. Opening an existing map with a
     * different declaration fails: two programs (or a program and its host) disagree on its layout.
     */
    public XpsMap open(MapSpec spec) {
        XpsMap map = maps.computeIfAbsent(spec.name(), name -> factory.apply(spec));
        if (!map.spec().equals(spec)) {
            throw new IllegalStateException("map '" + spec.name() + "' is declared as '" + spec
                    + "' but the store holds '" + map.spec() + "'");
        }
        return map;
    }

    public Optional<XpsMap> find(String name) {
        return Optional.ofNullable(maps.get(name));
    }

    /** The map named {@code name}; fails when no program opened it. */
    public XpsMap get(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException("no map named '" + name + "'"));
    }

    public List<XpsMap> all() {
        return new ArrayList<>(maps.values());
    }
}
