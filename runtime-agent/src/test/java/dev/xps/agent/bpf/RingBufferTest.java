package dev.xps.agent.bpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.Udp;
import dev.xps.agent.testsupport.VethNetns;
import dev.xps.runtime.MapLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A program submits events to a ring buffer; Java receives them through libbpf's consumer and an upcall. */
@Tag("kernel")
class RingBufferTest {

    private record Event(long seq, long len, byte[] head) {
        static Event parse(byte[] raw) {
            assertEquals(24, raw.length, "event size");
            return new Event(MapLayout.decodeInt(Arrays.copyOfRange(raw, 0, 4)),
                    MapLayout.decodeInt(Arrays.copyOfRange(raw, 4, 8)), Arrays.copyOfRange(raw, 8, 24));
        }
    }

    private static byte[] packet(String text) {
        byte[] p = new byte[64];
        byte[] t = text.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(t, 0, p, 0, t.length);
        return p;
    }

    @Test
    void eventsSubmittedByTheProgramArriveInOrderWithTheirBytes() {
        Kernel.assumeBpf();
        List<Event> events = new ArrayList<>();
        try (BpfObject obj = BpfObject.open(Kernel.bpfObject("ringbuf"))) {
            obj.load();
            try (BpfProgram prog = obj.program("xdp_events").handle();
                 BpfMap ring = obj.map("events").handle();
                 RingBuffer rb = RingBuffer.open(ring, raw -> events.add(Event.parse(raw)))) {
                assertEquals(0, rb.consume(), "nothing yet");
                for (String s : List.of("first packet....", "second packet...", "third packet....")) {
                    assertEquals(TestRun.XDP_PASS, prog.testRun(packet(s), 1).returnValue());
                }
                int got = 0;
                for (int i = 0; i < 50 && got < 3; i++) {
                    got += rb.poll(Duration.ofMillis(100));
                }
                assertEquals(3, got);
                assertEquals(List.of(0L, 1L, 2L), events.stream().map(Event::seq).toList());
                assertEquals(List.of(64L, 64L, 64L), events.stream().map(Event::len).toList());
                assertArrayEquals("second packet...".getBytes(StandardCharsets.US_ASCII), events.get(1).head());
                assertEquals(0, rb.poll(Duration.ofMillis(10)), "timeout without events");
                // the program's global (.bss) counter is a map too
                try (BpfMap bss = obj.map("ringbuf.bss").handle()) {
                    assertEquals(3, MapLayout.decodeInt(bss.get(MapLayout.encodeInt(0, 4))));
                }
            }
        }
    }

    @Test
    void aHandlerExceptionStopsThePollAndIsRethrown() {
        Kernel.assumeBpf();
        IllegalStateException boom = new IllegalStateException("handler failed");
        List<byte[]> seen = new ArrayList<>();
        try (BpfObject obj = BpfObject.open(Kernel.bpfObject("ringbuf"))) {
            obj.load();
            try (BpfProgram prog = obj.program("xdp_events").handle();
                 BpfMap ring = obj.map("events").handle();
                 RingBuffer rb = RingBuffer.open(ring, raw -> {
                     seen.add(raw);
                     if (seen.size() == 1) {
                         throw boom;
                     }
                 })) {
                prog.testRun(packet("one............."), 1);
                prog.testRun(packet("two............."), 1);
                assertSame(boom, assertThrows(IllegalStateException.class, rb::consume));
                assertEquals(1, seen.size());
                assertEquals(1, rb.consume(), "the rest is still there");
                assertEquals(2, seen.size());
            }
            try (BpfMap notRing = obj.map("ringbuf.bss").handle()) {
                assertThrows(IllegalArgumentException.class, () -> RingBuffer.open(notRing, raw -> { }));
            }
        }
    }

    @Test
    void realPacketsOnAVethProduceEvents() throws Exception {
        Kernel.assumeBpf();
        List<Event> events = new ArrayList<>();
        try (VethNetns net = new VethNetns(); BpfObject obj = BpfObject.open(Kernel.bpfObject("ringbuf"))) {
            obj.load();
            int ifindex = net.nsIfindex();
            try (BpfProgram prog = obj.program("xdp_events").handle();
                 BpfMap ring = obj.map("events").handle();
                 RingBuffer rb = RingBuffer.open(ring, raw -> events.add(Event.parse(raw)));
                 BpfLink link = NetNs.call(net.netns, () -> prog.attachXdp(ifindex, XdpMode.GENERIC))) {
                assertTrue(Udp.sendUntil(net.nsAddress(), Duration.ofSeconds(10), () -> {
                    rb.poll(Duration.ofMillis(10));
                    return events.stream().anyMatch(e -> e.len() >= 14 + 20 + 8);
                }), "an IPv4/UDP-sized event arrived: " + events);
            }
        }
    }
}
