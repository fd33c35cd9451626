package dev.xps.backend.nfp;

import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrTest;
import dev.xps.compiler.ir.Verdict;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs a module's in-language tests on the generated Micro-C, compiled by gcc on this machine
 * against {@code pif_host.h} (a stand-in for the sandbox API). A generated C driver plays every
 * test's steps: fresh maps, map set-up, each {@code send} through the entry point (the plugin
 * function for direct entries, the C mirror of the P4 dispatch otherwise), verdict and exact
 * response bytes, map contents. The driver prints one line per test, read back here.
 *
 * <p>What this proves and what it does not: backends-c-nfp/README.md.
 */
public final class HostTestRunner implements Backend.TestRunner {
    /** Host tables hold at most this many slots per map (the NIC's hold the declared capacity). */
    static final int HOST_MAX_SLOTS = 4096;

    private static final String[] GCC_FLAGS = {"-std=gnu11", "-O0", "-Wall", "-Wextra", "-Werror",
        "-Wno-unused-function", "-Wno-unused-parameter", "-Wno-unused-label", "-Wno-unused-variable",
        "-Wno-unused-but-set-variable", "-DXPS_HOST", "-DXPS_HOST_MAX_SLOTS=" + HOST_MAX_SLOTS};

    private static volatile Optional<String> unavailable;
    private static volatile Boolean sanitizers;

    static String gcc() {
        return System.getenv().getOrDefault("XPS_GCC", "gcc");
    }

    @Override
    public Optional<String> unavailableReason() {
        Optional<String> u = unavailable;
        if (u == null) {
            u = probe();
            unavailable = u;
        }
        return u;
    }

    private static Optional<String> probe() {
        try {
            Process p = new ProcessBuilder(gcc(), "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return Optional.of("'" + gcc() + " --version' failed: the nfp host tests need gcc");
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("gcc not found on PATH: the nfp host tests compile the Micro-C with gcc");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while probing gcc");
        }
    }

    /** AddressSanitizer and UBSan when this gcc has them: an out-of-bounds access then fails the test. */
    private static boolean sanitizers(Path dir) {
        Boolean s = sanitizers;
        if (s == null) {
            try {
                Path c = dir.resolve("probe.c");
                Files.writeString(c, "int main(void) { return 0; }\n");
                s = exec(dir, 60, gcc(), "-fsanitize=address,undefined", "-o", dir.resolve("probe").toString(),
                        c.toString()).exit == 0;
            } catch (IOException e) {
                s = false;
            }
            sanitizers = s;
        }
        return s;
    }

    @Override
    public List<TestOutcome> run(IrModule module, List<GeneratedFile> files) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("xps-nfp-");
            String base = module.baseName();
            GeneratedFile source = null;
            for (GeneratedFile f : files) {
                if (f.relativePath().endsWith(".c") || f.relativePath().endsWith(".h")) {
                    Path to = dir.resolve(Path.of(f.relativePath()).getFileName().toString());
                    Files.write(to, f.content());
                    if (f.relativePath().endsWith(base + ".c")) {
                        source = f;
                    }
                }
            }
            if (source == null) {
                return failAll(module, "no generated Micro-C (nfp/" + base + "/" + base + ".c) to test");
            }
            Files.writeString(dir.resolve("pif_host.h"), resource("host/pif_host.h"));
            Files.writeString(dir.resolve("xps_test_driver.c"), driver(module, base + ".c"));
            List<String> cmd = new ArrayList<>(List.of(gcc()));
            cmd.addAll(List.of(GCC_FLAGS));
            if (sanitizers(dir)) {
                cmd.addAll(List.of("-fsanitize=address,undefined", "-fno-sanitize-recover=all"));
            }
            cmd.addAll(List.of("-I", dir.toString(), "-o", dir.resolve("xps_tests").toString(),
                    dir.resolve("xps_test_driver.c").toString()));
            Exec compiled = exec(dir, 120, cmd.toArray(String[]::new));
            if (compiled.exit != 0) {
                return failAll(module, "the generated Micro-C does not compile with gcc on the host (a bug in xpsc, "
                        + "please report it):\n" + String.join(" ", cmd) + "\n" + compiled.output);
            }
            Exec ran = exec(dir, 120, dir.resolve("xps_tests").toString());
            return outcomes(module, ran);
        } catch (IOException e) {
            return failAll(module, "cannot run the nfp host tests: " + e.getMessage());
        } finally {
            if (dir != null && !Boolean.getBoolean("xps.nfp.keep")) {
                delete(dir);
            }
        }
    }

    private static List<TestOutcome> outcomes(IrModule module, Exec ran) {
        Map<Integer, String> results = new HashMap<>();
        for (String line : ran.output.lines().toList()) {
            if (line.startsWith("XPS-PASS ")) {
                results.put(Integer.parseInt(line.substring(9).trim()), "");
            } else if (line.startsWith("XPS-FAIL ")) {
                String[] parts = line.substring(9).split(" ", 2);
                results.put(Integer.parseInt(parts[0]), parts.length > 1 ? parts[1] : "failed");
            }
        }
        List<TestOutcome> out = new ArrayList<>();
        List<IrTest> tests = module.tests();
        for (int i = 0; i < tests.size(); i++) {
            IrTest t = tests.get(i);
            String r = results.get(i);
            if (r == null) {
                out.add(new TestOutcome(t.name(), t.location(), false, "the test driver did not report this test (exit "
                        + ran.exit + "):\n" + ran.output));
            } else if (r.isEmpty()) {
                out.add(new TestOutcome(t.name(), t.location(), true, ""));
            } else {
                out.add(new TestOutcome(t.name(), t.location(), false, explain(r)));
            }
        }
        return out;
    }

    /** Turns the driver's "LINE what hex..." into a message in the source's terms. */
    static String explain(String raw) {
        String[] p = raw.split(" ");
        String at = p[0];
        return switch (p[1]) {
            case "send" -> {
                // send <sent hex> <expected verdict> <expected hex or -> <got verdict> <got hex>
                String expected = p[3] + (p[4].equals("-") ? "" : " " + quotedHex(p[4]));
                String got = p[5] + (p[5].equals("tx") ? " " + quotedHex(p[6]) : "");
                yield at + ": sent " + quotedHex(p[2]) + "\n  expected " + expected + "\n  got      " + got;
            }
            case "put" -> at + ": map '" + p[2] + "' has no room for key " + quotedHex(p[3]);
            case "append" -> at + ": log '" + p[2] + "' is full";
            case "entry" -> at + ": expected " + p[2] + "[" + quotedHex(p[3]) + "] == " + quotedHex(p[4])
                    + (p[5].equals("missing") ? ", but the key is missing" : ", got " + quotedHex(p[5]));
            case "missing" -> at + ": expected " + p[2] + "[" + quotedHex(p[3]) + "] to be missing, but it holds "
                    + quotedHex(p[4]);
            default -> raw;
        };
    }

    private static String quotedHex(String hex) {
        return MicroCGenerator.quoted(hex.equals("=") ? new byte[0] : HexFormat.of().parseHex(hex));
    }

    // ------------------------------------------------------------------ the driver

    static String driver(IrModule module, String cFile) {
        StringBuilder s = new StringBuilder();
        s.append("/* xpsc's host test driver for ").append(MicroCGenerator.fileName(module.sourceFile()))
                .append(": plays every in-language test on the generated Micro-C. */\n");
        s.append("#include <stdio.h>\n#include \"").append(cFile).append("\"\n\n");
        s.append("static void xps_print_hex(const uint8_t *p, uint32_t n) {\n    uint32_t i;\n")
                .append("    if (n == 0) {\n        printf(\"=\");\n    }\n")
                .append("    for (i = 0; i < n; i++) {\n        printf(\"%02x\", p[i]);\n    }\n}\n\n");
        s.append("static const char *xps_verdict_name(int v) {\n    switch (v) {\n")
                .append("    case XPS_V_TX: return \"tx\";\n    case XPS_V_DROP: return \"drop\";\n")
                .append("    case XPS_V_PASS: return \"pass\";\n    case XPS_V_RESET: return \"reset\";\n")
                .append("    default: return \"invalid\";\n    }\n}\n\n");
        s.append("static void xps_reset_maps(void) {\n");
        for (IrMap m : module.maps()) {
            s.append("    memset(").append(MicroCGenerator.slotsVar(m)).append(", 0, sizeof ")
                    .append(MicroCGenerator.slotsVar(m)).append(");\n");
            s.append("    ").append(MicroCGenerator.countVar(m)).append(" = 0;\n");
        }
        s.append("}\n\n");
        s.append("static uint8_t xps_response[65536];\n\n");
        List<IrTest> tests = module.tests();
        for (int i = 0; i < tests.size(); i++) {
            test(module, i, tests.get(i), s);
        }
        s.append("int main(void) {\n");
        for (int i = 0; i < tests.size(); i++) {
            s.append("    xps_test_").append(i).append("();\n");
        }
        s.append("    return 0;\n}\n");
        return s.toString();
    }

    private static String bytes(byte[] b) {
        StringBuilder s = new StringBuilder("(const uint8_t[]) { ");
        if (b.length == 0) {
            s.append("0");
        }
        for (int i = 0; i < b.length; i++) {
            s.append(i == 0 ? "" : ", ").append(String.format("0x%02x", b[i] & 0xFF));
        }
        return s.append(" }").toString();
    }

    private static String hex(byte[] b) {
        return b.length == 0 ? "=" : HexFormat.of().formatHex(b);
    }

    private static void test(IrModule module, int index, IrTest test, StringBuilder s) {
        String file = MicroCGenerator.fileName(module.sourceFile());
        s.append("/* test \"").append(MicroCGenerator.safe(test.name())).append("\" (").append(file).append(':')
                .append(test.location().line()).append(") */\n");
        s.append("static void xps_test_").append(index).append("(void) {\n");
        s.append("    xps_reset_maps();\n");
        for (IrTest.Step step : test.steps()) {
            String at = (file + ":" + step.location().line()).replaceAll("[^A-Za-z0-9_.:-]", "_");
            String fail = "printf(\"XPS-FAIL " + index + " " + at + " ";
            s.append("    {\n");
            switch (step) {
                case IrTest.Put p -> s.append("        if (!xps_map_put(&").append(MicroCGenerator.mapVar(p.map()))
                        .append(", ").append(bytes(p.key())).append(", ").append(p.key().length).append(", ")
                        .append(bytes(p.value())).append(", ").append(p.value().length).append(")) {\n            ")
                        .append(fail).append("put ").append(p.map().name()).append(' ').append(hex(p.key()))
                        .append("\\n\");\n            return;\n        }\n");
                case IrTest.Append a -> s.append("        if (xps_map_append(&").append(MicroCGenerator.mapVar(a.map()))
                        .append(", ").append(bytes(a.value())).append(", ").append(a.value().length)
                        .append(") == 0) {\n            ").append(fail).append("append ").append(a.map().name())
                        .append("\\n\");\n            return;\n        }\n");
                case IrTest.Send send -> send(send, fail, s);
                case IrTest.ExpectEntry e -> {
                    s.append("        uint8_t value[").append(Math.max(1, MicroCGenerator.size(e.map().valueType())))
                            .append("];\n        uint32_t len = 0;\n");
                    s.append("        int hit = xps_map_get(&").append(MicroCGenerator.mapVar(e.map())).append(", ")
                            .append(bytes(e.key())).append(", ").append(e.key().length).append(", value, &len, 0);\n");
                    s.append("        if (!hit || len != ").append(e.value().length).append(" || memcmp(value, ")
                            .append(bytes(e.value())).append(", len) != 0) {\n");
                    s.append("            ").append(fail).append("entry ").append(e.map().name()).append(' ')
                            .append(hex(e.key())).append(' ').append(hex(e.value())).append(" \");\n");
                    s.append("            if (hit) {\n                xps_print_hex(value, len);\n            } else {\n")
                            .append("                printf(\"missing\");\n            }\n")
                            .append("            printf(\"\\n\");\n            return;\n        }\n");
                }
                case IrTest.ExpectMissing e -> {
                    s.append("        uint8_t value[").append(Math.max(1, MicroCGenerator.size(e.map().valueType())))
                            .append("];\n        uint32_t len = 0;\n");
                    s.append("        if (xps_map_get(&").append(MicroCGenerator.mapVar(e.map())).append(", ")
                            .append(bytes(e.key())).append(", ").append(e.key().length).append(", value, &len, 0)) {\n");
                    s.append("            ").append(fail).append("missing ").append(e.map().name()).append(' ')
                            .append(hex(e.key())).append(" \");\n");
                    s.append("            xps_print_hex(value, len);\n            printf(\"\\n\");\n")
                            .append("            return;\n        }\n");
                }
            }
            s.append("    }\n");
        }
        s.append("    printf(\"XPS-PASS ").append(index).append("\\n\");\n}\n\n");
    }

    private static void send(IrTest.Send send, String fail, StringBuilder s) {
        byte[] payload = send.payload();
        String expectedVerdict = "XPS_V_" + send.verdict().name();
        s.append("        static const uint8_t payload[] = ").append(bytes(payload).substring("(const uint8_t[]) ".length()))
                .append(";\n");
        s.append("        uint32_t payload_len = ").append(payload.length).append(";\n");
        s.append("        int verdict;\n        uint32_t response_len;\n");
        if (send.entry() instanceof dev.xps.compiler.ir.IrEntryPoint.Direct d) {
            // Through the sandbox function the NIC calls: the packet buffer stands in for the datagram.
            s.append("        EXTRACTED_HEADERS_T headers;\n        MATCH_DATA_T match;\n        int forward;\n");
            s.append("        memcpy(xps_host_pkt, payload, payload_len);\n        xps_host_pkt_len = payload_len;\n");
            s.append("        forward = pif_plugin_").append(d.handler().name()).append("(&headers, &match);\n");
            s.append("        verdict = (int) xps_host_meta_verdict;\n");
            s.append("        response_len = verdict == XPS_V_TX ? xps_host_meta_resp_len : 0;\n");
            s.append("        memcpy(xps_response, xps_host_pkt, response_len);\n");
            s.append("        if (forward != ((verdict == XPS_V_DROP || verdict == XPS_V_RESET) ? PIF_PLUGIN_RETURN_DROP\n")
                    .append("                : PIF_PLUGIN_RETURN_FORWARD) || (verdict == XPS_V_TX && xps_host_pkt_len != ")
                    .append("response_len)) {\n");
            s.append("            ").append(fail).append("plugin-result\\n\");\n            return;\n        }\n");
        } else {
            s.append("        struct xps_out out;\n        out.buf = xps_response;\n        out.len = 0;\n")
                    .append("        out.cap = sizeof xps_response;\n");
            s.append("        verdict = ").append(MicroCGenerator.entryFunction(send.entry()))
                    .append("(payload, payload_len, &out);\n");
            s.append("        response_len = out.len;\n");
        }
        s.append("        if (verdict != ").append(expectedVerdict);
        if (send.response().isPresent()) {
            byte[] r = send.response().get();
            s.append(" || response_len != ").append(r.length).append(" || memcmp(xps_response, ").append(bytes(r))
                    .append(", response_len) != 0");
        }
        s.append(") {\n");
        s.append("            ").append(fail).append("send ").append(hex(payload)).append(' ')
                .append(send.verdict().keyword()).append(' ')
                .append(send.response().map(HostTestRunner::hex).orElse("-")).append(" %s \", xps_verdict_name(verdict));\n");
        s.append("            xps_print_hex(xps_response, response_len);\n            printf(\"\\n\");\n")
                .append("            return;\n        }\n");
    }

    // ------------------------------------------------------------------ plumbing

    static String resource(String name) {
        try (InputStream in = HostTestRunner.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private record Exec(int exit, String output) {}

    private static Exec exec(Path dir, int seconds, String... cmd) throws IOException {
        Path log = Files.createTempFile(dir, "exec-", ".log");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Exec(-1, "timed out after " + seconds + " s: " + String.join(" ", cmd));
            }
            return new Exec(p.exitValue(), Files.readString(log, StandardCharsets.ISO_8859_1));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return new Exec(-1, "interrupted");
        }
    }

    private static List<TestOutcome> failAll(IrModule module, String why) {
        return module.tests().stream().map(t -> new TestOutcome(t.name(), t.location(), false, why)).toList();
    }

    private static void delete(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory left behind is harmless
        }
    }

    static String verdictName(Verdict v) {
        return v.name().toLowerCase(Locale.ROOT);
    }
}
