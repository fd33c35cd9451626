package dev.xps.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.consensus.client.LoadGenerator;
import dev.xps.consensus.client.VrClient;
import dev.xps.consensus.service.TimestampService;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

final class Checks {
    /**
     * The failure floor for tests that are not about host failure detection: a scheduling stall of the service
     * thread inside execute() on a loaded CI machine must not stop ordering there (LeaderServiceFailureTest tests
     * detection itself; bench/ measures the false-positive rate of the default floor).
     */
    static final java.time.Duration NO_FALSE_ALARMS = java.time.Duration.ofSeconds(5);

    private Checks() {}

    /**
     * Every request was answered once, with a NEXT reply for its own id; timestamps are unique across all clients
     * and strictly increasing per client (each client's requests are sequential), and all above {@code floor}.
     *
     * @return the largest timestamp
     */
    static long timestamps(LoadGenerator.Result r, int clients, int requests, Set<Long> seen, long floor) {
        assertEquals(0, r.unanswered(), "unanswered requests");
        assertEquals((long) clients * requests, r.answered());
        long max = floor;
        for (List<VrClient.Answer> mine : r.answers()) {
            long prev = floor;
            Set<Integer> ids = new HashSet<>();
            for (VrClient.Answer a : mine) {
                assertTrue(ids.add(a.requestId()), "request " + a.requestId() + " answered twice");
                assertEquals(0x81, a.reply()[0] & 0xff, "a NEXT reply");
                long ts = TimestampService.timestamp(a.reply());
                assertTrue(ts > prev, "timestamp " + ts + " after " + prev + " is not increasing");
                assertTrue(seen.add(ts), "timestamp " + ts + " issued twice");
                prev = ts;
            }
            max = Math.max(max, prev);
        }
        return max;
    }

    /** Every member's timestamp service executed exactly the entries 1 .. {@code last}, in order. */
    static void services(Cluster<TimestampService> c, long last) {
        for (int i = 0; i < c.services.size(); i++) {
            if (c.nodes.get(i) == null) {
                continue;
            }
            TimestampService s = c.services.get(i);
            assertEquals(0, s.outOfOrder(), "member " + i + ": entries out of order, repeated or skipped");
            assertEquals(last, s.last(), "member " + i + ": last entry applied");
            assertEquals(last, s.executed(), "member " + i + ": entries executed (each exactly once)");
        }
    }
}
