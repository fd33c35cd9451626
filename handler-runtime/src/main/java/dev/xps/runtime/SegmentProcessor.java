package dev.xps.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs an entry point over one received segment (one TCP read, one UDP datagram) with the rules
 * every target implements:
 *
 * <ol>
 *   <li>A TCP segment is a sequence of messages: each run of the entry point consumes
 *       {@link Message#length()} bytes and the next message starts right after. A UDP datagram is
 *       exactly one message; bytes after it are ignored.
 *   <li>The walk stops at the first RESET (the segment's verdict is RESET: the connection ends, so
 *       later messages would be lost anyway), at an incomplete message, or with bytes left after
 *       {@value #MAX_MESSAGES_PER_SEGMENT} messages (both pass the whole segment to the service).
 *       It does not stop at PASS: a later write handler in the same segment must still update
 *       its map before the service sees the write. An empty segment passes.
 *   <li>Otherwise the verdicts combine: any PASS → PASS (the segment goes to the service
 *       unchanged); else any TX → TX with the responses concatenated in order (dropped messages
 *       add nothing); else DROP.
 * </ol>
 *
 * <p>Map writes happen as the messages run and stay even when the segment ends up passed. The
 * processor keeps {@link EntryCounters} per entry point name; it is thread-safe.
 */
public final class SegmentProcessor {
    /** The kernel target needs a bounded loop; every target uses the same bound. */
    public static final int MAX_MESSAGES_PER_SEGMENT = 32;

    private final Map<String, EntryCounters> counters = new ConcurrentHashMap<>();

    public SegmentResult process(EntryPoint entry, byte[] segment) {
        return process(entry, segment, 0, segment.length);
    }

    /** Processes {@code segment[offset, offset + length)}. */
    public SegmentResult process(EntryPoint entry, byte[] segment, int offset, int length) {
        int end = offset + length;
        if (offset < 0 || length < 0 || end > segment.length) {
            throw new IndexOutOfBoundsException("segment [" + offset + ", " + end + ") of " + segment.length + " bytes");
        }
        EntryCounters count = counters(entry.name());
        List<SegmentResult.MessageResult> messages = new ArrayList<>();
        if (length == 0) {
            return passed(messages, SegmentResult.Ending.EMPTY);
        }
        Response out = new Response();
        int at = offset;
        while (at < end) {
            if (messages.size() == MAX_MESSAGES_PER_SEGMENT) {
                return passed(messages, SegmentResult.Ending.TOO_MANY_MESSAGES);
            }
            Message msg = new Message(segment, at, end);
            int mark = out.length();
            Verdict verdict;
            try {
                verdict = entry.handler().handle(msg, out);
            } catch (Incomplete e) {
                count.incomplete();
                return passed(messages, SegmentResult.Ending.INCOMPLETE);
            }
            if (verdict != Verdict.TX) {
                out.truncate(mark);
            }
            count.message(verdict, msg.isMalformed());
            messages.add(new SegmentResult.MessageResult(at - offset, msg.length(), verdict, msg.isMalformed(),
                    out.slice(mark, out.length())));
            if (verdict == Verdict.RESET) {
                return new SegmentResult(Verdict.RESET, new byte[0], List.copyOf(messages),
                        SegmentResult.Ending.RESET);
            }
            if (entry.predicate().protocol() == Protocol.UDP) {
                break;
            }
            at += msg.length();
        }
        Verdict combined = combine(messages);
        byte[] response = combined == Verdict.TX ? out.toByteArray() : new byte[0];
        return new SegmentResult(combined, response, List.copyOf(messages), SegmentResult.Ending.COMPLETE);
    }

    /** PASS over TX over DROP (RESET never gets here: it ends the walk). */
    static Verdict combine(List<SegmentResult.MessageResult> messages) {
        Verdict combined = Verdict.DROP;
        for (SegmentResult.MessageResult m : messages) {
            if (rank(m.verdict()) > rank(combined)) {
                combined = m.verdict();
            }
        }
        return combined;
    }

    private static int rank(Verdict v) {
        return switch (v) {
            case DROP -> 0;
            case TX -> 1;
            case PASS -> 2;
            case RESET -> 3;
        };
    }

    private static SegmentResult passed(List<SegmentResult.MessageResult> messages, SegmentResult.Ending ending) {
        return new SegmentResult(Verdict.PASS, new byte[0], List.copyOf(messages), ending);
    }

    /** The counters of the entry point named {@code entryName} (created empty on first use). */
    public EntryCounters counters(String entryName) {
        return counters.computeIfAbsent(entryName, n -> new EntryCounters());
    }
}
