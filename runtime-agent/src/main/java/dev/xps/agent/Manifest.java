package dev.xps.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * The eBPF backend's manifest ({@code <base>.manifest.json}, format {@code xps-ebpf-manifest} version 1,
 * docs/ebpf-target.md), read with the JDK only: entry points with their programs and handler slots, maps with
 * their kernel layouts, counters, connections and the reset ring buffer.
 */
public record Manifest(String source, String object, List<Entry> entries, List<MapDef> maps, String countersMap,
                       List<String> counterFields, Optional<String> connectionsMap, Optional<String> resetsMap,
                       Optional<String> drainMap, String text, Optional<Composite> composite, int responseBytes) {

    /**
     * The composite section of a generic composite object's entry ({@code xpsc composite}): its config map
     * (port, selector offset and length), its selector → slot hash map, and the maps its sub-contexts' handler
     * programs share with it.
     */
    public record Composite(String configMap, String selectorsMap, int maxSelectorLength, int maxOffset, int slots,
                            List<String> shared) {}

    /** One program of an entry point, in the manifest's order. */
    public record Program(String name, String section, String attach, String target) {}

    /** One handler slot of an entry's program array. */
    public record Slot(int slot, String handler, String program, boolean write) {}

    /** An entry point. {@code portLow..portHigh} is its predicate's destination port range (0..65535 if none). */
    public record Entry(String name, int index, String protocol, int portLow, int portHigh, Optional<String> sockhash,
                        List<Program> programs, Optional<String> progArray, List<Slot> slots, String kind) {
        public boolean tcp() {
            return protocol.equals("tcp");
        }

        public boolean overlaps(Entry o) {
            return protocol.equals(o.protocol) && portLow <= o.portHigh && o.portLow <= portHigh;
        }

        public String ports() {
            return portLow == portHigh ? Integer.toString(portLow) : portLow + "-" + portHigh;
        }
    }

    /**
     * A map's key or value layout: {@code kind} is "int" (little-endian, {@code size} bytes in the kernel,
     * {@code canonicalSize} in the language) or "bytes" ({@code struct { u32 len; u8 data[C]; }}).
     */
    public record Layout(String type, String kind, int size, int canonicalSize, int dataOffset, int maxLength) {
        static Layout of(Map<String, Object> m) {
            String type = str(m, "type");
            int size = num(m, "size");
            if (type.startsWith("bytes")) {
                return new Layout(type, "bytes", size, size, num(m, "dataOffset"), num(m, "maxLength"));
            }
            int canonical = m.containsKey("canonicalSize") ? num(m, "canonicalSize") : size;
            return new Layout(type, "int", size, canonical, 0, canonical);
        }

        public boolean isBytes() {
            return kind.equals("bytes");
        }

        /** Canonical bytes (integers little-endian in their declared width, bytes as they are) → kernel layout. */
        public byte[] toKernel(byte[] canonical) {
            byte[] out = new byte[size];
            if (isBytes()) {
                if (canonical.length > maxLength) {
                    throw new IllegalArgumentException(type + ": " + canonical.length + " bytes is more than "
                            + maxLength);
                }
                out[0] = (byte) canonical.length;
                out[1] = (byte) (canonical.length >>> 8);
                out[2] = (byte) (canonical.length >>> 16);
                out[3] = (byte) (canonical.length >>> 24);
                System.arraycopy(canonical, 0, out, dataOffset, canonical.length);
                return out;
            }
            if (canonical.length != canonicalSize) {
                throw new IllegalArgumentException(type + ": expected " + canonicalSize + " bytes, got "
                        + canonical.length);
            }
            for (int k = canonicalSize; k < canonical.length; k++) {
                if (canonical[k] != 0) {
                    throw new IllegalArgumentException(type + ": value does not fit");
                }
            }
            System.arraycopy(canonical, 0, out, 0, Math.min(size, canonicalSize));
            return out;
        }

        /** Kernel layout → canonical bytes. */
        public byte[] toCanonical(byte[] kernel) {
            if (isBytes()) {
                int len = (kernel[0] & 255) | (kernel[1] & 255) << 8 | (kernel[2] & 255) << 16 | (kernel[3] & 255) << 24;
                if (len < 0 || len > maxLength) {
                    throw new IllegalStateException(type + ": kernel length " + len + " is out of range");
                }
                return Arrays.copyOfRange(kernel, dataOffset, dataOffset + len);
            }
            return Arrays.copyOf(kernel, canonicalSize);
        }

        /** Parses a textual key or value: an integer for integer types; a string or 0x-hex for bytes. */
        public byte[] parse(String text) {
            if (isBytes()) {
                if (text.startsWith("0x") && text.length() % 2 == 0) {
                    return java.util.HexFormat.of().parseHex(text.substring(2));
                }
                return text.getBytes(StandardCharsets.UTF_8);
            }
            long v = text.startsWith("0x") ? Long.parseUnsignedLong(text.substring(2), 16) : Long.parseUnsignedLong(text);
            if (canonicalSize < 8 && (v >>> (canonicalSize * 8)) != 0) {
                throw new IllegalArgumentException(type + ": " + text + " does not fit in " + canonicalSize + " bytes");
            }
            byte[] b = new byte[canonicalSize];
            for (int k = 0; k < canonicalSize; k++) {
                b[k] = (byte) (v >>> (8 * k));
            }
            return b;
        }

        /** Formats canonical bytes: an unsigned integer, or the bytes as text if printable, else 0x-hex. */
        public String format(byte[] canonical) {
            if (!isBytes()) {
                long v = 0;
                for (int k = canonical.length - 1; k >= 0; k--) {
                    v = v << 8 | (canonical[k] & 255);
                }
                return Long.toUnsignedString(v);
            }
            for (byte c : canonical) {
                if (c < 0x20 || c > 0x7e) {
                    return "0x" + java.util.HexFormat.of().formatHex(canonical);
                }
            }
            return new String(canonical, StandardCharsets.US_ASCII);
        }
    }

    /** A map: {@code kind} hash, array or log; for logs {@code value} is the entry layout inside the slot. */
    public record MapDef(String name, String kind, String bpfType, int capacity, int keySize, int valueSize,
                         Layout key, Layout value, int entryOffset, Optional<String> stats) {
        public boolean isLog() {
            return kind.equals("log");
        }
    }

    /** Reads {@code <dir>/<base>.manifest.json} (a directory holding exactly one manifest) or a manifest file. */
    public static Path locate(Path artifact) {
        if (Files.isRegularFile(artifact)) {
            return artifact;
        }
        if (!Files.isDirectory(artifact)) {
            throw new IllegalArgumentException("no such artifact directory or manifest: " + artifact);
        }
        try (var s = Files.walk(artifact, 3)) {
            List<Path> found = s.filter(p -> p.getFileName().toString().endsWith(".manifest.json")).sorted().toList();
            if (found.size() != 1) {
                throw new IllegalArgumentException(found.isEmpty()
                        ? "no *.manifest.json under " + artifact + " (compile with: xpsc compile X.xps --target ebpf -o DIR)"
                        : "more than one manifest under " + artifact + ": " + found + " (name one)");
            }
            return found.getFirst();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Manifest read(Path file) {
        try {
            return parse(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read manifest " + file, e);
        }
    }

    @SuppressWarnings("unchecked")
    public static Manifest parse(String text) {
        Map<String, Object> m = (Map<String, Object>) Json.parse(text);
        if (!"xps-ebpf-manifest".equals(m.get("format"))) {
            throw new IllegalArgumentException("not an xps-ebpf-manifest (format: " + m.get("format") + ")");
        }
        if (num(m, "version") != 1) {
            throw new IllegalArgumentException("manifest version " + m.get("version") + " is not supported (1 is)");
        }
        List<Entry> entries = new ArrayList<>();
        Optional<Composite> composite = Optional.empty();
        for (Object o : (List<Object>) m.get("entryPoints")) {
            Map<String, Object> e = (Map<String, Object>) o;
            Map<String, Object> pred = (Map<String, Object>) e.get("predicate");
            Map<String, Object> port = pred == null ? null : (Map<String, Object>) pred.get("port");
            int lo = port == null ? 0 : num(port, "low");
            int hi = port == null ? 65535 : num(port, "high");
            List<Program> progs = new ArrayList<>();
            for (Object p : (List<Object>) e.get("programs")) {
                Map<String, Object> pm = (Map<String, Object>) p;
                progs.add(new Program(str(pm, "name"), str(pm, "section"), str(pm, "attach"), (String) pm.get("target")));
            }
            Optional<String> sockhash = Optional.ofNullable((Map<String, Object>) e.get("sockhash")).map(x -> str(x, "name"));
            Map<String, Object> h = (Map<String, Object>) e.get("handlers");
            Optional<String> progArray = Optional.empty();
            List<Slot> slots = new ArrayList<>();
            if (h != null) {
                progArray = Optional.ofNullable((Map<String, Object>) h.get("progArray")).map(x -> str(x, "name"));
                for (Object so : (List<Object>) h.get("slots")) {
                    Map<String, Object> sm = (Map<String, Object>) so;
                    slots.add(new Slot(num(sm, "slot"), str(sm, "handler"), str(sm, "program"),
                            Boolean.TRUE.equals(sm.get("write"))));
                }
            }
            entries.add(new Entry(str(e, "name"), num(e, "index"), str(e, "protocol"), lo, hi, sockhash,
                    List.copyOf(progs), progArray, List.copyOf(slots),
                    e.get("kind") instanceof String k ? k : "handler"));
            if (e.get("composite") instanceof Map<?, ?> c) {
                Map<String, Object> cm = (Map<String, Object>) c;
                List<String> shared = new ArrayList<>();
                for (Object x : (List<Object>) cm.get("shared")) {
                    shared.add((String) x);
                }
                composite = Optional.of(new Composite(str((Map<String, Object>) cm.get("config"), "name"),
                        str((Map<String, Object>) cm.get("selectors"), "name"), num(cm, "maxSelectorLength"),
                        num(cm, "maxOffset"), num(cm, "slots"), List.copyOf(shared)));
            }
        }
        List<MapDef> maps = new ArrayList<>();
        for (Object o : (List<Object>) m.get("maps")) {
            Map<String, Object> mm = (Map<String, Object>) o;
            Map<String, Object> v = (Map<String, Object>) mm.get("value");
            String kind = str(mm, "kind");
            Layout value;
            int entryOffset = 0;
            if (kind.equals("log")) {
                value = Layout.of((Map<String, Object>) v.get("entry"));
                entryOffset = num(v, "entryOffset");
            } else {
                value = Layout.of(v);
            }
            Optional<String> stats = Optional.ofNullable((Map<String, Object>) mm.get("stats")).map(x -> str(x, "name"));
            maps.add(new MapDef(str(mm, "name"), kind, str(mm, "bpfType"), num(mm, "capacity"), num(mm, "keySize"),
                    num(mm, "valueSize"), Layout.of((Map<String, Object>) mm.get("key")), value, entryOffset, stats));
        }
        Map<String, Object> counters = (Map<String, Object>) m.get("counters");
        List<String> fields = new ArrayList<>();
        for (Object f : (List<Object>) counters.get("fields")) {
            fields.add((String) f);
        }
        Optional<String> conns = Optional.ofNullable((Map<String, Object>) m.get("connections")).map(x -> str(x, "name"));
        Optional<String> resets = Optional.ofNullable((Map<String, Object>) m.get("resets")).map(x -> str(x, "name"));
        Optional<String> drain = Optional.ofNullable((Map<String, Object>) m.get("drain")).map(x -> str(x, "name"));
        return new Manifest(str(m, "source"), str(m, "object"), List.copyOf(entries), List.copyOf(maps),
                str(counters, "name"), List.copyOf(fields), conns, resets, drain, text, composite,
                m.get("scratch") instanceof Map<?, ?> sc && sc.get("responseBytes") instanceof Long r
                        ? Math.toIntExact(r) : 0);
    }

    public MapDef map(String name) {
        return maps.stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow(() -> new NoSuchElementException(
                "no map '" + name + "' in " + source + " (it has: "
                        + String.join(", ", maps.stream().map(MapDef::name).toList()) + ")"));
    }

    public boolean hasTcp() {
        return entries.stream().anyMatch(Entry::tcp);
    }

    public boolean hasUdp() {
        return entries.stream().anyMatch(e -> !e.tcp());
    }

    private static String str(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException("manifest: field '" + k + "' missing or not a string");
        }
        return s;
    }

    private static int num(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (!(v instanceof Long l)) {
            throw new IllegalArgumentException("manifest: field '" + k + "' missing or not an integer");
        }
        return Math.toIntExact(l);
    }
}
