package dev.xps.agent.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Kernel;
import dev.xps.consensus.LogEntry;
import dev.xps.consensus.RecoveryReport;
import dev.xps.consensus.client.LoadGenerator;
import dev.xps.consensus.client.VrClient;
import dev.xps.consensus.wire.VrMessage;
import dev.xps.consensus.wire.Wire;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 6, "kill a replica and bring it back", for a replica whose data plane is lost with it (its machine died, or
 * its data plane was not pinned): three members in network namespaces ({@link DataPlaneGroup}). Member 2 is killed
 * (data plane closed and unloaded: its log map is gone), the leader and member 1 go on; member 2 comes back with a
 * new, empty data plane and {@link ConsensusDataPlane#rejoin}: a snapshot by state transfer, its numbers set to the
 * snapshot's op, REJOIN to the leader, then retransmission for the rest. Checked: it catches up (applied, log and
 * the leader's {@code acked} reach the last op), its service's state is the leader's history, every request is
 * answered once, and nobody (the rejoining member included, which takes no part in view changes until its snapshot
 * is installed) started a view change. Then the leader's handling of REJOIN on its own: a REJOIN below what the leader believes the
 * member acknowledged lowers {@code acked} (and retransmission raises it again), one at or above it changes nothing.
 */
@Tag("kernel")
class ConsensusRejoinTest {
    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void aReplicaThatLostItsDataPlaneRejoinsByStateTransferAndCatchesUp() throws Exception {
        Kernel.assumeBpf();
        // with a leader timeout: the members watch the leader, and the rejoining one must not start a view change
        ConsensusDataPlane.Options options = DataPlaneGroup.options().withLeaderTimeout(Duration.ofMillis(300));
        try (DataPlaneGroup g = new DataPlaneGroup(3, options, i -> new RecoverableTimestamps(0))) {
            List<VrClient> clients = g.clients(2, Duration.ofMillis(100), 400);
            Set<Long> issued = new HashSet<>();
            LoadGenerator.Result warm = g.run(clients, 30, Duration.ofSeconds(30));
            g.awaitConverged(Duration.ofSeconds(20));

            g.kill(2);
            LoadGenerator.Result without = g.run(clients, 100, Duration.ofSeconds(60));
            long beforeRestart = g.leader().status().commit();

            RecoverableTimestamps fresh = new RecoverableTimestamps(0);
            RecoveryReport report = g.restartFresh(2, fresh, Duration.ofSeconds(30));
            System.out.println("rejoin test: " + report + " (the leader had committed " + beforeRestart + ")");
            assertTrue(report.appliedOp() >= beforeRestart, "the snapshot holds what was committed: " + report);
            assertEquals(report.appliedOp(), report.fromStateTransfer(), "all of it by state transfer: " + report);
            assertEquals(0, report.transferSource(), "the leader was asked first");

            LoadGenerator.Result after = g.run(clients, 40, Duration.ofSeconds(60));
            long last = g.awaitConverged(Duration.ofSeconds(20)); // member 2 included: applied, contiguous, acked
            DataPlaneGroup.drain(clients, Duration.ofMillis(200));

            List<LogEntry> log = g.leader().getNicLog(1, last);
            assertEquals(LongStream.rangeClosed(1, last).boxed().toList(), log.stream().map(LogEntry::op).toList());
            assertEquals(log, g.planes.get(1).getNicLog(1, last), "member 1's log");
            long s = report.appliedOp();
            assertEquals(log.subList((int) s, (int) last), g.planes.get(2).getNicLog(s + 1, last),
                    "member 2's new log holds " + (s + 1) + " .. " + last + ", as the leader's");
            for (int i = 0; i < 3; i++) {
                assertEquals(log, g.services.get(i).executed, "member " + i + "'s service state is the history");
                assertEquals(0, ((RecoverableTimestamps) g.services.get(i)).outOfOrder, "member " + i);
            }
            DataPlaneGroup.assertAnswers(warm, 30, log, issued);
            DataPlaneGroup.assertAnswers(without, 100, log, issued);
            DataPlaneGroup.assertAnswers(after, 40, log, issued);
            for (int i = 0; i < 3; i++) {
                assertEquals(0, g.planes.get(i).group().view(), "no view change: member " + i);
                assertEquals(0, g.planes.get(i).leaderSilences(), "member " + i + " always heard the leader");
            }

            // the leader's side on its own: REJOIN(last - 10) from member 2 lowers acked[2]; retransmission repairs it
            ConsensusDataPlane leader = g.leader();
            long rejoinsBefore = leader.rejoins();
            long resentBefore = leader.retransmitted();
            InetSocketAddress leaderP1 = new InetSocketAddress(g.net.ip(0), g.group.replicationPort());
            DatagramChannel asMember2 = g.socketOf(2);
            asMember2.send(ByteBuffer.wrap(Wire.encode(new VrMessage.Rejoin(leader.group().view(), 2, last))),
                    leaderP1);
            asMember2.send(ByteBuffer.wrap(Wire.encode(new VrMessage.Rejoin(leader.group().view(), 2, last - 10))),
                    leaderP1);
            assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> leader.rejoins() == rejoinsBefore + 1),
                    "the leader acted on the lower REJOIN only: " + leader.rejoins());
            assertTrue(Kernel.eventually(Duration.ofSeconds(10), () -> leader.status().acked()[2] == last),
                    "retransmission brought acked[2] back to " + last + g.describe());
            assertTrue(leader.retransmitted() - resentBefore >= 10, "the 10 entries above the REJOIN were re-sent: "
                    + (leader.retransmitted() - resentBefore));
        }
    }
}
