package dev.xps.backend.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.diag.Diagnostic;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.Severity;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.CapabilityChecker;
import dev.xps.compiler.target.Feature;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
import dev.xps.testing.SampleFiles;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the backend declares, generates and refuses. */
class EbpfBackendTest {
    private static List<Diagnostic> check(String text) {
        IrModule module = SampleFiles.compile("t.xps", text);
        Diagnostics d = new Diagnostics();
        if (CapabilityChecker.check(module, new EbpfBackend(), d)) {
            new EbpfBackend().generate(module, d);
        }
        return d.sorted();
    }

    private static String errors(List<Diagnostic> ds) {
        return String.join("\n", ds.stream().filter(x -> x.severity() == Severity.ERROR)
                .map(x -> x.location() + ": " + x.message()).toList());
    }

    @Test
    void declaresWhatItImplements() {
        EbpfBackend b = new EbpfBackend();
        assertEquals("ebpf", b.name());
        assertTrue(b.generatesCode());
        for (Feature f : Feature.values()) {
            assertTrue(b.capabilities().supports(f), f + " is implemented and tested");
        }
        assertEquals(16_384, b.capabilities().maxMessageBytes());
        assertEquals(16_384, b.capabilities().maxResponseBytes());
    }

    @Test
    void consensusBlocksAreLoweredBesideTheHandlers() {
        List<Diagnostic> ds = check("""
                consensus c on udp port 9000 { replicas 3; log capacity 16 entry 16; order all; }
                handler h on udp port 9000 { decode { x = u8; } else drop; return pass; }
                """);
        assertEquals("", errors(ds));
        assertTrue(ds.stream().noneMatch(x -> x.message().contains("consensus")), ds::toString);
    }

    @Test
    void aMessageLongerThanTheWindowIsRefusedAtItsHandler() {
        String e = errors(check("""
                handler h on tcp port 80 { decode { skip 16000; x = bytes(n) max 1000; } else pass; return pass; }
                """.replace("bytes(n)", "bytes[1000]").replace(" max 1000", "")));
        assertTrue(e.contains("t.xps:1:1: a message of handler 'h' can be 17000 bytes but target 'ebpf' allows at "
                + "most 16384"), e);
    }

    @Test
    void aDecimalLookAheadPastTheWindowIsRefusedAtTheStep() {
        String e = errors(check("""
                handler h on tcp port 80 {
                  decode { skip 16382; x = decimal max 2 digits; } else pass;
                  return pass;
                }
                """));
        assertTrue(e.contains("t.xps:2:"), e);
        assertTrue(e.contains("can read 16385 bytes of a message here but target 'ebpf' reads at most 16384"), e);
    }

    @Test
    void aLongDelimiterIsRefused() {
        String e = errors(check("""
                handler h on tcp port 80 {
                  decode { skip_until "0123456789abcdefg" max 10; } else pass;
                  return pass;
                }
                """));
        assertTrue(e.contains("t.xps:2:") && e.contains("target 'ebpf' cannot express a delimiter of 17 bytes (at "
                + "most 16)"), e);
    }

    @Test
    void aLargeValueIsRefused() {
        String e = errors(check("""
                map m : hash<u32, bytes[5000]> capacity 4;
                handler h on udp port 80 { decode { k = u32be; } else drop; v = lookup m[k] else pass; encode { v } return tx; }
                """));
        assertTrue(e.contains("value of map 'm' can be 5000 bytes but target 'ebpf' allows at most 4096"), e);
    }

    @Test
    void namesThatCOrTheHeadersUseAreRenamedAndTheModuleStillBuildsAndLoads() throws Exception {
        String text = """
                map xdp : hash<u32, u32> capacity 4;
                map int : array<u32, u64> capacity 2;
                handler sockops on udp port 5000 {
                  decode { s = u32be; m = u8; w = bytes(m) max 8; } else drop;
                  v = lookup xdp[s] else pass;
                  ctx = lookup int[0] else pass;
                  let rc = v + ctx;
                  let XDP_TX = rc;
                  encode { u64be(XDP_TX) w }
                  return tx;
                }
                test "renamed" {
                  xdp[1] = 2; int[0] = 3;
                  send x"00000001 02" "hi";
                  expect tx x"0000000000000005" "hi";
                }
                """;
        IrModule module = SampleFiles.compile("names.xps", text);
        Diagnostics d = new Diagnostics();
        List<GeneratedFile> files = new EbpfBackend().generate(module, d);
        assertEquals("", errors(d.sorted()));
        String c = GoldenFilesTest.text(files, "names.bpf.c");
        assertTrue(c.contains("} xdp_ SEC(\".maps\");"), "map 'xdp' is renamed");
        assertTrue(c.contains("int sockops_(struct xdp_md *ctx)"), "handler 'sockops' is renamed");
        assertTrue(c.contains("__u64 XDP_TX_ = 0;"), "local 'XDP_TX' is renamed");
        KernelAssumptions.requireKernel();
        List<TestOutcome> outcomes = new EbpfTestRunner().run(module, files);
        assertTrue(outcomes.getFirst().passed(), outcomes.getFirst().detail());
    }

    @Test
    void withoutClangOnlyTheSourcesAreWrittenWithAWarning() {
        String before = System.getProperty("xps.clang");
        System.setProperty("xps.clang", "/nonexistent/xpsebpf-clang");
        try {
            IrModule module = SampleFiles.compile("t.xps", "handler h on udp port 1 { decode { x = u8; } else drop; return pass; }");
            Diagnostics d = new Diagnostics();
            List<GeneratedFile> files = new EbpfBackend().generate(module, d);
            assertEquals(List.of("ebpf/t/t.bpf.c", "ebpf/t/xps_runtime.h", "ebpf/t/t.manifest.json"),
                    files.stream().map(GeneratedFile::relativePath).toList());
            assertFalse(d.hasErrors());
            assertTrue(d.sorted().stream().anyMatch(x -> x.severity() == Severity.WARNING
                    && x.message().contains("clang not found") && x.message().contains("wrote the C sources only")),
                    d.sorted()::toString);
        } finally {
            if (before == null) {
                System.clearProperty("xps.clang");
            } else {
                System.setProperty("xps.clang", before);
            }
        }
    }

    @Test
    void theObjectIsReproducible() {
        KernelAssumptions.requireKernel();
        IrModule module = SampleFiles.compile("t.xps", "handler h on udp port 1 { decode { x = u8; } else drop; return pass; }");
        byte[] a = object(module);
        byte[] b = object(module);
        assertTrue(java.util.Arrays.equals(a, b), "two builds of the same module give the same object");
        assertTrue(new String(a, StandardCharsets.ISO_8859_1).startsWith("\u007fELF"));
    }

    private static byte[] object(IrModule module) {
        Diagnostics d = new Diagnostics();
        return new EbpfBackend().generate(module, d).stream().filter(f -> f.relativePath().endsWith(".bpf.o"))
                .findFirst().orElseThrow().content();
    }
}
