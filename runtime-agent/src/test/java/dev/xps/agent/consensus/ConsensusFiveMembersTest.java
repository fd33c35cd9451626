package dev.xps.agent.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Kernel;
import dev.xps.consensus.LogEntry;
import dev.xps.consensus.client.LoadGenerator;
import dev.xps.consensus.client.VrClient;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Test;

/**
 * Five members end to end: samples/timestamp-server.xps compiled with {@code replicas 5;}, each member in its own
 * {@code xdp-vr} namespace with the data plane on its veth, and several clients at once. Every request gets
 * exactly one reply (no client resends, no second reply), the timestamps are the ops 1 .. N with no gap and no
 * repeat, increasing per client, and all five members hold and executed the same log entry by entry.
 */
@Tag("kernel")
class ConsensusFiveMembersTest {
    static final int MEMBERS = 5;
    static final int CLIENTS = 4;
    static final int REQUESTS = 100;

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS) // bounded inside too; this is the backstop
    void fiveMembersOrderEveryRequestOnceAndAgreeOnTheLog() throws Exception {
        Kernel.assumeBpf();
        try (DataPlaneGroup g = new DataPlaneGroup(MEMBERS, DataPlaneGroup.options())) {
            // a clean network: a generous timeout, so any resend or second reply is a failure of the group
            List<VrClient> clients = g.clients(CLIENTS, Duration.ofSeconds(2), 3);
            LoadGenerator.Result r = g.run(clients, REQUESTS, Duration.ofSeconds(15));
            long n = (long) CLIENTS * REQUESTS;
            long last = g.awaitConverged(Duration.ofSeconds(10));
            DataPlaneGroup.drain(clients, Duration.ofMillis(300));
            System.out.printf("five members, %d clients x %d requests: %d resends, %d duplicate replies%s%n",
                    CLIENTS, REQUESTS, r.retries(), clients.stream().mapToLong(VrClient::duplicates).sum(),
                    g.describe());

            assertEquals(0, r.retries(), "every request was sent once");
            assertEquals(n, r.sent());
            assertEquals(0, clients.stream().mapToLong(VrClient::duplicates).sum(), "no second reply");
            assertEquals(n, last, "one entry per request");
            List<LogEntry> log = g.assertLogsAgree(last);
            Set<Long> issued = new HashSet<>();
            DataPlaneGroup.assertAnswers(r, REQUESTS, log, issued);
            assertEquals(LongStream.rangeClosed(1, n).boxed().collect(Collectors.toSet()), issued,
                    "the timestamps are exactly the ops 1 .. " + n);

            Map<String, Long> c = g.leader().counters();
            assertEquals(n, c.get("ordered"));
            assertEquals((MEMBERS - 1) * n, c.get("prepares_sent"), "a PREPARE to each of the 4 others");
            assertEquals(n, c.get("replies"), "the egress program saw one reply per entry");
            for (int i = 1; i < MEMBERS; i++) {
                long oks = g.planes.get(i).counters().get("prepareoks_sent");
                assertTrue(oks >= n, "member " + i + " acknowledged every PREPARE: " + oks);
            }
            assertFalse(g.leader().stopped());
        }
    }
}
