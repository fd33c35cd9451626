package dev.xps.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.bpf.BpfLink;
import dev.xps.agent.bpf.BpfMap;
import dev.xps.agent.bpf.BpfProgram;
import dev.xps.agent.bpf.LinkInfo;
import dev.xps.agent.bpf.NetNs;
import dev.xps.agent.testsupport.AgentChild;
import dev.xps.agent.testsupport.JavaChild;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.Udp;
import dev.xps.agent.testsupport.VethNetns;
import dev.xps.runtime.MapLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Re-adoption after a crash: an agent in a child JVM loads, fills a map and attaches XDP, then dies by
 * SIGKILL. A new agent finds everything through the pins: the map's data, the program, the link still
 * attached and still counting packets. Its unload then leaves nothing of ours in the kernel.
 */
@Tag("kernel")
class ReadoptAfterKillTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Test
    void agentKilledWithSigkillIsReadoptedFromItsPinsThenUnloadedCleanly() throws Exception {
        Kernel.assumeBpf();
        Path root = Kernel.pinRoot();
        Pins pins = Pins.of(root, "readopt");
        try (VethNetns net = new VethNetns()) {
            int progId;
            int linkId;
            int notesId;
            try (JavaChild agent = JavaChild.start(AgentChild.class, root.toString(), "readopt",
                    Kernel.bpfObject("xdp_count").toString(), net.netns, net.nsIf)) {
                String[] ids = agent.awaitPrefixed("READY ", TIMEOUT).split(" ");
                progId = Integer.parseInt(ids[0]);
                linkId = Integer.parseInt(ids[1]);
                notesId = Integer.parseInt(ids[2]);
                agent.kill9();
            }
            assertTrue(BpfProgram.exists(progId), "the program outlived its agent");
            assertTrue(BpfLink.exists(linkId), "the link outlived its agent");

            int ifindex = net.nsIfindex();
            try (PinnedContext ctx = PinnedContext.adopt(pins)) {
                assertEquals(List.of("counts", "notes"), List.copyOf(ctx.maps().keySet()));
                assertEquals(List.of("xdp_count", "xdp_count_alt"), List.copyOf(ctx.programs().keySet()));
                assertEquals(List.of("xdp_count"), List.copyOf(ctx.links().keySet()));

                BpfMap notes = ctx.map("notes");
                assertEquals(notesId, notes.id(), "the same map, not a new one");
                for (long k = 1; k <= 3; k++) {
                    assertArrayEquals(MapLayout.encodeInt(k * 0x0101010101L, 8), notes.get(MapLayout.encodeInt(k, 8)));
                }
                LinkInfo link = ctx.link("xdp_count").info();
                assertEquals(linkId, link.id());
                assertEquals(progId, link.programId());
                assertEquals(ifindex, link.ifindex());
                assertFalse(link.isDetached());
                assertTrue(NetNs.call(net.netns, () -> BpfProgram.queryXdp(ifindex)).has(progId));

                BpfMap counts = ctx.map("counts");
                long before = MapLayout.decodeInt(counts.get(MapLayout.encodeInt(0, 4)));
                assertTrue(Udp.sendUntil(net.nsAddress(), Duration.ofSeconds(10),
                        () -> MapLayout.decodeInt(counts.get(MapLayout.encodeInt(0, 4))) > before + 3),
                        "the adopted program is still attached and running");

                PinnedContext.UnloadReport report = ctx.unload();
                assertTrue(report.isClean(), report.toString());
            }
            assertFalse(Files.exists(pins.dir()), "the context's pin directory is gone");
            assertTrue(NetNs.call(net.netns, () -> BpfProgram.queryXdp(ifindex)).isEmpty(), "XDP detached");
            assertTrue(Kernel.eventually(TIMEOUT, () -> !BpfLink.exists(linkId)), "link freed");
            assertTrue(Kernel.eventually(TIMEOUT, () -> !BpfProgram.exists(progId)), "program freed");
            assertTrue(Kernel.eventually(TIMEOUT, () -> !BpfMap.exists(notesId)), "map freed");
        } finally {
            Kernel.deleteTree(root);
        }
    }
}
