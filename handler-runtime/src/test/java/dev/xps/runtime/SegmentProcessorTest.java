package dev.xps.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The segment rules, with a toy protocol: one letter per message. 't' answers "T", 'd' drops,
 * 'p' passes, 'r' resets, 'x' is malformed (else drop), '?' is incomplete, "nnn" is a
 * 3-byte message answered "N".
 */
class SegmentProcessorTest {
    private static final byte[] T = Bytes.ascii("T");
    private static final byte[] N = Bytes.ascii("N");

    private final SegmentProcessor processor = new SegmentProcessor();
    private final EntryPoint toy = new EntryPoint("toy", Predicate.tcp(7), SegmentProcessorTest::toy);

    private static Verdict toy(Message msg, Response out) {
        try {
            byte c = msg.peekBytes(0, 1)[0];
            switch (c) {
                case 't' -> {
                    msg.skip(1);
                    msg.endDecode();
                    out.append(T);
                    return Verdict.TX;
                }
                case 'n' -> {
                    msg.expect(Bytes.ascii("nnn"));
                    msg.endDecode();
                    out.append(N);
                    return Verdict.TX;
                }
                case 'd', 'p', 'r' -> {
                    msg.skip(1);
                    msg.endDecode();
                    out.append(Bytes.ascii("discarded"));
                    return c == 'd' ? Verdict.DROP : c == 'p' ? Verdict.PASS : Verdict.RESET;
                }
                case '?' -> throw Incomplete.INSTANCE;
                default -> throw Malformed.INSTANCE;
            }
        } catch (Malformed e) {
            return msg.malformed(Verdict.DROP);
        }
    }

    private SegmentResult run(String segment) {
        return processor.process(toy, segment.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    @Test
    void oneMessage() {
        SegmentResult r = run("t");
        assertEquals(Verdict.TX, r.verdict());
        assertEquals("T", text(r.response()));
        assertEquals(SegmentResult.Ending.COMPLETE, r.ending());
    }

    @Test
    void emptySegmentPasses() {
        SegmentResult r = run("");
        assertEquals(Verdict.PASS, r.verdict());
        assertEquals(SegmentResult.Ending.EMPTY, r.ending());
        assertTrue(r.messages().isEmpty());
    }

    @Test
    void txResponsesConcatenateInOrderAndDropsAddNothing() {
        SegmentResult r = run("tdnnnt");
        assertEquals(Verdict.TX, r.verdict());
        assertEquals("TNT", text(r.response()));
        assertEquals(List.of(0, 1, 2, 5), r.messages().stream().map(SegmentResult.MessageResult::offset).toList());
        assertEquals(List.of(1, 1, 3, 1), r.messages().stream().map(SegmentResult.MessageResult::length).toList());
        assertArrayEquals(new byte[0], r.messages().get(1).response());
    }

    @Test
    void allDropsDrop() {
        SegmentResult r = run("dd");
        assertEquals(Verdict.DROP, r.verdict());
        assertEquals(0, r.response().length);
    }

    @Test
    void anyPassPassesTheWholeSegmentWithoutResponse() {
        SegmentResult r = run("tpt");
        assertEquals(Verdict.PASS, r.verdict());
        assertEquals(0, r.response().length);
        assertEquals(3, r.messages().size());
    }

    @Test
    void anyResetWinsOverPass() {
        assertEquals(Verdict.RESET, run("prt").verdict());
        assertEquals(Verdict.RESET, run("trd").verdict());
        assertEquals(0, run("trd").response().length);
    }

    @Test
    void incompleteLastMessagePassesTheSegment() {
        SegmentResult r = run("tnn");
        assertEquals(Verdict.PASS, r.verdict());
        assertEquals(SegmentResult.Ending.INCOMPLETE, r.ending());
        assertEquals(1, r.messages().size());
        assertEquals(0, r.response().length);
    }

    @Test
    void resetEndsTheWalkBeforeAnIncompleteMessage() {
        SegmentResult r = run("r?");
        assertEquals(Verdict.RESET, r.verdict());
        assertEquals(SegmentResult.Ending.RESET, r.ending());
    }

    @Test
    void messagesAfterAResetDoNotRun() {
        SegmentResult r = run("trt");
        assertEquals(Verdict.RESET, r.verdict());
        assertEquals(2, r.messages().size());
        assertEquals(0, r.response().length);
    }

    @Test
    void aUdpDatagramIsOneMessage() {
        EntryPoint udp = new EntryPoint("udp-toy", Predicate.udp(9), toy.handler());
        SegmentResult r = processor.process(udp, Bytes.ascii("tdp"));
        assertEquals(Verdict.TX, r.verdict());
        assertEquals("T", text(r.response()));
        assertEquals(1, r.messages().size());
    }

    @Test
    void malformedMessageTakesTheRestOfTheSegment() {
        SegmentResult r = run("txtt");
        assertEquals(Verdict.TX, r.verdict());
        assertEquals("T", text(r.response()));
        assertEquals(2, r.messages().size());
        SegmentResult.MessageResult bad = r.messages().get(1);
        assertTrue(bad.malformed());
        assertEquals(3, bad.length());
        assertEquals(Verdict.DROP, bad.verdict());
    }

    @Test
    void thirtyTwoMessagesAreFine() {
        SegmentResult r = run("t".repeat(32));
        assertEquals(Verdict.TX, r.verdict());
        assertEquals("T".repeat(32), text(r.response()));
    }

    @Test
    void aThirtyThirdMessagePassesTheSegment() {
        SegmentResult r = run("t".repeat(33));
        assertEquals(Verdict.PASS, r.verdict());
        assertEquals(SegmentResult.Ending.TOO_MANY_MESSAGES, r.ending());
        assertEquals(32, r.messages().size());
        assertEquals(0, r.response().length);
    }

    @Test
    void processesASliceOfABuffer() {
        byte[] buffer = "xxtnnnyy".getBytes(StandardCharsets.ISO_8859_1);
        SegmentResult r = processor.process(toy, buffer, 2, 4);
        assertEquals("TN", text(r.response()));
        assertEquals(0, r.messages().get(0).offset());
        assertEquals(1, r.messages().get(1).offset());
    }

    @Test
    void countersCountMessagesByVerdict() {
        run("tdpx");
        run("r");
        run("t?");
        run("");
        EntryCounters.Snapshot c = processor.counters("toy").snapshot();
        assertEquals(new EntryCounters.Snapshot(2, 2, 1, 1, 1, 1), c);
        assertEquals(6, c.messages());
    }

    @Test
    void mapWritesStayWhenTheSegmentPasses() {
        MapStore store = new MapStore();
        XpsMap seen = store.open(new MapSpec("seen", MapKind.HASH, ValueType.u8(), ValueType.u8(), 10, false));
        EntryPoint writer = new EntryPoint("writer", Predicate.tcp(9), (msg, out) -> {
            long c = msg.u8();
            msg.endDecode();
            seen.put(MapLayout.encodeInt(c, 1), new byte[] {1});
            return c == 'p' ? Verdict.PASS : Verdict.DROP;
        });
        assertEquals(Verdict.PASS, processor.process(writer, Bytes.ascii("ap")).verdict());
        assertEquals(2, seen.size());
    }
}
