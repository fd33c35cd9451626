package dev.xps.backend.ebpf;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.testing.SampleFiles;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * UDP entry points (XDP) over IPv6, through BPF_PROG_TEST_RUN: samples/memcached-udp.xps answers a hit that
 * arrives as Ethernet / IPv6 / UDP with the same bytes as over IPv4, in an IPv6 reply whose UDP checksum
 * {@link Packets#checkReply6} verifies on its own; a miss, a datagram behind an extension header or in a
 * fragment, a truncated one and one without a checksum pass untouched; and a predicate with {@code from} does
 * not match IPv6 datagrams.
 */
class UdpIpv6Test {
    private static final int XDP_PASS = 2;
    private static final int XDP_TX = 3;

    private static Path dir;
    private static String name;
    private static Bpftool.Pins memcached;
    private static Plan.EntryPlan get;
    private static Bpftool.Pins predicates;
    private static Plan predicatesPlan;

    private static final String PREDICATES = """
            handler from_prefix on udp port 2201 from 10.3.0.0/16 {
              decode { c = u8; } else drop;
              encode { "from" }
              return tx;
            }
            handler from_any on udp port 2202 from 0.0.0.0/0 {
              decode { c = u8; } else drop;
              encode { "any" }
              return tx;
            }
            handler to_host on udp port 2203 to 10.4.0.5 {
              decode { c = u8; } else drop;
              encode { "to" }
              return tx;
            }
            handler ports on udp port 2204 sport 41000..41010 {
              decode { expect "E"; n = u8; x = bytes(n) max 16; } else drop;
              encode { "e" x }
              return tx;
            }
            handler from_ula on udp port 2205 from fd00:1::/32 {
              decode { c = u8; } else drop;
              encode { "ula" }
              return tx;
            }
            handler to_one on udp port 2206 to 2001:db8::53 {
              decode { c = u8; } else drop;
              encode { "one" }
              return tx;
            }
            """;

    @BeforeAll
    static void load() throws Exception {
        KernelAssumptions.requireKernel();
        dir = Files.createTempDirectory("xpsebpf-udp6-");
        name = "xpsebpf-test-udp6-" + ProcessHandle.current().pid();
        boolean ok = false;
        try {
            IrModule mc = SampleFiles.compile(SampleFiles.named("memcached-udp.xps"));
            Plan mcPlan = Plan.of(mc);
            get = mcPlan.entries().getFirst();
            memcached = Bpftool.load(Files.write(dir.resolve("memcached-udp.bpf.o"), object(mc)), name + "-mc", false);
            IrMap map = mc.maps().getFirst();
            Path pinned = memcached.map(mcPlan.map(map).cName());
            put(map, pinned, "user:42", "alice".getBytes(US_ASCII));
            byte[] big = new byte[1000];
            for (int i = 0; i < big.length; i++) {
                big[i] = (byte) ('a' + i % 26);
            }
            put(map, pinned, "big", big);
            put(map, pinned, "odd", "abc".getBytes(US_ASCII));

            IrModule pm = SampleFiles.compile("predicates6.xps", PREDICATES);
            predicatesPlan = Plan.of(pm);
            predicates = Bpftool.load(Files.write(dir.resolve("predicates6.bpf.o"), object(pm)), name + "-pred", false);
            ok = true;
        } finally {
            if (!ok) {
                cleanup();
            }
        }
    }

    @AfterAll
    static void cleanup() {
        if (memcached != null) {
            memcached.close();
        }
        if (predicates != null) {
            predicates.close();
        }
        if (dir != null) {
            Clang.deleteTree(dir);
        }
    }

    private static byte[] object(IrModule module) {
        Diagnostics d = new Diagnostics();
        List<GeneratedFile> files = new EbpfBackend().generate(module, d);
        assertFalse(d.hasErrors(), () -> d.sorted().toString());
        return files.stream().filter(f -> f.relativePath().endsWith(".bpf.o")).findFirst().orElseThrow().content();
    }

    private static void put(IrMap map, Path pinned, String key, byte[] value) throws Bpftool.BpfException {
        Bpftool.update(pinned, KernelLayout.kernelKey(map, key.getBytes(US_ASCII)),
                KernelLayout.kernelValue(map.valueType(), value));
    }

    private static byte[] getRequest(int id, String key) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(HexFormat.of().parseHex("%04x000000010000".formatted(id)));
        b.writeBytes(("get " + key + "\r\n").getBytes(US_ASCII));
        return b.toByteArray();
    }

    private static byte[] hitResponse(int id, String key, byte[] value) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(HexFormat.of().parseHex("%04x000000010000".formatted(id)));
        b.writeBytes(("VALUE " + key + " 0 " + value.length + "\r\n").getBytes(US_ASCII));
        b.writeBytes(value);
        b.writeBytes("\r\nEND\r\n".getBytes(US_ASCII));
        return b.toByteArray();
    }

    private static Bpftool.TestRun run(Bpftool.Pins pins, String prog, byte[] frame) throws Bpftool.BpfException {
        return Bpftool.testRun(pins.program(prog), frame, dir);
    }

    /** Runs {@code frame}; it must be answered with exactly {@code response} in a valid IPv6 reply. */
    private static void assertAnswered6(Bpftool.Pins pins, String prog, Packets.Flow6 flow, byte[] frame,
            byte[] response) throws Bpftool.BpfException {
        Bpftool.TestRun r = run(pins, prog, frame);
        assertEquals(XDP_TX, r.retval(), "XDP_TX for " + flow);
        Optional<String> wrong = Packets.checkReply6(flow, r.dataOut(), response);
        assertTrue(wrong.isEmpty(), () -> wrong.get() + ": " + HexFormat.of().formatHex(r.dataOut()));
        assertEquals(new String(response, US_ASCII), new String(Packets.payloadOf6(r.dataOut()), US_ASCII));
        assertArrayEquals(response, Packets.payloadOf6(r.dataOut()));
    }

    private static void assertPassed(Bpftool.Pins pins, String prog, byte[] frame, String what)
            throws Bpftool.BpfException {
        Bpftool.TestRun r = run(pins, prog, frame);
        assertEquals(XDP_PASS, r.retval(), "XDP_PASS for " + what);
        assertArrayEquals(frame, r.dataOut(), what + ": the frame is untouched");
    }

    @Test
    void hitsAreAnsweredOverIpv6AsOverIpv4() throws Exception {
        Packets.Flow6 flow6 = Packets.Flow6.matching(get.entry().predicate());
        Packets.Flow flow4 = Packets.Flow.matching(get.entry().predicate());
        // response lengths: even and odd, and one over 512 bytes (bpf_csum_diff's piece), the packet growing
        for (String key : List.of("user:42", "odd", "big")) {
            byte[] value = key.equals("user:42") ? "alice".getBytes(US_ASCII)
                    : key.equals("odd") ? "abc".getBytes(US_ASCII) : null;
            if (value == null) {
                value = new byte[1000];
                for (int i = 0; i < value.length; i++) {
                    value[i] = (byte) ('a' + i % 26);
                }
            }
            byte[] request = getRequest(0x1234, key);
            byte[] expected = hitResponse(0x1234, key, value);
            assertAnswered6(memcached, get.xdpProg(), flow6, Packets.request6(flow6, request), expected);

            Bpftool.TestRun v4 = run(memcached, get.xdpProg(), Packets.request(flow4, request));
            assertEquals(XDP_TX, v4.retval(), "IPv4 " + key);
            assertEquals(Optional.empty(), Packets.checkReply(flow4, v4.dataOut(), expected));
            assertArrayEquals(Packets.payloadOf(v4.dataOut()), expected, "the same answer over IPv4");
        }
        // other addresses and ports: a checksum that depends on every address word
        Packets.Flow6 other = new Packets.Flow6(
                HexFormat.of().parseHex("20010db8ffff00001234567890abcdef"),
                HexFormat.of().parseHex("fe80000000000000abcdef0123456789"), 65535, 11211);
        assertAnswered6(memcached, get.xdpProg(), other, Packets.request6(other, getRequest(7, "user:42")),
                hitResponse(7, "user:42", "alice".getBytes(US_ASCII)));
    }

    @Test
    void theReplyShrinksAndKeepsTheTrafficClass() throws Exception {
        Plan.EntryPlan ports = predicatesPlan.entries().get(3);
        assertEquals(2204, ports.entry().predicate().dstPort().low());
        Packets.Flow6 flow = new Packets.Flow6(Packets.ula(2), Packets.ula(1), 41005, 2204);
        byte[] payload = new byte[300];
        payload[0] = 'E';
        payload[1] = 1;
        payload[2] = 'z';
        byte[] frame = Packets.request6(flow, payload);    // 300 bytes of payload, 2 of answer
        frame[14] = 0x6B;                                  // traffic class 0xB8 (EF), flow label kept 0x12345
        frame[15] = (byte) 0x81;
        fixChecksum6(frame);
        Bpftool.TestRun r = run(predicates, ports.xdpProg(), frame);
        assertEquals(XDP_TX, r.retval());
        byte[] answer = "ez".getBytes(US_ASCII);
        assertEquals(Optional.empty(), Packets.checkReply6(flow, r.dataOut(), answer));
        assertArrayEquals(answer, Packets.payloadOf6(r.dataOut()));
        assertEquals(Packets.HEADERS6 + 2, r.dataOut().length);
        assertEquals(0xB8, ((r.dataOut()[14] & 0x0F) << 4) | ((r.dataOut()[15] & 0xF0) >>> 4), "traffic class");
        assertEquals(0, (r.dataOut()[15] & 0x0F) | r.dataOut()[16] | r.dataOut()[17], "flow label 0");

        Packets.Flow6 wrongSport = new Packets.Flow6(Packets.ula(2), Packets.ula(1), 41011, 2204);
        assertPassed(predicates, ports.xdpProg(), Packets.request6(wrongSport, payload), "sport 41011");
    }

    /** Recomputes the UDP checksum of an IPv6 request after a test changed its header. */
    private static void fixChecksum6(byte[] frame) {
        byte[] payload = Arrays.copyOfRange(frame, Packets.HEADERS6, frame.length);
        Packets.Flow6 f = new Packets.Flow6(Arrays.copyOfRange(frame, 22, 38), Arrays.copyOfRange(frame, 38, 54),
                ((frame[54] & 0xFF) << 8) | (frame[55] & 0xFF), ((frame[56] & 0xFF) << 8) | (frame[57] & 0xFF));
        byte[] fresh = Packets.request6(f, payload);
        frame[60] = fresh[60];
        frame[61] = fresh[61];
    }

    @Test
    void missesAndOtherDatagramsPass() throws Exception {
        Packets.Flow6 flow = Packets.Flow6.matching(get.entry().predicate());
        String prog = get.xdpProg();
        assertPassed(memcached, prog, Packets.request6(flow, getRequest(1, "nobody")), "a miss");
        assertPassed(memcached, prog, Packets.request6(flow, getRequest(1, "user:42 b")), "a multi-key get");
        Packets.Flow6 otherPort = new Packets.Flow6(Packets.ula(2), Packets.ula(1), 40000, 11212);
        assertPassed(memcached, prog, Packets.request6(otherPort, getRequest(1, "user:42")), "another port");

        byte[] hit = getRequest(1, "user:42");
        // extension headers: hop-by-hop options (0), routing (43), fragment (44), destination options (60)
        for (int next : new int[] {0, 43, 44, 60}) {
            assertPassed(memcached, prog, Packets.request6WithExtension(flow, hit, next, 8),
                    "a hit behind extension header " + next);
        }
        // another upper layer: TCP (6) with the same bytes
        byte[] tcp = Packets.request6(flow, hit);
        tcp[20] = 6;
        assertPassed(memcached, prog, tcp, "next header 6");
        // not version 6 behind the IPv6 ethertype
        byte[] v4inside = Packets.request6(flow, hit);
        v4inside[14] = 0x40;
        assertPassed(memcached, prog, v4inside, "version 4 behind ethertype 0x86dd");
        // no UDP checksum: invalid over IPv6, the kernel drops it (so does the service path)
        byte[] noChecksum = Packets.request6(flow, hit);
        noChecksum[60] = 0;
        noChecksum[61] = 0;
        assertPassed(memcached, prog, noChecksum, "UDP checksum 0");
    }

    @Test
    void truncatedDatagramsPass() throws Exception {
        Packets.Flow6 flow = Packets.Flow6.matching(get.entry().predicate());
        String prog = get.xdpProg();
        byte[] hit = Packets.request6(flow, getRequest(1, "user:42"));
        // cut in the IPv6 header, in the UDP header, in the payload (the IPv6 payload length says more)
        for (int length : new int[] {14 + 20, 14 + 40 + 4, hit.length - 1}) {
            assertPassed(memcached, prog, Arrays.copyOf(hit, length), "a frame cut at " + length + " bytes");
        }
        // a UDP length beyond the IPv6 payload length (the frame has the bytes: Ethernet padding)
        byte[] longUdp = Arrays.copyOf(hit, hit.length + 6);
        longUdp[59] += 6;
        assertPassed(memcached, prog, longUdp, "UDP length > IPv6 payload length");
        // a UDP length below its own header
        byte[] shortUdp = hit.clone();
        shortUdp[58] = 0;
        shortUdp[59] = 7;
        assertPassed(memcached, prog, shortUdp, "UDP length 7");
        // trailing bytes after the IPv6 payload (Ethernet padding) are ignored, as over IPv4
        byte[] padded = Arrays.copyOf(hit, hit.length + 6);
        assertAnswered6(memcached, prog, flow, padded, hitResponse(1, "user:42", "alice".getBytes(US_ASCII)));
    }

    @Test
    void ipv6AddressPredicatesMatchTheirPrefixOnly() throws Exception {
        byte[] x = {'x'};
        HexFormat hex = HexFormat.of();
        Plan.EntryPlan fromUla = predicatesPlan.entries().get(4);
        Plan.EntryPlan toOne = predicatesPlan.entries().get(5);
        byte[] server = Packets.ula(1);
        Packets.Flow6 inside = new Packets.Flow6(hex.parseHex("fd000001000000000000000000000005"), server, 40000, 2205);
        assertAnswered6(predicates, fromUla.xdpProg(), inside, Packets.request6(inside, x), "ula".getBytes(US_ASCII));
        Packets.Flow6 lastBit = new Packets.Flow6(hex.parseHex("fd000001ffffffffffffffffffffffff"), server, 40000, 2205);
        assertAnswered6(predicates, fromUla.xdpProg(), lastBit, Packets.request6(lastBit, x), "ula".getBytes(US_ASCII));
        for (String outside : List.of("fd000002000000000000000000000005", "fd010001000000000000000000000005",
                "00000000000000000000ffff0a000001")) {
            Packets.Flow6 f = new Packets.Flow6(hex.parseHex(outside), server, 40000, 2205);
            assertPassed(predicates, fromUla.xdpProg(), Packets.request6(f, x), "from " + outside);
        }
        // an IPv4 datagram to the same port never matches an IPv6 prefix
        assertPassed(predicates, fromUla.xdpProg(),
                Packets.request(new Packets.Flow(0x0A000002L, 0x0A000001L, 40000, 2205), x), "IPv4 to 2205");

        byte[] one = hex.parseHex("20010db8000000000000000000000053");
        Packets.Flow6 toHost = new Packets.Flow6(Packets.ula(9), one, 40000, 2206);
        assertAnswered6(predicates, toOne.xdpProg(), toHost, Packets.request6(toHost, x), "one".getBytes(US_ASCII));
        one[15] = 0x54;
        Packets.Flow6 toOther = new Packets.Flow6(Packets.ula(9), one, 40000, 2206);
        assertPassed(predicates, toOne.xdpProg(), Packets.request6(toOther, x), "to 2001:db8::54");
    }

    @Test
    void addressPredicatesDoNotMatchIpv6() throws Exception {
        byte[] x = {'x'};
        List<Plan.EntryPlan> entries = predicatesPlan.entries();
        int[] ports = {2201, 2202, 2203};
        String[] answers = {"from", "any", "to"};
        for (int i = 0; i < 3; i++) {
            Plan.EntryPlan e = entries.get(i);
            Packets.Flow flow4 = Packets.Flow.matching(e.entry().predicate());
            assertEquals(ports[i], flow4.serverPort());
            Bpftool.TestRun v4 = run(predicates, e.xdpProg(), Packets.request(flow4, x));
            assertEquals(XDP_TX, v4.retval(), "a matching IPv4 datagram is answered on " + ports[i]);
            assertArrayEquals(answers[i].getBytes(US_ASCII), Packets.payloadOf(v4.dataOut()));

            Packets.Flow6 flow6 = new Packets.Flow6(Packets.ula(2), Packets.ula(1), 40000, ports[i]);
            assertPassed(predicates, e.xdpProg(), Packets.request6(flow6, x),
                    "an IPv6 datagram to port " + ports[i] + " (address predicate)");
            // an IPv6 address that holds the IPv4 prefix's bytes in its first or last word does not match either
            byte[] mapped = HexFormat.of().parseHex("00000000000000000000ffff0a030001");
            byte[] first = HexFormat.of().parseHex("0a030001000000000000000000000000");
            for (byte[] a : List.of(mapped, first)) {
                Packets.Flow6 f = new Packets.Flow6(a, HexFormat.of().parseHex("0a040005000000000000ffff0a040005"),
                        40000, ports[i]);
                assertPassed(predicates, e.xdpProg(), Packets.request6(f, x), "IPv6 " + f);
            }
        }
    }
}
