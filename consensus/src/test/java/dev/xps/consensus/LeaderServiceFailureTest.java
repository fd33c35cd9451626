package dev.xps.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.consensus.client.LoadGenerator;
import dev.xps.consensus.client.VrClient;
import dev.xps.consensus.service.TimestampService;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The leader's service dies (its execute() hangs): the leader detects it from the host RTT and stops ordering; a
 * restarted service catches up from its checkpoint, the local log and (when the log no longer reaches back to the
 * checkpoint) another member's state, with nothing lost or executed twice, and the group serves again.
 */
class LeaderServiceFailureTest {
    static final int LOG = 256;

    /** @param after requests between the checkpoint and the failure: within the log, or beyond it */
    @ParameterizedTest(name = "{0} entries after the checkpoint")
    @ValueSource(ints = {100, 600})
    void detectStopRecover(int after) throws Exception {
        VrOptions opt = VrOptions.defaults().withOrder(TimestampService.order())
                .withEntrySize(TimestampService.ENTRY_SIZE).withLogCapacity(LOG)
                .withFailureFloor(Duration.ofMillis(100));
        AtomicReference<long[]> verdict = new AtomicReference<>();
        VrNode.Listener listener = (node, age, rtt, limit) -> verdict.set(new long[] {age, limit, node.index(),
                (long) rtt});
        try (var c = new Cluster<FreezableService<TimestampService>>(3, TimestampService.PORT, opt,
                i -> new FreezableService<>(new TimestampService()), null, listener)) {
            var clients = c.clients(2, Duration.ofSeconds(2), 5, 5);
            Set<Long> seen = new HashSet<>();
            long max = Checks.timestamps(LoadGenerator.run(clients, 50, TimestampService::next), 2, 50, seen, 0);
            VrNode leader = c.leader();
            VrNode.Snapshot checkpoint = leader.checkpoint().get(10, TimeUnit.SECONDS);
            assertEquals(100, checkpoint.op());
            max = Checks.timestamps(LoadGenerator.run(clients, after / 2, TimestampService::next), 2, after / 2, seen,
                    max);
            assertTrue(Double.isFinite(leader.hostRttNanos()), "the leader measured its host's RTT");

            // Kill the leader's service: the next entry delivered to it hangs.
            var dead = c.services.get(leader.index());
            dead.freeze();
            long frozenAt = System.nanoTime();
            VrClient probe = c.client(Duration.ofMillis(300), 1, 1);
            assertNull(probe.call(TimestampService::next), "the dead service does not answer");
            Cluster.awaitTrue(leader::orderingStopped, Duration.ofSeconds(10), () -> "no failure detected");
            long detectedAfter = leader.failureDetectedNanos() - frozenAt;
            long[] v = verdict.get();
            assertTrue(v != null && v[2] == leader.index(), "the listener heard it");
            assertTrue(v[0] > v[1], "declared failed only past the limit");
            // Within the threshold: the limit (5 x RTT, at least the 50 ms floor) plus one timer tick, with slack
            // for a loaded machine; the bound only catches a detector that never fires or waits far too long.
            assertTrue(detectedAfter < v[1] + TimeUnit.SECONDS.toNanos(2),
                    "detected " + detectedAfter / 1e6 + " ms after the failure, limit " + v[1] / 1e6 + " ms");
            assertEquals(1, leader.stats().hostFailures.get());

            // Ordering has stopped: requests are dropped and counted, the log does not grow.
            long lastOp = leader.contiguous();
            long stoppedBefore = leader.stats().stopped.get();
            VrClient once = c.client(Duration.ofMillis(100), 1, 1);
            for (int i = 0; i < 5; i++) {
                assertNull(once.call(TimestampService::next));
            }
            assertEquals(lastOp, leader.contiguous(), "nothing ordered while stopped");
            assertEquals(stoppedBefore + 5, leader.stats().stopped.get());

            // Restart from the checkpoint.
            TimestampService fresh = new TimestampService();
            fresh.restore(checkpoint.state());
            c.services.set(leader.index(), new FreezableService<>(fresh));
            RecoveryReport report = leader.restartService(c.services.get(leader.index()), checkpoint.op())
                    .get(30, TimeUnit.SECONDS);
            dead.release();
            System.out.printf("LeaderServiceFailureTest: detected %.1f ms after the failure"
                    + " (limit %.1f ms, rtt %.1f us);"
                    + " %s%n", detectedAfter / 1e6, v[1] / 1e6, v[3] / 1e3, report);
            long commit = leader.commit();
            assertEquals(lastOp, commit, "every logged entry had committed");
            assertEquals(checkpoint.op(), report.checkpointOp());
            assertEquals(commit, report.appliedOp());
            assertEquals(commit - checkpoint.op(), report.fromStateTransfer() + report.fromLocalLog(),
                    "every entry after the checkpoint came from exactly one source: " + report);
            if (after + 1 <= LOG) {
                assertEquals(0, report.fromStateTransfer(), "the log reaches back to the checkpoint: " + report);
            } else {
                assertTrue(report.fromStateTransfer() > 0 && report.transferSource() != leader.index(),
                        "the log does not reach back to the checkpoint: " + report);
            }
            assertEquals(0, fresh.outOfOrder(), "nothing skipped or executed twice");
            assertEquals(commit, fresh.last());
            assertEquals(commit, fresh.executed());
            assertTrue(!leader.orderingStopped(), "ordering resumed");

            // It serves again; timestamps keep increasing.
            Checks.timestamps(LoadGenerator.run(clients, 50, TimestampService::next), 2, 50, seen, max);
            c.awaitQuiet();
            long last = leader.contiguous();
            c.assertLogsAgree(Math.max(1, last - LOG + 1), last);
            for (var s : c.services) {
                assertEquals(0, s.inner.outOfOrder());
                assertEquals(last, s.inner.last());
                assertEquals(last, s.inner.executed(), "executed exactly once");
            }
        }
    }
}
