package dev.xps.agent.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.PinnedMapMismatchException;
import dev.xps.agent.bpf.BpfLink;
import dev.xps.agent.bpf.BpfMap;
import dev.xps.agent.bpf.BpfProgram;
import dev.xps.agent.bpf.XdpMode;
import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.Sh;
import dev.xps.consensus.LogEntry;
import dev.xps.consensus.RecoveryReport;
import dev.xps.consensus.client.LoadGenerator;
import dev.xps.consensus.client.VrClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 6 and "the agent never leaves programs attached or loses map data on restart", for the consensus data plane
 * (docs/consensus.md, "Pinned data planes"): three members ({@link DataPlaneGroup}, one network namespace each, XDP
 * native + tcx), each data plane pinned under {@code /sys/fs/bpf/xpsagent-test-<id>/m<i>}, two closed-loop clients.
 * A member's host library is closed "leaving it running" (what a process exit does) under load, and a new
 * {@link ConsensusDataPlane} re-adopts the pins with a fresh service:
 * <ul>
 *   <li>a replica: while it has no host, its pinned XDP program keeps acknowledging (member 2 is cut off meanwhile,
 *       so every commit needs member 1's acknowledgements); re-adopted, the same kernel objects (program and link
 *       ids) run on, and its fresh service catches up from the pinned log;
 *   <li>the leader: with no host its data plane orders until the failure detector stops it (no replies leave); the
 *       re-adopting process recovers from the pinned log (count &gt; 0), answers what the old host had not, clears
 *       the stop and serves the rest of the load;
 * </ul>
 * In both the load completes, every request is answered exactly once, timestamps are unique and increase per
 * client, every member's service executed exactly the log 1 .. last. Then every data plane is unloaded (one by the
 * static {@link ConsensusDataPlane#unload(Path, Path, String)}, as {@code xps consensus-node --unload} does) and
 * bpftool shows none of their programs, maps or links, and no pin is left. A pin directory whose maps do not match
 * the manifest (another log capacity; another entry size) is refused with a message naming the map, and nothing
 * changes.
 */
@Tag("kernel")
class ConsensusPinnedDataPlaneTest {
    static final int CLIENTS = 2;
    static final Duration CLIENT_TIMEOUT = Duration.ofMillis(100);
    /** The leader's service: 2 ms an entry, so the load is still running when a host goes (as in the view change test). */
    static final long LEADER_SERVICE_NS = 2_000_000;
    static final long RECOVERY_LEADER_NS = 4_000_000;

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS) // bounded inside too; this is the backstop
    void aReplicaWhoseHostRestartsKeepsAckingAndCatchesUpFromItsPinnedLog() throws Exception {
        Kernel.assumeBpf();
        Path root = Kernel.pinRoot();
        try (DataPlaneGroup g = new DataPlaneGroup(3, DataPlaneGroup.options(),
                i -> new RecoverableTimestamps(i == 0 ? LEADER_SERVICE_NS : 0), root)) {
            List<VrClient> clients = g.clients(CLIENTS, CLIENT_TIMEOUT, 400);
            Set<Long> issued = new HashSet<>();
            int warmRequests = 20;
            LoadGenerator.Result warm = g.run(clients, warmRequests, Duration.ofSeconds(30));
            int requests = 300;
            CompletableFuture<LoadGenerator.Result> load = background(g, clients, requests);
            ConsensusDataPlane leader = g.planes.get(0);
            assertTrue(Kernel.eventually(Duration.ofSeconds(60), () -> leader.applied() >= CLIENTS * warmRequests + 30),
                    "the leader applied " + leader.applied() + g.describe());

            // 1. member 1's host goes; its data plane stays (pinned); member 2 is cut off: commits need member 1's XDP
            ConsensusDataPlane before = g.planes.get(1);
            List<Integer> programIds = List.of(before.ingressProgram().id(), before.xdpProgram().id(),
                    before.egressProgram().id());
            List<Integer> linkIds = before.links().stream().map(BpfLink::id).toList();
            g.leaveRunning(1);
            g.net.setMemberLink(2, false);
            long ackedThen = leader.status().acked()[1];
            long commitThen = leader.status().commit();
            boolean acking = Kernel.eventually(Duration.ofSeconds(20), () -> {
                ConsensusDataPlane.Status s = leader.status();
                return s.acked()[1] >= ackedThen + 40 && s.commit() >= commitThen + 40;
            });
            g.net.setMemberLink(2, true);
            assertTrue(acking, "member 1's pinned XDP program acknowledged and the group committed without its host"
                    + " (acked[1] was " + ackedThen + ", commit " + commitThen + ")" + g.describe());
            assertFalse(load.isDone(), "the load is still running while member 1 has no host");

            // 2. a new host library re-adopts the pins: the same programs and links, the log kept; a fresh service
            RecoverableTimestamps fresh = new RecoverableTimestamps(0);
            RecoveryReport report = g.readopt(1, fresh, Duration.ofSeconds(30));
            ConsensusDataPlane adopted = g.planes.get(1);
            System.out.println("pinned test (replica): " + report + g.describe());
            assertTrue(adopted.adopted());
            assertEquals(programIds, List.of(adopted.ingressProgram().id(), adopted.xdpProgram().id(),
                    adopted.egressProgram().id()), "the same programs: the data plane was not reloaded");
            assertEquals(linkIds, adopted.links().stream().map(BpfLink::id).toList(), "the same links, still attached");
            assertEquals(1, adopted.myIndex());
            assertEquals(g.group.view(), adopted.group().view());
            assertTrue(report.fromLocalLog() > 0, "caught up from the pinned log: " + report);
            assertEquals(report.appliedOp(), report.fromLocalLog(), "everything from op 1 came from the pinned log");
            assertEquals(0, report.fromStateTransfer(), "the pinned log held everything");

            // 3. the load completes; everything agrees
            LoadGenerator.Result r = load.get(150, TimeUnit.SECONDS);
            long last = g.awaitConverged(Duration.ofSeconds(30));
            DataPlaneGroup.drain(clients, Duration.ofMillis(200));
            List<LogEntry> log = g.assertLogsAgree(last); // member 1's fresh service: exactly 1 .. last, once
            assertEquals(LongStream.rangeClosed(1, last).boxed().toList(), log.stream().map(LogEntry::op).toList());
            assertEquals(0, fresh.outOfOrder);
            DataPlaneGroup.assertAnswers(warm, warmRequests, log, issued);
            DataPlaneGroup.assertAnswers(r, requests, log, issued);
            assertEachOpAnsweredOnce(clients, last, warm, r);

            // 4. unload: member 0 and the adopted member 1 by unload(), member 2 left running and removed by path
            List<Integer> progs = new ArrayList<>();
            List<Integer> maps = new ArrayList<>();
            List<Integer> links = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ids(g.pinDir(i), progs, maps, links);
            }
            assertEquals(9, progs.size(), "3 programs per member");
            assertEquals(9, links.size(), "3 links per member");
            g.planes.get(0).unload();
            g.planes.get(1).unload();
            g.leaveRunning(2);
            assertTrue(ConsensusDataPlane.unload(g.pinDir(2), g.manifest(), null));
            g.dead.addAll(List.of(0, 1, 2)); // nothing left for close()
            assertNothingLeft(root, progs, maps, links);
            System.out.println("pinned test (replica): last op " + last + ", " + r.answered() + " answered, "
                    + r.retries() + " resends; unloaded " + progs.size() + " programs, " + maps.size() + " maps, "
                    + links.size() + " links");
        } finally {
            Kernel.deleteTree(root);
        }
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void aLeaderWhoseHostRestartsIsStoppedByItsDataPlaneAndRecoversFromThePinnedLog() throws Exception {
        Kernel.assumeBpf();
        Path root = Kernel.pinRoot();
        // the recovery test's settings: a 1 ms floor, the leader's service 4 ms an entry (the RTT average decides)
        ConsensusDataPlane.Options options = ConsensusServiceRecoveryTest.options(4096);
        try (DataPlaneGroup g = new DataPlaneGroup(3, options,
                i -> new RecoverableTimestamps(i == 0 ? RECOVERY_LEADER_NS : 0), root)) {
            ConsensusDataPlane leader = g.planes.get(0);
            leader.onHostFailure(f -> leader.clearStopped()); // false alarms while the host is there: not this test's
            List<VrClient> clients = g.clients(CLIENTS, CLIENT_TIMEOUT, 400);
            Set<Long> issued = new HashSet<>();
            int warmRequests = 20;
            LoadGenerator.Result warm = g.run(clients, warmRequests, Duration.ofSeconds(30));
            int requests = 150;
            CompletableFuture<LoadGenerator.Result> load = background(g, clients, requests);
            assertTrue(Kernel.eventually(Duration.ofSeconds(60), () -> leader.applied() >= CLIENTS * warmRequests + 20),
                    "the leader applied " + leader.applied() + g.describe());

            // 1. the leader's host goes; its data plane orders on until the failure detector stops it
            long answeredBefore = leader.status().answered();
            g.leaveRunning(0);
            long lastOp;
            try (ConsensusDataPlane observer = ConsensusDataPlane.adopt(g.manifest(), null, g.options(0))) {
                assertTrue(Kernel.eventually(Duration.ofSeconds(20), observer::stopped),
                        "the data plane detected the missing host: " + observer.status());
                lastOp = observer.status().lastOp();
                long dropped = observer.counters().get("stopped");
                assertTrue(Kernel.eventually(Duration.ofSeconds(10), () -> observer.counters().get("stopped")
                        >= dropped + CLIENTS), "the clients' resends reached the stopped leader");
                assertEquals(lastOp, observer.status().lastOp(), "nothing numbered while stopped");
                assertTrue(observer.status().commit() > answeredBefore, "entries committed that no host answered: "
                        + observer.status());
                assertFalse(load.isDone(), "the load waits for the leader");
            } // closing the observer leaves it running
            assertTrue(Files.isDirectory(g.pinDir(0).resolve("links")), "still pinned");

            // 2. a new host library re-adopts the leader's pins and recovers from the pinned log
            RecoverableTimestamps fresh = new RecoverableTimestamps(RECOVERY_LEADER_NS);
            RecoveryReport report = g.readopt(0, fresh, Duration.ofSeconds(30));
            ConsensusDataPlane adopted = g.planes.get(0);
            System.out.println("pinned test (leader): " + report + ", last op when stopped " + lastOp + g.describe());
            assertTrue(adopted.isLeader());
            assertTrue(report.fromLocalLog() > 0, "entries from the pinned log");
            assertEquals(lastOp, report.appliedOp(), "every numbered entry executed");
            assertEquals(0, report.fromStateTransfer());
            assertFalse(adopted.stopped(), "ordering resumed");

            // 3. the load completes through the re-adopted leader; every request answered once
            LoadGenerator.Result r = load.get(150, TimeUnit.SECONDS);
            long last = g.awaitConverged(Duration.ofSeconds(30));
            DataPlaneGroup.drain(clients, Duration.ofMillis(200));
            assertTrue(last > lastOp, "the re-adopted leader ordered again: last op " + last + ", " + lastOp
                    + " when stopped");
            List<LogEntry> log = g.assertLogsAgree(last);
            assertEquals(LongStream.rangeClosed(1, last).boxed().toList(), log.stream().map(LogEntry::op).toList());
            DataPlaneGroup.assertAnswers(warm, warmRequests, log, issued);
            DataPlaneGroup.assertAnswers(r, requests, log, issued);
            assertEquals(last, adopted.lastReplied(), "the leader answered up to the last op");
            assertEachOpAnsweredOnce(clients, last, warm, r); // the new host did not answer again what the old one had
            System.out.println("pinned test (leader): last op " + last + ", " + r.answered() + " answered, "
                    + r.retries() + " resends, " + r.duplicates() + " duplicate replies");
        } finally {
            Kernel.deleteTree(root);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void pinsThatDoNotMatchTheManifestAreRefusedAndNothingChanges() throws Exception {
        Kernel.assumeBpf();
        Path root = Kernel.pinRoot();
        Path dir = root.resolve("m0");
        Path manifest = DataPlaneGroup.manifest(3);
        ConsensusDataPlane.Options options = ConsensusDataPlane.Options.defaults().withXdpMode(XdpMode.NATIVE)
                .withPinDir(dir);
        List<Integer> progs = new ArrayList<>();
        List<Integer> maps = new ArrayList<>();
        List<Integer> links = new ArrayList<>();
        try (VrNet net = new VrNet(1)) {
            ConsensusDataPlane dp = ConsensusDataPlane.load(manifest, null, options.withLogSlots(64));
            dp.updateReplica(net.group(0, ConsensusEndToEndTest.PORT), 0);
            dp.attach(net.memberNs.get(0), net.memberIf(0));
            ConsensusDataPlane.Status status = dp.status();
            dp.close(); // leaves it running
            ids(dir, progs, maps, links);
            List<String> pinsBefore = listing(dir);
            byte[] configBefore = config(dir, dp.block());

            // another log capacity than pinned
            PinnedMapMismatchException capacity = assertThrows(PinnedMapMismatchException.class,
                    () -> ConsensusDataPlane.adopt(manifest, null, options.withLogSlots(128)));
            System.out.println("refused: " + capacity.getMessage());
            assertEquals(dp.block().logMap(), capacity.map());
            assertTrue(capacity.getMessage().contains("64 entries") && capacity.getMessage().contains("128 entries")
                    && capacity.getMessage().contains(dir.toString()), capacity.getMessage());

            // another build: the same block with 32-byte entries (another log slot size)
            Path other = Artifacts.variant("timestamp-server", "entry 16;", "entry 32;")
                    .resolve("timestamp-server.manifest.json");
            PinnedMapMismatchException entry = assertThrows(PinnedMapMismatchException.class,
                    () -> ConsensusDataPlane.adopt(other, null, options));
            System.out.println("refused: " + entry.getMessage());
            assertEquals(dp.block().logMap(), entry.map());
            assertTrue(entry.getMessage().contains("value"), entry.getMessage());

            // a fresh load over the pins
            IllegalStateException again = assertThrows(IllegalStateException.class,
                    () -> ConsensusDataPlane.load(manifest, null, options.withLogSlots(64)));
            assertTrue(again.getMessage().contains("already pinned at " + dir), again.getMessage());

            // nothing changed: the same pins, objects and configuration, still attached
            assertEquals(pinsBefore, listing(dir));
            List<Integer> p2 = new ArrayList<>();
            List<Integer> m2 = new ArrayList<>();
            List<Integer> l2 = new ArrayList<>();
            ids(dir, p2, m2, l2);
            assertEquals(List.of(progs, maps, links), List.of(p2, m2, l2));
            assertTrue(java.util.Arrays.equals(configBefore, config(dir, dp.block())), "the configuration unchanged");
            for (int id : links) {
                try (BpfLink l = BpfLink.fromId(id)) {
                    assertFalse(l.info().isDetached(), "link " + id + " still attached");
                }
            }

            // the matching adoption works (log capacity taken from the pins) and sees the same numbers
            try (ConsensusDataPlane ok = ConsensusDataPlane.adopt(manifest, null, options)) {
                assertEquals(64, ok.capacity());
                assertEquals(status.lastOp(), ok.status().lastOp());
                assertEquals(0, ok.myIndex());
                assertTrue(ok.ifindex() > 0, "adopted attached");
            }

            // xps consensus-node --pin DIR --unload removes it
            DataPlaneNodeMainTest.Run run = DataPlaneNodeMainTest.xps("consensus-node", manifest.toString(), "--pin",
                    dir.toString(), "--unload");
            assertEquals(0, run.code(), run.err());
            assertTrue(run.out().contains("unloaded the data plane pinned at " + dir), run.out());
            assertNothingLeft(root, progs, maps, links);
        } finally {
            if (Files.exists(dir)) {
                try {
                    ConsensusDataPlane.unload(dir, manifest, null);
                } catch (RuntimeException e) {
                    System.err.println("WARNING: " + e);
                }
            }
            Kernel.deleteTree(root);
        }
    }

    // ------------------------------------------------------------------ helpers

    private static CompletableFuture<LoadGenerator.Result> background(DataPlaneGroup g, List<VrClient> clients,
                                                                      int requests) {
        CompletableFuture<LoadGenerator.Result> load = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("pinned-load").start(() -> {
            try {
                load.complete(g.run(clients, requests, Duration.ofSeconds(140)));
            } catch (Throwable t) {
                load.completeExceptionally(t);
            }
        });
        return load;
    }

    /**
     * Every reply datagram the clients received (first answers, late copies, unmatched) is one op's: exactly
     * {@code last} of them, so no op was answered twice (a restarted host answering again what its predecessor had
     * answered shows here) and none was left unanswered.
     */
    private static void assertEachOpAnsweredOnce(List<VrClient> clients, long last, LoadGenerator.Result... runs) {
        long received = 0;
        for (LoadGenerator.Result run : runs) {
            received += run.answered();
        }
        for (VrClient c : clients) {
            received += c.duplicates() + c.unmatched();
        }
        assertEquals(last, received, "reply datagrams received for " + last + " ops");
    }

    /** The ids of everything pinned under {@code dir} (programs, maps, links). */
    private static void ids(Path dir, List<Integer> progs, List<Integer> maps, List<Integer> links) throws IOException {
        for (Path p : list(dir.resolve("progs"))) {
            try (BpfProgram h = BpfProgram.fromPin(p)) {
                progs.add(h.id());
            }
        }
        for (Path p : list(dir.resolve("maps"))) {
            try (BpfMap h = BpfMap.fromPin(p)) {
                maps.add(h.id());
            }
        }
        for (Path p : list(dir.resolve("links"))) {
            try (BpfLink h = BpfLink.fromPin(p)) {
                links.add(h.id());
            }
        }
    }

    private static List<Path> list(Path d) throws IOException {
        if (!Files.isDirectory(d)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(d)) {
            return s.sorted().toList();
        }
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    private static byte[] config(Path dir, ConsensusManifest.Block block) {
        try (BpfMap m = BpfMap.fromPin(dir.resolve("maps").resolve(dev.xps.agent.Pins.pinName(block.configMap())))) {
            return m.lookup(ConsensusDataPlane.key(0)).orElseThrow();
        }
    }

    /**
     * No pin directory is left under {@code root}, and bpftool knows none of the programs, maps and links (the
     * kernel frees them asynchronously: bounded wait).
     */
    private static void assertNothingLeft(Path root, List<Integer> progs, List<Integer> maps, List<Integer> links)
            throws IOException {
        assertEquals(List.of(), list(root), "no pin directory left under " + root);
        List<String> left = new ArrayList<>();
        boolean gone = Kernel.eventually(Duration.ofSeconds(10), () -> {
            left.clear();
            for (int id : progs) {
                if (bpftoolKnows("prog", id)) {
                    left.add("prog " + id);
                }
            }
            for (int id : maps) {
                if (bpftoolKnows("map", id)) {
                    left.add("map " + id);
                }
            }
            for (int id : links) {
                if (bpftoolKnows("link", id)) {
                    left.add("link " + id);
                }
            }
            return left.isEmpty();
        });
        assertTrue(gone, "bpftool still shows " + left);
        assertFalse(progs.isEmpty() || maps.isEmpty() || links.isEmpty(), "ids were collected");
    }

    /** {@code bpftool KIND show id ID} succeeds. */
    private static boolean bpftoolKnows(String kind, int id) {
        try {
            return Sh.run(Duration.ofSeconds(10), "bpftool", kind, "show", "id", Integer.toString(id)).exitCode() == 0;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
