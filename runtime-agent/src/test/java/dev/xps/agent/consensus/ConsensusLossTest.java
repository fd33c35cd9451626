package dev.xps.agent.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Kernel;
import dev.xps.consensus.Impairment;
import dev.xps.consensus.LogEntry;
import dev.xps.consensus.client.LoadGenerator;
import dev.xps.consensus.client.VrClient;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The data plane under 5% loss and reordering on every link, with the host-only baseline's impairment
 * ({@link Impairment}; LossTest in module consensus) on the bridge's ports, so every frame crosses one: the
 * client's requests, the leader's PREPAREs (tcx clones), the members' PREPAREOKs (XDP_TX), the agent's
 * retransmissions and COMMITs, and the replies. The same properties as on a clean network hold: clients resend
 * (same request id; a resend that reaches the leader is a new entry) and keep the first reply per id, so every
 * request is answered exactly once with a timestamp that is unique and increasing per client, and all members'
 * logs agree. The agent's retransmission timer repaired what the network dropped; once the impairment is removed
 * every datagram a client sends becomes exactly one entry again, without resends.
 */
@Tag("kernel")
class ConsensusLossTest {
    static final int CLIENTS = 4;
    static final int REQUESTS = 150;

    @ParameterizedTest(name = "{0} members")
    @Timeout(value = 90, unit = TimeUnit.SECONDS) // bounded inside too; this is the backstop
    @ValueSource(ints = {3, 5})
    void lossAndReorderingAreRepaired(int n) throws Exception {
        Kernel.assumeBpf();
        try (DataPlaneGroup g = new DataPlaneGroup(n, DataPlaneGroup.options())) {
            Impairment impairment = g.net.impairment();
            List<VrClient> clients = g.clients(CLIENTS, Duration.ofMillis(100), 200);
            Set<Long> issued = new HashSet<>();

            String kind = impairment.install();
            LoadGenerator.Result lossy = g.run(clients, REQUESTS, Duration.ofSeconds(20));
            long retransmitsLossy = g.leader().retransmitted();
            long[][] impaired = new long[n + 1][];
            for (int link = 0; link <= n; link++) {
                impaired[link] = impairment.counts(link);
            }
            impairment.clear();

            long lastLossy = g.awaitConverged(Duration.ofSeconds(15)); // retransmission completes every log
            DataPlaneGroup.drain(clients, Duration.ofMillis(200));
            List<LogEntry> logLossy = g.assertLogsAgree(lastLossy);
            DataPlaneGroup.assertAnswers(lossy, REQUESTS, logLossy, issued);
            assertTrue(lossy.retries() > 0, "clients resent lost requests or replies");
            assertTrue(retransmitsLossy > 0, "the agent's timer re-sent lost PREPAREs");
            if (kind.equals("htb+bpf")) {
                for (int link = 0; link <= n; link++) {
                    String to = link < n ? "member " + link : "the client";
                    assertTrue(impaired[link][0] > 0 && impaired[link][1] > 0, "the bridge port toward " + to
                            + " dropped " + impaired[link][0] + " and delayed " + impaired[link][1] + " frames");
                }
            }
            long retransmitsAfter = g.leader().retransmitted();
            long clonesAfter = g.leader().counters().get("prepares_sent");
            // the data plane itself sends each entry's PREPARE once per member: what the members received beyond
            // that (every entry, on links that dropped frames) came from the agent's timer
            assertEquals((n - 1) * lastLossy, clonesAfter, "one PREPARE per entry and member from tcx");

            LoadGenerator.Result clean = g.run(clients, REQUESTS, Duration.ofSeconds(15));
            long last = g.awaitConverged(Duration.ofSeconds(10));
            DataPlaneGroup.drain(clients, Duration.ofMillis(200));
            long retransmitsClean = g.leader().retransmitted() - retransmitsAfter;
            System.out.printf("ConsensusLossTest n=%d %s: impaired: %d answered, %d client resends, %d entries,"
                    + " %d PREPARE re-sends, bridge ports (dropped, delayed) %s; clean: %d answered, %d client"
                    + " resends, %d entries, %d PREPARE re-sends%s%n", n, kind, lossy.answered(), lossy.retries(),
                    lastLossy, retransmitsLossy, Arrays.deepToString(impaired), clean.answered(), clean.retries(),
                    last - lastLossy, retransmitsClean, g.describe());

            List<LogEntry> log = g.assertLogsAgree(last);
            DataPlaneGroup.assertAnswers(clean, REQUESTS, log, issued);
            assertEquals(lastLossy + clean.sent(), last, "every datagram sent on the clean network is one entry");
            assertTrue(clean.retries() < lossy.retries(), "resends after the impairment is removed ("
                    + clean.retries() + ") fewer than under it (" + lossy.retries() + ")");
            assertTrue(clean.retries() <= clean.sent() / 100, "hardly any resends on the clean network: "
                    + clean.retries());
            assertTrue(retransmitsClean < retransmitsLossy, "PREPARE re-sends on the clean network ("
                    + retransmitsClean + ") fewer than under loss (" + retransmitsLossy + ")");
            assertEquals(last, g.leader().counters().get("replies"), "one reply per entry left the leader");
            assertFalse(g.leader().stopped());
        }
    }
}
