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
import org.junit.jupiter.api.Test;

/**
 * Every part of a predicate (port, sport, from, to) reaches the kernel with the right byte order:
 * a flow that matches is handled, one that misses by a single part goes to the service untouched.
 */
class PredicateTest {
    private static final String MODULE = """
            handler t on tcp port 2200 sport 40000..40010 from 10.1.0.0/16 to 10.2.0.5 {
              decode { c = u8; } else drop;
              encode { "ok" }
              return tx;
            }
            handler u on udp port 2201 sport 41000..41010 from 10.3.0.0/16 to 10.4.0.5 {
              decode { c = u8; } else drop;
              encode { "ok" }
              return tx;
            }
            """;

    private static byte[] object(IrModule module) {
        Diagnostics d = new Diagnostics();
        List<GeneratedFile> files = new EbpfBackend().generate(module, d);
        assertFalse(d.hasErrors(), () -> d.sorted().toString());
        return files.stream().filter(f -> f.relativePath().endsWith(".bpf.o")).findFirst().orElseThrow().content();
    }

    @Test
    void tcpAndUdpPredicates() throws Exception {
        KernelAssumptions.requireKernel();
        IrModule module = SampleFiles.compile("predicates.xps", MODULE);
        Plan plan = Plan.of(module);
        Plan.EntryPlan tcp = plan.entries().get(0);
        Plan.EntryPlan udp = plan.entries().get(1);
        Path dir = Files.createTempDirectory("xpsebpf-pred-");
        String name = "xpsebpf-test-pred-" + ProcessHandle.current().pid();
        byte[] ok = "ok".getBytes(StandardCharsets.US_ASCII);
        try {
            Path obj = Files.write(dir.resolve("predicates.bpf.o"), object(module));
            try (TcpHarness harness = TcpHarness.start(plan, name + "-tcp");
                 Bpftool.Pins pins = Bpftool.load(obj, name, false);
                 TcpHarness.Attachment attached = harness.attach(plan, pins)) {
                TcpHarness.Ends match = TcpHarness.Ends.of(tcp.entry().predicate());
                assertEquals(new TcpHarness.Ends("10.1.0.1", 40000, "10.2.0.5", 2200), match);
                TcpHarness.Observation hit = harness.send(match, new byte[] {'x'});
                assertArrayEquals(ok, hit.toClient(), "a matching connection is answered");
                TcpHarness.Observation wrongPort = harness.send(
                        new TcpHarness.Ends("10.1.0.1", 40011, "10.2.0.5", 2200), new byte[] {'x'});
                assertArrayEquals(new byte[] {'x'}, wrongPort.toService(), "sport 40011 is not in 40000..40010");
                TcpHarness.Observation wrongFrom = harness.send(
                        new TcpHarness.Ends("127.0.0.1", 40001, "10.2.0.5", 2200), new byte[] {'x'});
                assertArrayEquals(new byte[] {'x'}, wrongFrom.toService(), "127.0.0.1 is not in 10.1.0.0/16");

                Packets.Flow flow = Packets.Flow.matching(udp.entry().predicate());
                assertEquals(new Packets.Flow(0x0A03_0001L, 0x0A04_0005L, 41000, 2201), flow);
                Bpftool.TestRun answered = Bpftool.testRun(pins.program(udp.xdpProg()),
                        Packets.request(flow, new byte[] {'x'}), dir);
                assertEquals(3, answered.retval(), "a matching datagram is answered (XDP_TX)");
                assertArrayEquals(ok, Packets.payloadOf(answered.dataOut()));
                for (Packets.Flow miss : List.of(
                        new Packets.Flow(0x0A03_0001L, 0x0A04_0005L, 41011, 2201),
                        new Packets.Flow(0x0A05_0001L, 0x0A04_0005L, 41000, 2201),
                        new Packets.Flow(0x0A03_0001L, 0x0A04_0006L, 41000, 2201),
                        new Packets.Flow(0x0A03_0001L, 0x0A04_0005L, 41000, 2202))) {
                    byte[] request = Packets.request(miss, new byte[] {'x'});
                    Bpftool.TestRun passed = Bpftool.testRun(pins.program(udp.xdpProg()), request, dir);
                    assertEquals(2, passed.retval(), "XDP_PASS for " + miss);
                    assertArrayEquals(request, passed.dataOut());
                }
            }
        } finally {
            Clang.deleteTree(dir);
        }
    }

    /**
     * IPv6 prefixes on a TCP entry: the sock_ops program compares the four {@code remote_ip6}/{@code local_ip6}
     * words under the mask; a connection from or to another IPv6 address, or an IPv4 one, goes to the service.
     */
    @Test
    void tcpIpv6Predicates() throws Exception {
        KernelAssumptions.requireKernel();
        IrModule module = SampleFiles.compile("predicates6.xps", """
                handler t on tcp port 2202 from fd00:7::/32 to fd00:8::5 {
                  decode { c = u8; } else drop;
                  encode { "ok" }
                  return tx;
                }
                """);
        Plan plan = Plan.of(module);
        Path dir = Files.createTempDirectory("xpsebpf-pred6-");
        String name = "xpsebpf-test-pred6-" + ProcessHandle.current().pid();
        try {
            Path obj = Files.write(dir.resolve("predicates6.bpf.o"), object(module));
            try (TcpHarness harness = TcpHarness.start(plan, name + "-tcp");
                 Bpftool.Pins pins = Bpftool.load(obj, name, false);
                 TcpHarness.Attachment attached = harness.attach(plan, pins)) {
                TcpHarness.Ends match = TcpHarness.Ends.of(plan.entries().getFirst().entry().predicate());
                assertEquals(new TcpHarness.Ends("fd00:7::1", 0, "fd00:8::5", 2202), match);
                assertArrayEquals("ok".getBytes(StandardCharsets.US_ASCII),
                        harness.send(match, new byte[] {'x'}).toClient(), "a matching IPv6 connection is answered");
                for (TcpHarness.Ends miss : List.of(
                        new TcpHarness.Ends("::1", 0, "fd00:8::5", 2202),
                        new TcpHarness.Ends("fd00:7::1", 0, "::1", 2202),
                        new TcpHarness.Ends("127.0.0.1", 0, "127.0.0.1", 2202))) {
                    assertArrayEquals(new byte[] {'x'}, harness.send(miss, new byte[] {'x'}).toService(),
                            miss + " goes to the service");
                }
            }
        } finally {
            Clang.deleteTree(dir);
        }
    }
}
