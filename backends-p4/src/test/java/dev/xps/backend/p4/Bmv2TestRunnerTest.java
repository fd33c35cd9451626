package dev.xps.backend.p4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parts of the BMv2 runner that do not need BMv2: frames, pcap files, matching outputs to sends. */
class Bmv2TestRunnerTest {
    @Test
    void framesHaveAValidIpv4Checksum() {
        byte[] f = Bmv2TestRunner.frame(7, 0x0A000002L, 0x0A000001L, 40000, 9200, new byte[] {1, 2, 3});
        assertEquals(45, f.length);
        long sum = 0;
        for (int i = 14; i < 34; i += 2) {
            sum += ((f[i] & 0xFF) << 8) | (f[i + 1] & 0xFF);
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        assertEquals(0xFFFF, sum, "the one's complement sum over a valid header is all ones");
        assertArrayEquals(new byte[] {1, 2, 3}, Bmv2TestRunner.udpPayload(f));
        assertEquals(Map.of(7, f), Map.copyOf(Bmv2TestRunner.byId(List.of(f))));
    }

    @Test
    void pcapFilesRoundTrip(@TempDir Path dir) throws Exception {
        byte[] a = Bmv2TestRunner.frame(1, 1, 2, 3, 4, new byte[0]);
        byte[] b = Bmv2TestRunner.frame(2, 1, 2, 3, 4, "hello".getBytes());
        Path file = dir.resolve("x.pcap");
        Bmv2TestRunner.writePcap(file, List.of(a, b));
        List<byte[]> back = Bmv2TestRunner.readPcap(file);
        assertEquals(2, back.size());
        assertArrayEquals(a, back.get(0));
        assertArrayEquals(b, back.get(1));
        assertTrue(Bmv2TestRunner.readPcap(dir.resolve("missing.pcap")).isEmpty());
        assertEquals(24 + 16 * 2 + a.length + b.length, Files.size(file));
    }

    @Test
    void theRunnerSaysWhyItCannotRun() {
        Bmv2TestRunner runner = new Bmv2TestRunner();
        if (Bmv2TestRunner.onPath("p4c-bm2-ss").isEmpty()) {
            assertTrue(runner.unavailableReason().orElseThrow().contains("p4c-bm2-ss"));
        }
    }
}
