package dev.xps.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.consensus.client.LoadGenerator;
import dev.xps.consensus.service.TimestampService;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * The leader's node dies; the replicas notice its silence, the survivors run the host-side view change and go on in
 * the next view; the old leader rejoins later.
 */
class ViewChangeTest {
    @Test
    void theLongestLogAmongAMajorityLeadsTheNextView() throws Exception {
        VrOptions opt = VrOptions.defaults().withFailureFloor(Checks.NO_FALSE_ALARMS)
                .withOrder(TimestampService.order())
                .withEntrySize(TimestampService.ENTRY_SIZE).withLeaderTimeout(Duration.ofSeconds(1));
        Set<Integer> suspecting = ConcurrentHashMap.newKeySet();
        VrNode.Listener listener = new VrNode.Listener() {
            @Override
            public void hostFailed(VrNode node, long ageNanos, double rttNanos, long limitNanos) {}

            @Override
            public void leaderSilent(VrNode node, long silentNanos) {
                suspecting.add(node.index());
            }
        };
        try (var c = new Cluster<>(5, TimestampService.PORT, opt, i -> new TimestampService(), null, listener)) {
            var clients = c.clients(2, Duration.ofMillis(200), 2, 100);
            Set<Long> seen = new HashSet<>();
            long max = Checks.timestamps(LoadGenerator.run(clients, 100, TimestampService::next), 2, 100, seen, 0);
            c.awaitQuiet();
            long before = c.leader().contiguous();
            // The leader keeps its replicas hearing from it (COMMIT every interval) while idle.
            Thread.sleep(1500);
            assertTrue(suspecting.isEmpty(), "an idle live leader is not suspected: " + suspecting);
            c.stop(0);
            c.stop(1);
            Cluster.awaitTrue(() -> suspecting.containsAll(List.of(2, 3, 4)), Duration.ofSeconds(10),
                    () -> "replicas suspecting the leader: " + suspecting);
            assertThrows(IllegalStateException.class, () -> ViewChange.run(List.of(c.nodes.get(2), c.nodes.get(3))),
                    "two of five are not a majority");
            ViewChange.Result r = ViewChange.run(List.of(c.nodes.get(2), c.nodes.get(3), c.nodes.get(4)));
            // All three hold every entry: the tie goes to the lowest index.
            assertEquals(2, r.leader());
            assertEquals(2, r.view(), "the first view after 0 that member 2 leads");
            assertEquals(before, r.leaderContiguous());
            assertTrue(c.nodes.get(2).isLeader());

            // Clients find the new leader by moving on after timeouts; timestamps keep increasing.
            LoadGenerator.Result after = LoadGenerator.run(clients, 100, TimestampService::next);
            Checks.timestamps(after, 2, 100, seen, max);
            c.awaitQuiet();
            long last = c.leader().contiguous();
            assertTrue(last >= before + 200);
            c.assertLogsAgree(1, last);
            Checks.services(c, last);

            // The old leader comes back into the new view with an empty log: it takes the state and catches up.
            TimestampService fresh = new TimestampService();
            RecoveryReport rep = c.restart(0, fresh, c.group.withView(r.view()));
            assertTrue(rep.fromStateTransfer() >= before + 200, "state transfer: " + rep);
            Checks.timestamps(LoadGenerator.run(clients, 50, TimestampService::next), 2, 50, seen, last);
            c.awaitQuiet();
            long end = c.leader().contiguous();
            c.assertLogsAgree(rep.appliedOp() + 1, end);
            Checks.services(c, end);
        }
    }
}
