package dev.xps.agent.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Kernel;
import dev.xps.consensus.Group;
import dev.xps.consensus.LogEntry;
import dev.xps.consensus.client.LoadGenerator;
import dev.xps.consensus.client.VrClient;
import dev.xps.consensus.service.TimestampService;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 6, view change on the data plane (docs/consensus.md, "View change on the data plane"): three members
 * ({@link DataPlaneGroup}: one network namespace each, XDP native + tcx), two closed-loop clients that know every
 * member (the baseline's client: after 3 timeouts in a row it tries the next member). Under load the leader, member
 * 0, is killed (its data plane closed, its sockets closed, its link down). The survivors notice the leader's silence
 * (no PREPARE or COMMIT for the leader timeout), pause their data planes, report their logs to the leader of view 1
 * (member 1) with DO_VIEW_CHANGE; member 1 takes the longest log of the two, installs view 1, sends START_VIEW, and
 * its data plane orders from there. Checked:
 * <ul>
 *   <li>both survivors are in view 1 with member 1 leading, and the load completes;
 *   <li>every request is answered exactly once (first reply per id), timestamps are unique, strictly increasing per
 *       client across the change, and each is the op of the survivors' log that holds that very request;
 *   <li>the survivors' logs agree entry by entry 1 .. last and both services executed exactly that log, in order;
 *   <li>the new leader's retransmission to the dead member backs off (its ARP entry fails: nothing it is sent
 *       arrives): over an idle second it re-sends far fewer PREPAREs than one round (64) per interval.
 * </ul>
 */
@Tag("kernel")
class ConsensusViewChangeTest {
    static final Duration LEADER_TIMEOUT = Duration.ofMillis(300);
    static final int CLIENTS = 2;
    static final int WARM = 30;
    static final int REQUESTS = 400;
    /** 2 ms an entry: the 800 requests take the old leader at least 1.6 s, the kill comes within ~100 entries. */
    static final long LEADER_SERVICE_NS = 2_000_000;

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS) // bounded inside too; this is the backstop
    void theSurvivorsElectMemberOneAndTheClientsContinue() throws Exception {
        scenario(false);
    }

    /**
     * The same, but member 1 is cut off the network just before the leader dies (for a few milliseconds, far less
     * than the leader timeout): leader 0 and member 2 commit without it, so member 2's log is longer. Member 1 still
     * leads view 1 (the next by view number) and first copies the entries it lacks from member 2's log (LOG_REQUEST /
     * LOG_COPY): the new leader takes the most up-to-date log among the majority.
     */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void theNewLeaderTakesTheLongerLogOfTheOtherSurvivor() throws Exception {
        scenario(true);
    }

    /**
     * VR's order of logs in a view change — the latest normal view first, then the length — and why it matters. The
     * leader, member 0, is partitioned from members 1 and 2 (the switch drops unicast frames between them; clients
     * still reach everyone) and numbers {@value #STALE} requests that no replica ever logs. Members 1 and 2 install
     * view 1 without it and commit fewer entries than member 0 holds, under the same op numbers. The partition heals
     * and member 1 dies: member 2 alone cannot start view 2, so view 3 — member 0's — is formed by members 0 and 2,
     * with member 0's log the longer one. Member 0 must take member 2's (view 1's) log, keeping only its own committed
     * prefix; before DO_VIEW_CHANGE carried the latest normal view, it kept its own log and the two survivors' logs
     * diverged at the first op past view 0's commit.
     */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void aFormerLeaderWithALongerLogFromAnOlderViewTakesTheNewerLog() throws Exception {
        Kernel.assumeBpf();
        ConsensusDataPlane.Options options = DataPlaneGroup.options().withLeaderTimeout(LEADER_TIMEOUT);
        try (DataPlaneGroup g = new DataPlaneGroup(3, options)) {
            List<VrClient> clients = g.clientsOfAll(CLIENTS, Duration.ofMillis(100), 3, 1500);
            Set<Long> issued = new HashSet<>();

            // 1. view 0, member 0 leads; everything committed everywhere
            LoadGenerator.Result warm = g.run(clients, WARM, Duration.ofSeconds(30));
            long committed = g.awaitConverged(Duration.ofSeconds(20));

            // 2. member 0 is cut off from the replicas and numbers requests nobody else logs
            g.net.setPartitioned(0, 1, true);
            g.net.setPartitioned(0, 2, true);
            List<VrClient> toMemberZero = g.clients(1, Duration.ofMillis(2), 1);
            LoadGenerator.Result lost = g.run(toMemberZero, STALE, Duration.ofSeconds(30));
            assertEquals(STALE, lost.unanswered(), "nothing commits without a replica");
            assertTrue(Kernel.eventually(Duration.ofSeconds(5),
                    () -> g.planes.get(0).status().lastOp() >= committed + STALE), g.describe());
            assertEquals(committed, g.planes.get(2).status().contiguous(), "no replica logged them");

            // 3. members 1 and 2 hear nothing from the leader: view 1, led by member 1; the clients find it
            assertTrue(Kernel.eventually(Duration.ofSeconds(20), () -> inView(g, 1, 1) && inView(g, 2, 1)),
                    "members 1 and 2 installed view 1" + g.describe());
            LoadGenerator.Result inViewOne = g.run(clients, IN_VIEW_ONE, Duration.ofSeconds(60));
            long viewOneLast = g.planes.get(1).status().lastOp();
            assertTrue(Kernel.eventually(Duration.ofSeconds(10),
                    () -> g.planes.get(2).status().contiguous() == viewOneLast), g.describe());
            long oldLeaderLast = g.planes.get(0).status().lastOp();
            assertTrue(viewOneLast < oldLeaderLast, "view 1's log (" + viewOneLast + ") is shorter than member 0's ("
                    + oldLeaderLast + ")");
            assertTrue(g.net.partitionDrops() > 0, "the switch dropped frames between the partitioned members");

            // 4. healed; member 1 dies: view 2 (member 2's) gets no majority, view 3 is member 0's
            g.net.setPartitioned(0, 1, false);
            g.net.setPartitioned(0, 2, false);
            g.kill(1);
            assertTrue(Kernel.eventually(Duration.ofSeconds(30), () -> inView(g, 0, 3) && inView(g, 2, 3)),
                    "members 0 and 2 installed view 3" + g.describe());
            assertTrue(g.planes.get(0).isLeader(), "member 0 leads view 3");
            assertTrue(g.planes.get(0).entriesFetched() >= viewOneLast - committed,
                    "member 0 copied view 1's entries from member 2: " + g.planes.get(0).entriesFetched());

            // 5. the clients continue with member 0; both survivors hold and executed the same log
            LoadGenerator.Result inViewThree = g.run(clients, IN_VIEW_THREE, Duration.ofSeconds(60));
            long last = g.awaitConverged(Duration.ofSeconds(20));
            DataPlaneGroup.drain(clients, Duration.ofMillis(200));
            List<LogEntry> log = g.assertLogsAgree(last);
            assertEquals(LongStream.rangeClosed(1, last).boxed().toList(), log.stream().map(LogEntry::op).toList());
            DataPlaneGroup.assertAnswers(warm, WARM, log, issued);
            DataPlaneGroup.assertAnswers(inViewOne, IN_VIEW_ONE, log, issued);
            DataPlaneGroup.assertAnswers(inViewThree, IN_VIEW_THREE, log, issued);
            System.out.printf("view change test (stale leader): view 0 committed %d, member 0 numbered up to %d alone;"
                            + " view 1 ended at %d; member 0 fetched %d entries for view 3; last op %d; %d partition"
                            + " drops%n", committed, oldLeaderLast, viewOneLast, g.planes.get(0).entriesFetched(), last,
                    g.net.partitionDrops());
        }
    }

    /**
     * A leader whose agent is alive but whose programs are gone: an operator detaches its XDP link ({@code bpftool
     * link detach}). Its TC ingress would go on sending PREPAREs whose PREPAREOKs now reach nobody, and its agent
     * would go on sending the COMMIT heartbeat, so the replicas would wait forever. The agent notices at its next
     * interval, pauses its remaining programs and falls silent; members 1 and 2 elect member 1 and the clients
     * continue there.
     */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void aLeaderWhoseProgramsWereDetachedFallsSilentAndTheReplicasElectAnother() throws Exception {
        Kernel.assumeBpf();
        ConsensusDataPlane.Options options = DataPlaneGroup.options().withLeaderTimeout(LEADER_TIMEOUT);
        try (DataPlaneGroup g = new DataPlaneGroup(3, options)) {
            List<VrClient> clients = g.clientsOfAll(CLIENTS, Duration.ofMillis(100), 3, 1500);
            Set<Long> issued = new HashSet<>();
            LoadGenerator.Result warm = g.run(clients, WARM, Duration.ofSeconds(30));
            long committed = g.awaitConverged(Duration.ofSeconds(20));

            ConsensusDataPlane oldLeader = g.planes.get(0);
            assertEquals(null, oldLeader.dataPlaneLost());
            int xdpLink = oldLeader.links().getFirst().id();
            dev.xps.agent.testsupport.Sh.check("bpftool", "link", "detach", "id", Integer.toString(xdpLink));
            assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> oldLeader.dataPlaneLost() != null),
                    "the agent noticed its detached XDP link" + g.describe());
            assertTrue(oldLeader.dataPlaneLost().contains("link " + xdpLink + " (xdp)"), oldLeader.dataPlaneLost());
            assertTrue(Kernel.eventually(Duration.ofSeconds(20), () -> inView(g, 1, 1) && inView(g, 2, 1)),
                    "members 1 and 2 installed view 1" + g.describe());
            assertEquals(0, oldLeader.group().view(), "the fenced member took no part in the view change");

            LoadGenerator.Result after = g.run(clients, IN_VIEW_ONE, Duration.ofSeconds(60));
            g.kill(0); // its operator restarts it; left out of the checks
            long last = g.awaitConverged(Duration.ofSeconds(20));
            DataPlaneGroup.drain(clients, Duration.ofMillis(200));
            assertTrue(last >= committed + (long) CLIENTS * IN_VIEW_ONE, "view 1 ordered the new requests: " + last);
            List<LogEntry> log = g.assertLogsAgree(last);
            DataPlaneGroup.assertAnswers(warm, WARM, log, issued);
            DataPlaneGroup.assertAnswers(after, IN_VIEW_ONE, log, issued);
        }
    }

    static final int STALE = 200;
    static final int IN_VIEW_ONE = 40;
    static final int IN_VIEW_THREE = 20;

    private static boolean inView(DataPlaneGroup g, int member, int view) {
        ConsensusDataPlane p = g.planes.get(member);
        return p.group().view() == view && p.pendingView() == -1;
    }

    private void scenario(boolean cutMemberOne) throws Exception {
        Kernel.assumeBpf();
        Duration timeout = cutMemberOne ? Duration.ofSeconds(1) : LEADER_TIMEOUT; // the cut stays well below it
        ConsensusDataPlane.Options options = DataPlaneGroup.options().withLeaderTimeout(timeout);
        // the old leader's service takes LEADER_SERVICE_NS per entry, so the load is still running when it dies
        // (with instant services two closed-loop clients finish all their requests in a few hundred milliseconds)
        try (DataPlaneGroup g = new DataPlaneGroup(3, options,
                i -> new RecoverableTimestamps(i == 0 ? LEADER_SERVICE_NS : 0))) {
            List<Group> installed = new CopyOnWriteArrayList<>();
            for (int i = 1; i < 3; i++) {
                g.planes.get(i).onViewChange(installed::add);
            }
            List<VrClient> clients = g.clientsOfAll(CLIENTS, Duration.ofMillis(100), 3, 1500);
            Set<Long> issued = new HashSet<>();

            // 1. view 0, member 0 leads
            LoadGenerator.Result warm = g.run(clients, WARM, Duration.ofSeconds(30));
            assertEquals(0, g.leader().group().leader());
            long beforeKill = g.planes.get(0).applied();

            // 2. load; the leader dies in the middle of it
            CompletableFuture<LoadGenerator.Result> load = new CompletableFuture<>();
            Thread.ofPlatform().daemon().name("view-change-load").start(() -> {
                try {
                    load.complete(g.run(clients, REQUESTS, Duration.ofSeconds(120)));
                } catch (Throwable t) {
                    load.completeExceptionally(t);
                }
            });
            assertTrue(Kernel.eventually(Duration.ofSeconds(60), () -> g.planes.get(0).applied() >= beforeKill + 60),
                    "the leader applied " + g.planes.get(0).applied() + g.describe());
            if (cutMemberOne) {
                g.net.setMemberLink(1, false); // the leader and member 2 go on committing without it
                Thread.sleep(20); // frames already on their way to member 1 arrive
                long held = g.planes.get(1).status().contiguous();
                assertTrue(Kernel.eventually(Duration.ofSeconds(10),
                        () -> g.planes.get(2).status().contiguous() > held + 20), "member 2 went ahead" + g.describe());
            }
            long killedAt = g.planes.get(0).status().lastOp();
            g.kill(0);
            long shorter = g.planes.get(1).status().contiguous();
            if (cutMemberOne) {
                g.net.setMemberLink(1, true);
                assertTrue(g.planes.get(2).status().contiguous() > shorter, "member 2's log is longer than member 1's");
            }

            // 3. the survivors change view by themselves
            assertTrue(Kernel.eventually(Duration.ofSeconds(20), () -> {
                for (int i = 1; i < 3; i++) {
                    ConsensusDataPlane p = g.planes.get(i);
                    if (p.group().view() != 1 || p.pendingView() != -1) {
                        return false;
                    }
                }
                return true;
            }), "members 1 and 2 installed view 1" + g.describe());
            assertEquals(1, g.leader().group().leader(), "member 1 leads view 1");
            assertTrue(g.planes.get(1).isLeader());
            assertFalse(g.planes.get(2).isLeader());
            assertTrue(g.planes.get(1).leaderSilences() + g.planes.get(2).leaderSilences() >= 1,
                    "a survivor noticed the dead leader's silence");
            if (cutMemberOne) {
                assertTrue(g.planes.get(1).entriesFetched() > 0, "member 1 copied the entries it lacked from member 2");
            }

            // 4. the clients continue with the new leader
            LoadGenerator.Result r = load.get(130, TimeUnit.SECONDS);
            long last = g.awaitConverged(Duration.ofSeconds(20));
            DataPlaneGroup.drain(clients, Duration.ofMillis(200));
            assertTrue(last > killedAt, "the new leader ordered requests: last op " + last + ", " + killedAt
                    + " when the leader died");

            // 5. the survivors agree entry by entry; their services executed exactly that log, once, in order
            List<LogEntry> log = g.assertLogsAgree(last);
            assertEquals(LongStream.rangeClosed(1, last).boxed().toList(), log.stream().map(LogEntry::op).toList());

            // 6. every request answered exactly once; unique timestamps increasing per client across the change
            DataPlaneGroup.assertAnswers(warm, WARM, log, issued);
            DataPlaneGroup.assertAnswers(r, REQUESTS, log, issued);
            // (counted by the new leader's replies, not by the clients' server index: a client moves to the next
            // member only after 3 timeouts, and the leader orders only requests addressed to it)
            long newLeaderReplies = g.planes.get(1).counters().get("replies"); // counted only while it leads
            assertTrue(newLeaderReplies > 0, "the new leader answered ordered requests");
            long byNewLeader = r.answers().stream().flatMap(List::stream)
                    .filter(a -> TimestampService.timestamp(a.reply()) > killedAt).count();
            assertEquals(2, installed.size(), "each survivor installed one view: " + installed);
            for (Group v : installed) {
                assertEquals(1, v.view());
            }

            // 7. the dead member's ARP entry fails: its retransmission backs off instead of 64 PREPAREs per interval
            ConsensusDataPlane leader = g.planes.get(1);
            long before = leader.retransmitted();
            Thread.sleep(1000);
            long resent = leader.retransmitted() - before;
            long oneRoundPerInterval = ConsensusDataPlane.RETRANSMIT_PER_MEMBER
                    * (1000 / options.retransmitInterval().toMillis());
            System.out.printf("view change test (%s): last op %d (leader died at %d); %d answered, %d resends, %d"
                            + " timestamps above %d, %d replies from the new leader; %d entries fetched by member 1;"
                            + " %d PREPAREs re-sent to the dead member in 1 s (%d rounds deferred; %d without backoff)%s%n",
                    cutMemberOne ? "member 1 cut" : "plain", last, killedAt, r.answered(), r.retries(), byNewLeader,
                    killedAt, newLeaderReplies, leader.entriesFetched(), resent, leader.retransmitsDeferred(),
                    oneRoundPerInterval, g.describe());
            assertTrue(resent <= oneRoundPerInterval / 4, "retransmission to the dead member backs off: " + resent
                    + " PREPAREs in 1 s");
            assertTrue(leader.retransmitsDeferred() > 0, "rounds deferred");
        }
    }
}
