package dev.xps.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.bpf.BpfException;
import dev.xps.agent.bpf.BpfMap;
import dev.xps.agent.bpf.BpfObject;
import dev.xps.agent.bpf.BpfProgram;
import dev.xps.agent.bpf.NetNs;
import dev.xps.agent.bpf.XdpMode;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.Udp;
import dev.xps.agent.testsupport.VethNetns;
import dev.xps.runtime.MapLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The pinned-object lifecycle within one process: load, pin, close, adopt, reload, swap, unload. */
@Tag("kernel")
class PinnedContextTest {
    private Path root;
    private Pins pins;

    @BeforeEach
    void setUp() {
        Kernel.assumeBpf();
        root = Kernel.pinRoot();
        pins = Pins.of(root, "ctx");
    }

    @AfterEach
    void tearDown() {
        Kernel.deleteTree(root);
    }

    private static long counted(PinnedContext ctx, int slot) {
        return MapLayout.decodeInt(ctx.map("counts").get(MapLayout.encodeInt(slot, 4)));
    }

    @Test
    void loadPinsEveryMapAndProgramAndAdoptOpensTheSameObjects() {
        int countsId;
        int progId;
        try (PinnedContext ctx = PinnedContext.load(pins, Kernel.bpfObject("xdp_count"))) {
            assertEquals(List.of("counts", "notes"), pins.mapNames());
            assertEquals(List.of("xdp_count", "xdp_count_alt"), pins.programNames());
            assertEquals(List.of(), pins.linkNames());
            countsId = ctx.map("counts").id();
            progId = ctx.program("xdp_count").id();
            ctx.map("notes").put(MapLayout.encodeInt(7, 8), MapLayout.encodeInt(42, 8));
        }
        assertTrue(BpfProgram.exists(progId), "closing handles leaves the pinned program loaded");
        try (PinnedContext ctx = PinnedContext.adopt(pins)) {
            assertEquals(countsId, ctx.map("counts").id());
            assertEquals(progId, ctx.program("xdp_count").id());
            assertArrayEquals(MapLayout.encodeInt(42, 8), ctx.map("notes").get(MapLayout.encodeInt(7, 8)));
            var e = assertThrows(NoSuchElementException.class, () -> ctx.map("nope"));
            assertEquals("context 'ctx' has no map 'nope' (it has: counts, notes)", e.getMessage());
            assertTrue(ctx.unload().isClean());
        }
        assertFalse(Files.exists(pins.dir()));
        assertTrue(Kernel.eventually(Duration.ofSeconds(10), () -> !BpfProgram.exists(progId)));
        assertTrue(Kernel.eventually(Duration.ofSeconds(10), () -> !BpfMap.exists(countsId)));
    }

    @Test
    void adoptingAContextThatWasNeverLoadedSaysSo() {
        var e = assertThrows(NoSuchElementException.class, () -> PinnedContext.adopt(pins));
        assertEquals("no context 'ctx' is pinned (" + pins.dir() + " does not exist)", e.getMessage());
    }

    @Test
    void internalMapsArePinnedUnderSanitizedNames() {
        try (PinnedContext ctx = PinnedContext.load(pins, Kernel.bpfObject("ringbuf"))) {
            assertEquals(List.of("events", "ringbuf_bss"), pins.mapNames());
            assertEquals(ctx.map("ringbuf.bss").id(), ctx.map("ringbuf_bss").id());
            ctx.unload();
        }
    }

    @Test
    void reloadKeepsMapDataAndSwapsTheAttachedProgramAtomically() throws Exception {
        try (VethNetns net = new VethNetns()) {
            int oldProgId;
            int notesId;
            try (PinnedContext ctx = PinnedContext.load(pins, Kernel.bpfObject("xdp_count"))) {
                ctx.map("notes").put(MapLayout.encodeInt(1, 8), MapLayout.encodeInt(0xfeed, 8));
                ctx.attachXdp("xdp", "xdp_count", net.netns, net.nsIf, XdpMode.GENERIC);
                assertTrue(Udp.sendUntil(net.nsAddress(), Duration.ofSeconds(10), () -> counted(ctx, 0) > 0));
                oldProgId = ctx.program("xdp_count").id();
                notesId = ctx.map("notes").id();
                var dup = assertThrows(IllegalStateException.class,
                        () -> ctx.attachXdp("xdp", "xdp_count_alt", net.netns, net.nsIf, XdpMode.GENERIC));
                assertTrue(dup.getMessage().contains("already has a link 'xdp'"), dup.getMessage());
            }

            // a new version of the handler (here: the same object) is loaded into the live context
            try (PinnedContext ctx = PinnedContext.load(pins, Kernel.bpfObject("xdp_count"))) {
                assertEquals(notesId, ctx.map("notes").id(), "the map was reused");
                assertArrayEquals(MapLayout.encodeInt(0xfeed, 8), ctx.map("notes").get(MapLayout.encodeInt(1, 8)));
                int newProgId = ctx.program("xdp_count").id();
                assertNotEquals(oldProgId, newProgId, "programs are new");
                assertEquals(oldProgId, ctx.link("xdp").info().programId(), "the link still runs the old one");

                ctx.replaceProgram("xdp", "xdp_count_alt");
                assertEquals(ctx.program("xdp_count_alt").id(), ctx.link("xdp").info().programId());
                assertTrue(Udp.sendUntil(net.nsAddress(), Duration.ofSeconds(10), () -> counted(ctx, 1) > 0));
                // the replaced program was only held by the link and its (replaced) pin: it is gone
                assertTrue(Kernel.eventually(Duration.ofSeconds(10), () -> !BpfProgram.exists(oldProgId)));

                ctx.detach("xdp");
                assertEquals(List.of(), pins.linkNames());
                int ifindex = net.nsIfindex();
                assertTrue(NetNs.call(net.netns, () -> BpfProgram.queryXdp(ifindex)).isEmpty());
                ctx.unload();
            }
        }
    }

    @Test
    void aPinnedMapOfAnotherShapeIsNotReused() {
        try (PinnedContext ctx = PinnedContext.load(pins, Kernel.bpfObject("xdp_count"))) {
            ctx.map("counts").put(MapLayout.encodeInt(0, 4), MapLayout.encodeInt(5, 8));
        }
        // the next version of the handler declares 'counts' with room for 4 slots
        var e = assertThrows(PinnedMapMismatchException.class, () -> PinnedContext.load(pins,
                Kernel.bpfObject("xdp_count"), obj -> obj.map("counts").setMaxEntries(4)));
        assertEquals("counts", e.map());
        assertTrue(e.getMessage().contains("is array (key 4 bytes, value 8 bytes, 2 entries), but the object"
                + " declares array (key 4 bytes, value 8 bytes, 4 entries)"), e.getMessage());
        try (PinnedContext ctx = PinnedContext.adopt(pins)) {
            assertArrayEquals(MapLayout.encodeInt(5, 8), ctx.map("counts").get(MapLayout.encodeInt(0, 4)),
                    "the data are untouched");
            ctx.unload();
        }
    }

    @Test
    void aFailedFirstLoadLeavesNoContextBehind() {
        assertThrows(BpfException.class, () -> PinnedContext.load(pins, Kernel.bpfObject("bad")));
        assertFalse(Files.exists(pins.dir()));
    }

    @Test
    void contextAndPinNamesAreCheckedAndListed() {
        assertThrows(IllegalArgumentException.class, () -> Pins.of(root, "../etc"));
        assertThrows(IllegalArgumentException.class, () -> Pins.of(root, "a.b"));
        assertThrows(IllegalArgumentException.class, () -> Pins.pinName("a/b"));
        assertEquals("redis_rodata", Pins.pinName("redis.rodata"));
        assertEquals(Path.of("/sys/fs/bpf/xps/redis"), Pins.of("redis").dir());
        try (PinnedContext ctx = PinnedContext.load(pins, Kernel.bpfObject("xdp_count"))) {
            assertEquals(List.of("ctx"), Pins.contexts(root));
            ctx.unload();
        }
        assertEquals(List.of(), Pins.contexts(root));
    }

    @Test
    void configureRunsBeforeLoad() {
        try (PinnedContext ctx = PinnedContext.load(pins, Kernel.bpfObject("xdp_count"),
                (BpfObject obj) -> obj.map("notes").setMaxEntries(128))) {
            assertEquals(128, ctx.map("notes").maxEntries());
            ctx.unload();
        }
    }
}
