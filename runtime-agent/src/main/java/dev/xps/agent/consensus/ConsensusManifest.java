package dev.xps.agent.consensus;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code consensus} section of a module's {@code <base>.manifest.json} (docs/ebpf-target.md, "Consensus
 * blocks"): the consensus object and, per block, its programs and the layouts of its maps. The agent reads
 * offsets from here rather than from compiler internals.
 *
 * @param object the consensus object, {@code <base>.consensus.bpf.o}, next to the manifest
 * @param blocks one per consensus block
 */
public record ConsensusManifest(Path object, List<Block> blocks) {
    /** A field of a map value: its byte offset and size. */
    public record Field(int offset, int size) {}

    /** One consensus block. */
    public record Block(String name, int port, int replicationPort, int replicas, long logCapacity, int entryBytes,
                        int failureThreshold, String ingressProgram, String xdpProgram, String egressProgram,
                        String configMap, int configSize, Map<String, Field> config, int memberBytes,
                        Map<String, Field> member, String stateMap, int stateSize, Map<String, Field> state,
                        String logMap, int slotSize, Map<String, Field> slot, String countersMap,
                        List<String> counters, String eventsMap, Map<String, Field> event, Map<String, Integer> kinds,
                        String nextMap) {
        public Field config(String name) {
            return field(config, name, configMap);
        }

        public Field state(String name) {
            return field(state, name, stateMap);
        }

        public Field slot(String name) {
            return field(slot, name, logMap);
        }

        public Field event(String name) {
            return field(event, name, eventsMap);
        }

        public Field member(String name) {
            return field(member, name, configMap + " member");
        }

        public int kind(String name) {
            Integer k = kinds.get(name);
            if (k == null) {
                throw new IllegalArgumentException("the manifest names no event kind '" + name + "' in " + kinds);
            }
            return k;
        }

        private static Field field(Map<String, Field> fields, String name, String what) {
            Field f = fields.get(name);
            if (f == null) {
                throw new IllegalArgumentException(what + " has no field '" + name + "' in the manifest " + fields.keySet());
            }
            return f;
        }
    }

    /** Reads the consensus section of {@code manifest}; fails when the module has no consensus block. */
    public static ConsensusManifest read(Path manifest) {
        String text;
        try {
            text = Files.readString(manifest);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + manifest, e);
        }
        Map<String, Object> root = JsonFields.object(JsonFields.parse(text), "manifest");
        Object section = root.get("consensus");
        if (section == null) {
            throw new IllegalArgumentException(manifest + " has no consensus section (the module has no consensus "
                    + "block, or was compiled by an xpsc without consensus support)");
        }
        Map<String, Object> c = JsonFields.object(section, "consensus");
        Path dir = manifest.toAbsolutePath().getParent();
        List<Block> blocks = new ArrayList<>();
        for (Object o : JsonFields.array(c.get("blocks"), "consensus.blocks")) {
            blocks.add(block(JsonFields.object(o, "block")));
        }
        return new ConsensusManifest(dir.resolve(JsonFields.string(c.get("object"), "consensus.object")),
                List.copyOf(blocks));
    }

    /** The block called {@code name}, or the only one when {@code name} is null. */
    public Block block(String name) {
        if (name == null) {
            if (blocks.size() != 1) {
                throw new IllegalArgumentException("the module has " + blocks.size() + " consensus blocks; name one of "
                        + blocks.stream().map(Block::name).toList());
            }
            return blocks.getFirst();
        }
        return blocks.stream().filter(b -> b.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("no consensus block '" + name + "' in the manifest; it has "
                        + blocks.stream().map(Block::name).toList()));
    }

    private static Block block(Map<String, Object> b) {
        String ingress = null;
        String xdp = null;
        String egress = null;
        for (Object o : JsonFields.array(b.get("programs"), "programs")) {
            Map<String, Object> p = JsonFields.object(o, "program");
            String name = JsonFields.string(p.get("name"), "program.name");
            switch (JsonFields.string(p.get("attach"), "program.attach")) {
                case "tcx_ingress" -> ingress = name;
                case "xdp" -> xdp = name;
                case "tcx_egress" -> egress = name;
                default -> throw new IllegalArgumentException("unknown attach point in the manifest: " + p.get("attach"));
            }
        }
        if (ingress == null || xdp == null || egress == null) {
            throw new IllegalArgumentException("a consensus block needs tcx_ingress, xdp and tcx_egress programs");
        }
        Map<String, Object> maps = JsonFields.object(b.get("maps"), "maps");
        Map<String, Object> config = JsonFields.object(maps.get("config"), "maps.config");
        Map<String, Object> state = JsonFields.object(maps.get("state"), "maps.state");
        Map<String, Object> log = JsonFields.object(maps.get("log"), "maps.log");
        Map<String, Object> counters = JsonFields.object(maps.get("counters"), "maps.counters");
        Map<String, Object> events = JsonFields.object(maps.get("events"), "maps.events");
        Map<String, Integer> kinds = new LinkedHashMap<>();
        JsonFields.object(events.get("kinds"), "events.kinds").forEach((k, v) -> kinds.put(k, JsonFields.integer(v, k)));
        List<String> counterNames = new ArrayList<>();
        for (Object o : JsonFields.array(counters.get("fields"), "counters.fields")) {
            counterNames.add(JsonFields.string(o, "counter"));
        }
        return new Block(JsonFields.string(b.get("name"), "name"), JsonFields.integer(b.get("port"), "port"),
                JsonFields.integer(b.get("replicationPort"), "replicationPort"),
                JsonFields.integer(b.get("replicas"), "replicas"), JsonFields.number(b.get("logCapacity"), "logCapacity"),
                JsonFields.integer(b.get("entryBytes"), "entryBytes"),
                JsonFields.integer(b.get("failureThreshold"), "failureThreshold"), ingress, xdp, egress,
                name(config), JsonFields.integer(config.get("valueSize"), "config.valueSize"), fields(config.get("fields")),
                JsonFields.integer(config.get("memberBytes"), "config.memberBytes"), fields(config.get("member")),
                name(state), JsonFields.integer(state.get("valueSize"), "state.valueSize"), fields(state.get("fields")),
                name(log), JsonFields.integer(log.get("valueSize"), "log.valueSize"), fields(log.get("fields")),
                name(counters), List.copyOf(counterNames), name(events), fields(events.get("fields")),
                Map.copyOf(kinds), name(JsonFields.object(maps.get("next"), "maps.next")));
    }

    private static String name(Map<String, Object> o) {
        return JsonFields.string(o.get("name"), "map name");
    }

    private static Map<String, Field> fields(Object o) {
        Map<String, Field> out = new LinkedHashMap<>();
        JsonFields.object(o, "fields").forEach((k, v) -> {
            Map<String, Object> f = JsonFields.object(v, k);
            out.put(k, new Field(JsonFields.integer(f.get("offset"), k + ".offset"),
                    JsonFields.integer(f.get("size"), k + ".size")));
        });
        return Map.copyOf(out);
    }
}
