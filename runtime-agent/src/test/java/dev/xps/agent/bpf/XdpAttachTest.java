package dev.xps.agent.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.Udp;
import dev.xps.agent.testsupport.VethNetns;
import dev.xps.runtime.MapLayout;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * XDP on a veth pair whose inner end lives in a network namespace the test creates: generic-mode links,
 * atomic program replacement, detach, the legacy netlink attachment, and the kernel's run statistics.
 */
@Tag("kernel")
class XdpAttachTest {
    private VethNetns net;
    private BpfObject obj;
    private BpfProgram count;
    private BpfProgram countAlt;
    private BpfMap counts;
    private int ifindex;

    @BeforeEach
    void setUp() {
        Kernel.assumeBpf();
        net = new VethNetns();
        ifindex = net.nsIfindex();
        obj = BpfObject.open(Kernel.bpfObject("xdp_count"));
        obj.load();
        count = obj.program("xdp_count").handle();
        countAlt = obj.program("xdp_count_alt").handle();
        counts = obj.map("counts").handle();
    }

    @AfterEach
    void tearDown() {
        try {
            if (counts != null) {
                counts.close();
                count.close();
                countAlt.close();
                obj.close();
            }
        } finally {
            if (net != null) {
                net.close();
            }
        }
    }

    private long counted(int slot) {
        return MapLayout.decodeInt(counts.get(MapLayout.encodeInt(slot, 4)));
    }

    private XdpState xdpState() {
        return NetNs.call(net.netns, () -> BpfProgram.queryXdp(ifindex));
    }

    @Test
    void genericLinkCountsPacketsAndKernelStatsCountRuns() throws Exception {
        try (Fd stats = BpfStats.enable()) {
            long runsBefore = count.info().runCount();
            try (BpfLink link = NetNs.call(net.netns, () -> count.attachXdp(ifindex, XdpMode.GENERIC))) {
                LinkInfo info = link.info();
                assertEquals("xdp", info.typeName());
                assertEquals(ifindex, info.ifindex());
                assertEquals(count.id(), info.programId());
                XdpState state = xdpState();
                assertEquals(count.id(), state.genericProgramId(), state.toString());
                assertEquals(0, state.nativeProgramId());

                assertTrue(Udp.sendUntil(net.nsAddress(), Duration.ofSeconds(10), () -> counted(0) >= 5),
                        "XDP program saw packets: " + counted(0));
                ProgramInfo p = count.info();
                System.out.printf("xdp_count: %d runs, %d ns total, %.0f ns/run%n", p.runCount(), p.runTimeNs(),
                        p.meanRunTimeNs());
                assertTrue(p.runCount() - runsBefore >= 5, "run_cnt counts: " + p);
                assertTrue(p.runTimeNs() > 0, "run_time_ns counts: " + p);
                assertEquals(ProgramType.XDP, p.type());
                assertEquals("xdp_count", p.name());
            }
            // closing the only reference to an unpinned link detaches it
            assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> xdpState().isEmpty()), xdpState().toString());
        }
    }

    @Test
    void linkUpdateSwapsTheProgramAtomicallyAndDetachStopsIt() throws Exception {
        try (BpfLink link = NetNs.call(net.netns, () -> count.attachXdp(ifindex, XdpMode.GENERIC))) {
            assertTrue(Udp.sendUntil(net.nsAddress(), Duration.ofSeconds(10), () -> counted(0) >= 1));
            link.update(countAlt, count);
            assertEquals(countAlt.id(), link.info().programId());
            assertTrue(xdpState().has(countAlt.id()));
            long before = counted(0);
            assertTrue(Udp.sendUntil(net.nsAddress(), Duration.ofSeconds(10), () -> counted(1) >= 3));
            assertTrue(counted(0) - before <= 1, "the old program stopped counting");

            // compare-and-swap against a stale expectation fails
            BpfException stale = assertThrows(BpfException.class, () -> link.update(count, count));
            assertEquals("EPERM", stale.errnoName(), stale.getMessage());

            link.detach();
            assertTrue(link.info().isDetached());
            assertTrue(xdpState().isEmpty(), xdpState().toString());
            long after = counted(1);
            Udp.send(net.nsAddress(), 5);
            assertEquals(after, counted(1), "nothing runs after detach");
        }
    }

    @Test
    void legacyNetlinkAttachStaysUntilDetached() {
        NetNs.call(net.netns, () -> {
            count.attachXdpLegacy(ifindex, XdpMode.GENERIC);
            return null;
        });
        try {
            XdpState state = xdpState();
            assertEquals(count.id(), state.genericProgramId(), state.toString());
            assertEquals(2, state.attachMode(), "XDP_ATTACHED_SKB");
            // the attachment belongs to the interface: closing our program handle does not remove it
            try (BpfProgram again = BpfProgram.fromId(count.id())) {
                assertEquals("xdp_count", again.name());
            }
        } finally {
            NetNs.call(net.netns, () -> {
                BpfProgram.detachXdpLegacy(ifindex, XdpMode.GENERIC);
                return null;
            });
        }
        assertTrue(xdpState().isEmpty());
    }

    @Test
    void unknownInterfaceIsAPreflightErrorNamingIt() {
        var e = assertThrows(PreflightException.UnknownInterface.class,
                () -> NetNs.ifindex(net.netns, "xpsagent-nope"));
        assertEquals("no network interface named 'xpsagent-nope' in network namespace " + net.netns
                + " (see: ip link show)", e.getMessage());
        assertThrows(PreflightException.UnknownInterface.class, () -> Preflight.ifindex(net.nsIf));
    }
}
