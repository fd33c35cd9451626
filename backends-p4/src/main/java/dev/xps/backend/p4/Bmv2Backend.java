package dev.xps.backend.p4;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.Capabilities;
import dev.xps.compiler.target.Feature;
import dev.xps.compiler.target.GeneratedFile;
import java.util.List;
import java.util.Optional;

/**
 * BMv2 {@code simple_switch}, P4-16 v1model: the P4-expressible subset of XPS.
 *
 * <p>Output under {@code p4-bmv2/<base>/}: {@code <base>.p4}, {@code <base>.entries.json} (what
 * the control plane installs: the tables a hash map becomes, the registers an array becomes) and
 * a {@code README.md}. See backends-p4/README.md for the design and for what is refused and why.
 */
public final class Bmv2Backend implements Backend {
    /** Why TCP is refused, in the diagnostic. */
    static final String TCP_REASON = "a switch that answers or drops bytes of a stream the host owns would break "
            + "the host's TCP sequence numbers";

    @Override
    public String name() {
        return Bmv2Generator.TARGET;
    }

    @Override
    public String description() {
        return "BMv2 simple_switch, P4-16 v1model: UDP, fixed-offset fields, exact-match tables, registers "
                + "(tests: with p4c and simple_switch on PATH)";
    }

    @Override
    public Capabilities capabilities() {
        // TCP: a switch that answers or drops bytes of a TCP stream owned by the host breaks the
        // host's sequence space (see backends-p4/README.md): refused. Variable-length fields,
        // decimal text, case-insensitive matches and frame need data-dependent offsets or loops
        // over bytes, which a P4 control cannot do; log maps need an atomic counter plus storage
        // per entry that BMv2 registers cannot make consistent across packets. On UDP 'reset' is
        // drop. A hash map is an exact-match table: its entries belong to the control plane (no
        // writes from a handler), its key has one width (bytes[N] keys of exactly N bytes) and its
        // action parameter, like a register cell, holds an integer (no bytes values). The response
        // is a stack of one-byte headers written at constant indexes (encodes at fixed positions).
        // Together these make every bytes value's length known at compile time, which the
        // generator relies on.
        return Capabilities.allExcept(Feature.TCP, Feature.VARIABLE_LENGTH_FIELDS, Feature.DECIMAL_TEXT,
                        Feature.CASE_INSENSITIVE_MATCH, Feature.EXPLICIT_FRAME, Feature.LOG_MAPS, Feature.CONSENSUS,
                        Feature.HASH_MAP_WRITES, Feature.BYTES_MAP_VALUES, Feature.BYTES_KEYS_OF_OTHER_LENGTHS,
                        Feature.ENCODE_AT_VARIABLE_POSITION, Feature.IPV6_ADDRESS_MATCH)
                .withLimits(256, 256, 64, 8, 1L << 20)
                .because(Feature.TCP, TCP_REASON)
                .because(Feature.IPV6_ADDRESS_MATCH, "the generated parser reads Ethernet/IPv4 only")
                .because(Feature.HASH_MAP_WRITES, "P4 tables are written by the control plane only")
                .because(Feature.BYTES_MAP_VALUES, "a table action parameter or a register cell holds an integer")
                .because(Feature.BYTES_KEYS_OF_OTHER_LENGTHS, "a table key has one fixed width")
                .because(Feature.ENCODE_AT_VARIABLE_POSITION, "the response is built at positions fixed at "
                        + "compile time");
    }

    @Override
    public List<GeneratedFile> generate(IrModule module, Diagnostics diagnostics) {
        // Called only for modules that passed the capability check, which refuses everything the
        // generator cannot lower: it reports nothing of its own.
        Bmv2Generator generator = new Bmv2Generator(module);
        String base = module.baseName();
        String dir = "p4-bmv2/" + base + "/";
        String p4 = generator.generate();
        return List.of(
                GeneratedFile.text(dir + base + ".p4", p4),
                GeneratedFile.text(dir + base + ".entries.json", entries(module, generator)),
                GeneratedFile.text(dir + "README.md", readme(module)));
    }

    @Override
    public Optional<TestRunner> testRunner() {
        return Optional.of(new Bmv2TestRunner());
    }

    static String entries(IrModule module, Bmv2Generator g) {
        StringBuilder s = new StringBuilder();
        s.append("{\n");
        s.append("  \"generated_by\": \"xpsc\",\n");
        s.append("  \"source\": ").append(json(Bmv2Generator.fileName(module.sourceFile()))).append(",\n");
        s.append("  \"program\": ").append(json(module.baseName() + ".p4")).append(",\n");
        s.append("  \"ports\": { \"network\": 0, \"host\": 1 },\n");
        s.append("  \"maps\": [");
        boolean firstMap = true;
        for (IrMap m : module.maps()) {
            s.append(firstMap ? "\n" : ",\n");
            firstMap = false;
            s.append("    {\n      \"name\": ").append(json(m.name())).append(",\n");
            s.append("      \"kind\": ").append(json(m.kind().name().toLowerCase(java.util.Locale.ROOT))).append(",\n");
            s.append("      \"key\": ").append(json(m.keyType().toString())).append(",\n");
            s.append("      \"value\": ").append(json(m.valueType().toString())).append(",\n");
            s.append("      \"capacity\": ").append(m.capacity()).append(",\n");
            s.append("      \"stats\": ").append(m.stats()).append(",\n");
            if (m.kind() == MapKind.ARRAY) {
                String reg = Bmv2Generator.reg(m);
                s.append("      \"register\": ").append(json(reg)).append(",\n");
                s.append("      \"hit_counter\": ").append(m.stats() ? json(reg + "_hits") : "null").append(",\n");
                s.append("      \"cli\": { \"put\": ").append(json("register_write " + reg + " <index> <value>"))
                        .append(", \"delete\": ").append(json("register_write " + reg + " <index> 0"))
                        .append(", \"hits\": ").append(m.stats() ? json("counter_read " + reg + "_hits <index>") : "null")
                        .append(" }\n");
            } else {
                s.append("      \"tables\": [");
                boolean first = true;
                for (Bmv2Generator.LookupSite site : g.sites) {
                    if (!site.map().name().equals(m.name())) {
                        continue;
                    }
                    String table = "xps_ingress.h_" + site.control().substring("handler_".length()) + "." + site.table();
                    String action = "xps_ingress.h_" + site.control().substring("handler_".length()) + "."
                            + site.action();
                    s.append(first ? "\n" : ",\n");
                    first = false;
                    s.append("        {\n          \"table\": ").append(json(table)).append(",\n");
                    s.append("          \"lookup_at\": ").append(json(Bmv2Generator.fileName(site.location().file()) + ":"
                            + site.location().line())).append(",\n");
                    s.append("          \"key\": { \"field\": ").append(json(site.keyField())).append(", \"bits\": ")
                            .append(site.keyBits()).append(", \"match\": \"exact\" },\n");
                    s.append("          \"hit_action\": ").append(json(action)).append(",\n");
                    s.append("          \"value\": { \"param\": \"value\", \"bits\": ").append(site.valueBits())
                            .append(" },\n");
                    s.append("          \"hit_counter\": ").append(m.stats() ? json(table + "_hits") : "null")
                            .append(",\n");
                    s.append("          \"cli\": { \"put\": ").append(json("table_add " + table + " " + action
                            + " <key> => <value>")).append(", \"delete\": ").append(json("table_delete " + table
                            + " <handle>")).append(" }\n        }");
                }
                s.append(first ? "]\n" : "\n      ]\n");
            }
            s.append("    }");
        }
        s.append(firstMap ? "],\n" : "\n  ],\n");
        s.append("  \"layout\": \"integer keys and values are numbers (the agent converts from the canonical little-"
                + "endian layout); a bytes[N] key is its N bytes in order as one bit<8N> number; every table of a map "
                + "holds the same entries\"\n");
        s.append("}\n");
        return s.toString();
    }

    static String json(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    static String readme(IrModule module) {
        String base = module.baseName();
        String file = Bmv2Generator.fileName(module.sourceFile());
        return "<!-- Generated by xpsc from " + file + ". Do not edit. -->\n"
                + "# " + base + " on BMv2\n\n"
                + "```sh\n"
                + "p4c-bm2-ss --std p4-16 --arch v1model -o " + base + ".json " + base + ".p4\n"
                + "simple_switch --log-console -i 0@<network-iface> -i 1@<host-iface> " + base + ".json\n"
                + "```\n\n"
                + "Port 0 faces the clients, port 1 the host that runs the service: datagrams for a handler are\n"
                + "answered (tx: reflected out of port 0 with MACs, IPs and ports swapped, lengths and the IPv4\n"
                + "checksum fixed, UDP checksum 0), dropped, or passed to port 1 unchanged; everything from port 1\n"
                + "goes to port 0. To change the ports, edit `XPS_NETWORK_PORT` / `XPS_HOST_PORT`.\n\n"
                + "Map contents come from the control plane: `" + base + ".entries.json` names, for every map,\n"
                + "the tables (one per lookup site, all holding the same entries) or the register that hold it,\n"
                + "with `simple_switch_CLI` command templates.\n";
    }
}
