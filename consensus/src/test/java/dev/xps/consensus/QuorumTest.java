package dev.xps.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.consensus.client.LoadGenerator;
import dev.xps.consensus.client.VrClient;
import dev.xps.consensus.service.TimestampService;
import java.time.Duration;
import java.util.HashSet;
import org.junit.jupiter.api.Test;

/**
 * Without a quorum nothing commits and nothing is delivered; the backlog passes its threshold and triggers
 * retransmission at once; when a member comes back, the backlog commits and is answered in order.
 */
class QuorumTest {
    @Test
    void nothingIsDeliveredWithoutAQuorum() throws Exception {
        VrOptions opt = VrOptions.defaults().withFailureFloor(Checks.NO_FALSE_ALARMS)
                .withOrder(TimestampService.order())
                .withEntrySize(TimestampService.ENTRY_SIZE).withBacklogThreshold(16);
        try (var c = new Cluster<>(3, TimestampService.PORT, opt, i -> new TimestampService(), null, null)) {
            var clients = c.clients(1, Duration.ofSeconds(2), 5, 5);
            long max = Checks.timestamps(LoadGenerator.run(clients, 20, TimestampService::next), 1, 20,
                    new HashSet<>(), 0);
            c.awaitQuiet();
            VrNode leader = c.leader();
            c.stop(1);
            c.stop(2);
            VrClient once = c.client(Duration.ofMillis(20), 1, 1);
            for (int i = 0; i < 40; i++) {
                assertNull(once.call(TimestampService::next), "no quorum, no answer");
            }
            assertEquals(60, leader.contiguous(), "the leader still numbers and logs requests");
            assertEquals(20, leader.commit(), "but nothing commits");
            assertEquals(20, c.services.get(0).last(), "and nothing is delivered");
            assertTrue(leader.stats().backlogRounds.get() >= 1, "the backlog passed its threshold");

            // One member back (empty log): it takes the state, the leader retransmits the backlog, it commits.
            RecoveryReport rep = c.restart(1, new TimestampService(), c.group);
            assertEquals(20, rep.appliedOp(), "the leader's applied state: " + rep);
            // (the reply is counted after the service returns: wait for it too, not only for the delivery)
            Cluster.awaitTrue(() -> leader.commit() == 60 && c.services.get(0).last() == 60
                            && leader.stats().replies.get() >= 60, Duration.ofSeconds(20),
                    () -> "commit " + leader.commit() + ", replies " + leader.stats().replies.get());
            assertEquals(60, leader.stats().replies.get(), "the backlog is answered once it commits, once");
            assertEquals(0, c.services.get(0).outOfOrder());
            assertEquals(20, max);
        }
    }
}
