package dev.xps.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.consensus.client.LoadGenerator;
import dev.xps.consensus.service.TimestampService;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A replica stops, the group goes on without it, it comes back with an empty log and catches up. */
class ReplicaRestartTest {
    @Test
    void aRestartedReplicaCatchesUp() throws Exception {
        VrOptions opt = VrOptions.defaults().withFailureFloor(Checks.NO_FALSE_ALARMS)
                .withOrder(TimestampService.order())
                .withEntrySize(TimestampService.ENTRY_SIZE).withLogCapacity(1024);
        try (var c = new Cluster<>(3, TimestampService.PORT, opt, i -> new TimestampService(), null, null)) {
            var clients = c.clients(2, Duration.ofSeconds(2), 5, 5);
            Set<Long> seen = new HashSet<>();
            long max = Checks.timestamps(LoadGenerator.run(clients, 100, TimestampService::next), 2, 100, seen, 0);
            c.stop(2);
            max = Checks.timestamps(LoadGenerator.run(clients, 150, TimestampService::next), 2, 150, seen, max);
            long whileAway = c.leader().contiguous();
            assertEquals(500, whileAway);

            // Back with an empty log and an empty service (no checkpoint), while the load goes on.
            TimestampService fresh = new TimestampService();
            RecoveryReport report = c.restart(2, fresh, c.group);
            assertTrue(report.fromStateTransfer() >= 400, "took the state of another member: " + report);
            assertEquals(0, fresh.outOfOrder());
            System.out.println("ReplicaRestartTest: " + report);
            Checks.timestamps(LoadGenerator.run(clients, 150, TimestampService::next), 2, 150, seen, max);
            c.awaitQuiet();
            long last = c.leader().contiguous();
            assertEquals(800, last);
            // The restarted member holds every entry after the state it took, identical to the others'.
            c.assertLogsAgree(report.appliedOp() + 1, last);
            Checks.services(c, last);
        }
    }
}
