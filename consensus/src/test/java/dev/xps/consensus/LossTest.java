package dev.xps.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.consensus.client.LoadGenerator;
import dev.xps.consensus.service.TimestampService;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * netem loss (5%) and reordering on every link (each datagram crosses one netem: its sender's): the same properties
 * as on a clean network, repaired by retransmission and client resends; then the impairment is removed and the
 * group serves again without resends piling up.
 */
class LossTest {
    static final int CLIENTS = 4;
    static final int REQUESTS = 150;

    @ParameterizedTest(name = "{0} replicas")
    @ValueSource(ints = {3, 5})
    void lossAndReorderingAreRepaired(int n) throws Exception {
        VrOptions opt = VrOptions.defaults().withFailureFloor(Checks.NO_FALSE_ALARMS)
                .withOrder(TimestampService.order())
                .withEntrySize(TimestampService.ENTRY_SIZE);
        try (var c = new Cluster<>(n, TimestampService.PORT, opt, i -> new TimestampService(), null, null)) {
            // Resends reuse the request id; a resent request may be ordered twice (it is a new entry), but the
            // client takes the first reply only, so each request is answered exactly once.
            var clients = c.clients(CLIENTS, Duration.ofMillis(100), 1000, 200);
            Set<Long> seen = new HashSet<>();
            String kind = c.lab.impair();
            LoadGenerator.Result lossy = LoadGenerator.run(clients, REQUESTS, TimestampService::next);
            long max = Checks.timestamps(lossy, CLIENTS, REQUESTS, seen, 0);
            VrStats leaderStats = c.leader().stats();
            long retransmitsLossy = leaderStats.retransmits.get();
            assertTrue(retransmitsLossy > 0, "the leader repaired lost PREPAREs by retransmission");
            assertTrue(lossy.retries() > 0, "clients resent lost requests or replies");
            if (kind.equals("htb+bpf")) {
                long[] counts = c.lab.impairmentCounts(c.leader().index());
                assertTrue(counts[0] > 0 && counts[1] > 0, "the leader's link dropped " + counts[0]
                        + " and delayed " + counts[1] + " datagrams");
            }

            c.lab.clearImpairment();
            c.awaitQuiet(); // retransmission brings every member to the same log
            long lastLossy = c.leader().contiguous();
            c.assertLogsAgree(1, lastLossy);
            Checks.services(c, lastLossy);

            LoadGenerator.Result clean = LoadGenerator.run(clients, REQUESTS, TimestampService::next);
            Checks.timestamps(clean, CLIENTS, REQUESTS, seen, max);
            assertTrue(clean.retries() < lossy.retries(), "resends after the impairment is removed ("
                    + clean.retries() + ") fewer than under it (" + lossy.retries() + ")");
            c.awaitQuiet();
            long last = c.leader().contiguous();
            System.out.printf("LossTest n=%d %s: impaired: %d answered, %d client resends, %d PREPARE retransmits;"
                    + " clean: %d answered, %d client resends; leader %s%n", n, kind, lossy.answered(),
                    lossy.retries(), retransmitsLossy, clean.answered(), clean.retries(), c.leader().stats());
            assertEquals(last, lastLossy + clean.sent(), "one entry per datagram sent once the network is clean");
            c.assertLogsAgree(1, last);
            Checks.services(c, last);
        }
    }
}
