package dev.xps.consensus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.xps.consensus.client.VrClient;
import dev.xps.consensus.service.KvService;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The replicated KV store: PUT and DELETE replicated to every member in order, GET served by the leader. */
class KvTest {
    @Test
    void writesAreReplicatedAndGetsServedByTheLeader() throws Exception {
        VrOptions opt = VrOptions.defaults().withFailureFloor(Checks.NO_FALSE_ALARMS)
                .withOrder(KvService.order()).withEntrySize(KvService.ENTRY_SIZE);
        try (var c = new Cluster<>(3, KvService.PORT, opt, i -> new KvService(), KvService::gets, null)) {
            VrClient cl = c.client(Duration.ofSeconds(1), 3, 10);
            for (int i = 0; i < 200; i++) {
                byte[] v = ("value-" + i).getBytes(StandardCharsets.ISO_8859_1);
                String key = "key-" + i;
                VrClient.Answer a = cl.call(id -> KvService.put(id, key, v));
                assertNotNull(a);
                assertEquals(0x81, a.reply()[0] & 0xff);
            }
            for (int i = 0; i < 200; i += 4) {
                String key = "key-" + i;
                VrClient.Answer a = cl.call(id -> KvService.delete(id, key));
                assertNotNull(a);
                assertEquals(0x83, a.reply()[0] & 0xff);
                assertEquals(1, a.reply()[5], "the key was there");
            }
            long ordered = c.leader().contiguous();
            assertEquals(250, ordered, "PUTs and DELETEs are ordered");
            // The leader answers GETs from its applied state (every acknowledged write is applied there).
            VrClient.Answer hit = cl.call(id -> KvService.get(id, "key-1"));
            assertArrayEquals("value-1".getBytes(StandardCharsets.ISO_8859_1), KvService.value(hit.reply()));
            VrClient.Answer miss = cl.call(id -> KvService.get(id, "key-0"));
            assertEquals(0xc2, miss.reply()[0] & 0xff, "a deleted key is a miss");
            VrClient.Answer malformed = cl.call(id -> new byte[] {KvService.PUT, 0, 0, 0, (byte) id, 9});
            assertEquals(0xff, malformed.reply()[0] & 0xff, "a malformed write still takes an op and is answered");
            assertEquals(ordered + 1, c.leader().contiguous(), "GETs were not ordered");

            c.awaitQuiet();
            c.assertLogsAgree(1, ordered + 1);
            Map<String, byte[]> reference = c.services.getFirst().contents();
            assertEquals(150, reference.size());
            for (KvService s : c.services) {
                Map<String, byte[]> m = s.contents();
                assertEquals(reference.keySet(), m.keySet());
                reference.forEach((k, v) -> assertArrayEquals(v, m.get(k), k));
                assertEquals(0, s.outOfOrder());
                assertEquals(ordered + 1, s.executed());
            }
            // A snapshot restores to the same state.
            KvService copy = new KvService();
            copy.restore(c.services.get(1).snapshot());
            assertEquals(reference.keySet(), copy.contents().keySet());
            assertEquals(ordered + 1, copy.last());
            assertEquals(true, Arrays.equals(c.services.get(1).snapshot(), copy.snapshot()));
        }
    }
    /** A replica restarted with an empty store takes a state of hundreds of chunks, then keeps up. */
    @Test
    void aRestartedReplicaTakesALargeState() throws Exception {
        VrOptions opt = VrOptions.defaults().withFailureFloor(Checks.NO_FALSE_ALARMS)
                .withOrder(KvService.order()).withEntrySize(KvService.ENTRY_SIZE);
        try (var c = new Cluster<>(3, KvService.PORT, opt, i -> new KvService(), KvService::gets, null)) {
            var clients = c.clients(4, Duration.ofSeconds(1), 3, 10);
            byte[] value = new byte[KvService.MAX_VALUE];
            Arrays.fill(value, (byte) 'v');
            c.stop(2);
            var r = dev.xps.consensus.client.LoadGenerator.run(clients, 250,
                    id -> KvService.put(id, "key-" + id + "-" + (id * 31 % 7), value));
            assertEquals(0, r.unanswered());
            long before = c.leader().contiguous();
            KvService fresh = new KvService();
            RecoveryReport rep = c.restart(2, fresh, c.group);
            assertEquals(before, rep.appliedOp(), "took the leader's whole state: " + rep);
            long chunks = c.nodes.get(2).stats().stateChunksReceived.get();
            assertEquals(true, chunks > 2 * dev.xps.consensus.wire.Wire.MAX_CHUNK / 32, "chunks: " + chunks);
            var more = dev.xps.consensus.client.LoadGenerator.run(clients, 25, id -> KvService.delete(id, "nope"));
            assertEquals(0, more.unanswered());
            c.awaitQuiet();
            long last = c.leader().contiguous();
            c.assertLogsAgree(before + 1, last);
            Map<String, byte[]> reference = c.services.getFirst().contents();
            assertEquals(reference.size(), fresh.contents().size());
            reference.forEach((k, v) -> assertArrayEquals(v, fresh.contents().get(k), k));
            assertEquals(last, fresh.executed(), "executed (or received) each entry once");
            assertEquals(0, fresh.outOfOrder());
        }
    }
}
