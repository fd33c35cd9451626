package dev.xps.backend.ebpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Handlers are reached by tail call through their entry point's PROG_ARRAY, so a handler can be
 * replaced while its entry program stays loaded and attached: load the new build of the module
 * with its maps taken from the running one, and put its handler program in the slot.
 */
class HandlerSlotTest {
    private static final String MODULE = """
            handler h on udp port 3000 {
              decode { x = u8; } else drop;
              encode { "%s" u8(x) }
              return tx;
            }
            """;

    private static byte[] object(String version) {
        IrModule module = SampleFiles.compile("slots.xps", MODULE.formatted(version));
        Diagnostics d = new Diagnostics();
        List<GeneratedFile> files = new EbpfBackend().generate(module, d);
        assertFalse(d.hasErrors(), () -> d.sorted().toString());
        return files.stream().filter(f -> f.relativePath().endsWith(".bpf.o")).findFirst().orElseThrow().content();
    }

    @Test
    void aHandlerSlotCanBeReplacedWhileTheEntryProgramRuns() throws Exception {
        KernelAssumptions.requireKernel();
        Path dir = Files.createTempDirectory("xpsebpf-slots-");
        String name = "xpsebpf-test-slots-" + ProcessHandle.current().pid();
        try {
            Path v1 = Files.write(dir.resolve("v1.bpf.o"), object("v1"));
            Path v2 = Files.write(dir.resolve("v2.bpf.o"), object("v2"));
            try (Bpftool.Pins running = Bpftool.load(v1, name, false)) {
                Packets.Flow flow = new Packets.Flow(0x0A000002L, 0x0A000001L, 40_000, 3000);
                byte[] request = Packets.request(flow, new byte[] {7});
                Path entry = running.program("h_xdp");
                assertArrayEquals("v1\7".getBytes(StandardCharsets.ISO_8859_1),
                        Packets.payloadOf(Bpftool.testRun(entry, request, dir).dataOut()));

                Map<String, Path> shared = Map.of("xps_nest", running.map("xps_nest"),
                        "xps_scratch", running.map("xps_scratch"), "xps_window", running.map("xps_window"),
                        "xps_vars", running.map("xps_vars"), "xps_counters", running.map("xps_counters"));
                try (Bpftool.Pins replacement = Bpftool.load(v2, name + "-v2", false, shared)) {
                    Clang.Process.Outcome swap = Bpftool.run(List.of("map", "update", "pinned",
                            running.map("h_handlers").toString(), "key", "hex", "00", "00", "00", "00", "value",
                            "pinned", replacement.program("h").toString()));
                    assertEquals(0, swap.exitCode(), swap.output());
                }
                // the replacement's pins are gone; the slot keeps its program
                Bpftool.TestRun after = Bpftool.testRun(entry, request, dir);
                assertEquals(3, after.retval(), "XDP_TX");
                assertArrayEquals("v2\7".getBytes(StandardCharsets.ISO_8859_1), Packets.payloadOf(after.dataOut()));
            }
        } finally {
            Clang.deleteTree(dir);
        }
    }
}
