package dev.xps.consensus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.xps.consensus.client.LoadGenerator;
import dev.xps.consensus.client.VrClient;
import dev.xps.consensus.service.TimestampService;
import java.time.Duration;
import java.util.HashSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The normal case on a clean network, 3 and 5 members, one network namespace each. */
class NormalCaseTest {
    static final int CLIENTS = 4;
    static final int REQUESTS = 250;

    @ParameterizedTest(name = "{0} replicas")
    @ValueSource(ints = {3, 5})
    void everyRequestIsAnsweredOnceAndTheLogsAgree(int n) throws Exception {
        VrOptions opt = VrOptions.defaults().withFailureFloor(Checks.NO_FALSE_ALARMS)
                .withOrder(TimestampService.order())
                .withEntrySize(TimestampService.ENTRY_SIZE);
        try (var c = new Cluster<>(n, TimestampService.PORT, opt, i -> new TimestampService(),
                s -> TimestampService.probes(), null)) {
            // A generous timeout: on a clean network nothing is ever resent, so every request is sent once.
            var clients = c.clients(CLIENTS, Duration.ofSeconds(2), 5, 5);
            LoadGenerator.Result r = LoadGenerator.run(clients, REQUESTS, TimestampService::next);
            long max = Checks.timestamps(r, CLIENTS, REQUESTS, new HashSet<>(), 0);
            assertEquals(0, r.retries(), "resends on a clean network");
            c.awaitQuiet();
            VrNode leader = c.leader();
            long last = leader.contiguous();
            assertEquals((long) CLIENTS * REQUESTS, last, "one entry per request");
            assertEquals(last, max, "the last timestamp is the last op");
            c.assertLogsAgree(1, last);
            Checks.services(c, last);
            assertEquals(last, leader.stats().replies.get(), "one reply per ordered request");
            for (VrClient cl : clients) {
                cl.drain(Duration.ofMillis(50));
                assertEquals(0, cl.duplicates(), "second replies");
                assertEquals(0, cl.unmatched(), "stray replies");
            }

            // PROBE is answered by the leader without consensus; an oversize NEXT is dropped and counted.
            VrClient probe = c.client(Duration.ofMillis(500), 5, 5);
            VrClient.Answer a = probe.call(TimestampService::probe);
            assertNotNull(a);
            assertArrayEquals(new byte[] {(byte) 0x82, 0, 0, 0, (byte) a.requestId()}, a.reply());
            VrClient once = c.client(Duration.ofMillis(200), 1, 1);
            byte[] oversize = new byte[TimestampService.ENTRY_SIZE + 1];
            oversize[0] = TimestampService.NEXT;
            assertNull(once.call(id -> oversize), "an oversize request");
            assertEquals(1, leader.stats().oversize.get());
            assertEquals(last, leader.contiguous(), "neither was ordered");
        }
    }
}
