package dev.xps.agent;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.VethNetns;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Arrays and logs through the agent (samples/raft-append.xps: a log of bytes[256] and an array of u64). */
@Tag("kernel")
class AgentMapsTest {

    @Test
    void arraysAndLogsInCanonicalLayout() throws Exception {
        Kernel.assumeBpf();
        Path artifact = Artifacts.sample("raft-append");
        Path pinRoot = Kernel.pinRoot();
        Path stateRoot = Files.createTempDirectory("xpsagent-state-");
        Agent agent = new Agent(pinRoot, stateRoot);
        String name = Kernel.uniqueName();
        try (VethNetns net = new VethNetns();
             Context ctx = agent.createContext(name, artifact, Attachment.iface(net.nsIf, net.netns))) {
            byte[] one = {1, 0, 0, 0};
            ctx.put("state", one, new byte[] {42, 0, 0, 0, 0, 0, 0, 0});
            assertArrayEquals(new byte[] {42, 0, 0, 0, 0, 0, 0, 0}, ctx.get("state", one).orElseThrow());
            assertEquals(1, ctx.dump("state").size());
            ctx.delete("state", one);
            assertArrayEquals(new byte[8], ctx.get("state", one).orElseThrow(), "a deleted slot is zero");
            assertEquals(0, ctx.dump("state").size());
            assertThrows(IllegalArgumentException.class, () -> ctx.put("state", new byte[] {3, 0, 0, 0}, new byte[8]),
                    "index 3 of capacity 3");

            assertEquals(0, ctx.logHead("raft_log"));
            assertEquals(1, ctx.appendLog("raft_log", "first".getBytes(US_ASCII)));
            assertEquals(2, ctx.appendLog("raft_log", "second".getBytes(US_ASCII)));
            assertEquals(3, ctx.appendLog("raft_log", new byte[256]));
            assertEquals(3, ctx.logHead("raft_log"));
            List<byte[]> log = ctx.getLog("raft_log", 1, 10);
            assertEquals(3, log.size());
            assertEquals("first", new String(log.get(0), US_ASCII));
            assertEquals("second", new String(log.get(1), US_ASCII));
            assertArrayEquals(new byte[256], log.get(2));
            assertEquals(List.of("second"), ctx.getLog("raft_log", 2, 1).stream().map(b -> new String(b, US_ASCII)).toList());
            assertThrows(IllegalArgumentException.class, () -> ctx.put("raft_log", one, new byte[1]));
            Map<String, Map<String, Long>> stats = ctx.allStats();
            assertEquals(List.of("append_entries"), List.copyOf(stats.keySet()));
        } finally {
            if (Files.exists(pinRoot.resolve(name))) {
                agent.deleteContext(name);
            }
            Kernel.deleteTree(pinRoot);
            Kernel.deleteTree(stateRoot);
        }
    }
}
