package dev.xps.backend.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.testing.SampleFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Several segments on one TCP connection: a fast-path answer never overtakes the service's answer
 * to a request it was passed, a segment after an incomplete message is not decoded, and the
 * connection is back on the fast path once the service has answered (docs/ebpf-target.md, "Connection
 * state"). Real sockets, programs attached as the agent attaches them.
 */
class TcpConnectionStateTest {
    private static final String MODULE = """
            map c : hash<bytes[1], bytes[8]> capacity 4;
            handler g on tcp port 2100 {
              decode { expect "G"; k = bytes[1]; expect "."; } else pass;
              v = lookup c[k] else pass;
              encode { v }
              return tx;
            }
            """;

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void answersNeverOvertakeTheService() throws Exception {
        KernelAssumptions.requireKernel();
        IrModule module = SampleFiles.compile("state.xps", MODULE);
        Diagnostics d = new Diagnostics();
        List<GeneratedFile> files = new EbpfBackend().generate(module, d);
        assertFalse(d.hasErrors(), () -> d.sorted().toString());
        Plan plan = Plan.of(module);
        Plan.EntryPlan entry = plan.entries().getFirst();
        Path dir = Files.createTempDirectory("xpsebpf-state-");
        String name = "xpsebpf-test-state-" + ProcessHandle.current().pid();
        try {
            Path obj = Files.write(dir.resolve("state.bpf.o"), files.stream()
                    .filter(f -> f.relativePath().endsWith(".bpf.o")).findFirst().orElseThrow().content());
            try (TcpHarness harness = TcpHarness.start(plan, name + "-tcp");
                 Bpftool.Pins pins = Bpftool.load(obj, name, false);
                 TcpHarness.Attachment attached = harness.attach(plan, pins)) {
                Bpftool.update(pins.map("c"), KernelLayout.kernelKey(plan.maps().getFirst().map(), b("a")),
                        KernelLayout.kernelValue(plan.maps().getFirst().map().valueType(), b("A")));
                harness.open(entry);

                check("a hit is answered", harness.segment(b("Ga.")), "", "A");
                check("a miss goes to the service", harness.segment(b("Gb.")), "Gb.", "");
                check("a hit while the service owes an answer goes to the service too",
                        harness.segment(b("Ga.")), "Ga.", "");
                check("the service answers both", harness.reply(b("BA")), "", "BA");
                check("then hits are answered again", harness.segment(b("Ga.")), "", "A");

                check("an incomplete message goes to the service", harness.segment(b("Ga")), "Ga", "");
                check("the rest of it is not decoded: it goes to the service whole",
                        harness.segment(b(".Ga.")), ".Ga.", "");
                check("the service answers", harness.reply(b("AA")), "", "AA");
                check("back on the fast path", harness.segment(b("Ga.Ga.")), "", "AA");
                harness.closeConnection();

                long[] counters = Bpftool.sumPerCpu(pins.map("xps_counters"), entry.index(), 8);
                assertEquals(1, counters[5], "one incomplete segment");
                assertEquals(2, counters[7], "two segments passed while out of step or waiting");
            }
        } finally {
            Clang.deleteTree(dir);
        }
    }

    private static void check(String what, TcpHarness.Observation o, String toService, String toClient) {
        assertEquals(toService + " | " + toClient, s(o.toService()) + " | " + s(o.toClient()), what);
    }
}
