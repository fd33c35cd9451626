package dev.xps.agent.bpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Kernel;
import dev.xps.runtime.MapLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Maps from Java against the real kernel: open/load/pin, single and batch operations, and their errors. */
@Tag("kernel")
class BpfMapTest {
    private final Random random = new Random(42);
    private Path root;
    private BpfObject obj;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void load() {
        Kernel.assumeBpf();
        root = Kernel.pinRoot();
        Preflight.ensureBpffs(root);
        obj = BpfObject.open(Kernel.bpfObject("maps"));
        obj.load();
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
        if (obj != null) {
            obj.close();
        }
        Kernel.deleteTree(root);
    }

    private BpfMap map(String name) {
        BpfMap m = obj.map(name).handle();
        toClose.add(m);
        return m;
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        b[0] = 0;            // make sure NUL and 0xff bytes survive
        b[n - 1] = (byte) 0xff;
        return b;
    }

    @Test
    void objectListsItsMapsAndProgramsWithTheirShapes() {
        assertEquals(Set.of("kv", "slots", "many", "prefixes", "ports", "percpu"),
                Set.copyOf(obj.maps().stream().map(ObjectMap::name).toList()));
        ObjectMap kv = obj.map("kv");
        assertEquals(MapType.HASH, kv.type());
        assertEquals(16, kv.keySize());
        assertEquals(64, kv.valueSize());
        assertEquals(4, kv.maxEntries());
        ObjectProgram touch = obj.program("maps_touch");
        assertEquals(ProgramType.XDP, touch.type());
        assertEquals("xdp", touch.sectionName());
        assertThrows(java.util.NoSuchElementException.class, () -> obj.map("nope"));
    }

    @Test
    void pinnedHashAndArrayMapsReopenFromTheirPinsWithTheirData() {
        obj.map("kv").pin(root.resolve("kv"));
        obj.map("slots").pin(root.resolve("slots"));
        byte[] key = bytes(16);
        byte[] value = bytes(64);
        byte[] slot = bytes(24);
        map("kv").put(key, value);
        map("slots").put(MapLayout.encodeInt(3, 4), slot);
        obj.close();
        obj = null;

        try (BpfMap kv = BpfMap.fromPin(root.resolve("kv")); BpfMap slots = BpfMap.fromPin(root.resolve("slots"))) {
            assertEquals(new MapInfo(MapType.HASH, 1, kv.id(), 16, 64, 4, 0, "kv"), kv.info());
            assertEquals(MapType.ARRAY, slots.type());
            assertEquals(24, slots.valueSize());
            assertArrayEquals(value, kv.get(key));
            assertArrayEquals(slot, slots.get(MapLayout.encodeInt(3, 4)));
        }
    }

    @Test
    void hashValuesRoundTripByteExactAndDeleteReportsWhetherTheKeyWasThere() {
        BpfMap kv = map("kv");
        byte[] key = bytes(16);
        byte[] v1 = bytes(64);
        byte[] v2 = bytes(64);
        assertTrue(kv.lookup(key).isEmpty());
        kv.update(key, v1, BpfMap.Update.NOEXIST);
        assertArrayEquals(v1, kv.get(key));
        kv.update(key, v2, BpfMap.Update.EXIST);
        assertArrayEquals(v2, kv.get(key));
        assertTrue(kv.delete(key));
        assertFalse(kv.delete(key));
        assertTrue(kv.lookup(key).isEmpty());
    }

    @Test
    void missingKeyRaisesKeyNotFoundNamingTheMapAndKey() {
        BpfMap kv = map("kv");
        byte[] key = new byte[16];
        key[0] = 0x66;
        var e = assertThrows(BpfException.KeyNotFound.class, () -> kv.get(key));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().startsWith("bpf_map_lookup_elem(map 'kv'): ENOENT: No such file or directory: no such key 66000000"),
                e.getMessage());
        var e2 = assertThrows(BpfException.KeyNotFound.class,
                () -> kv.update(key, new byte[64], BpfMap.Update.EXIST));
        assertEquals("ENOENT", e2.errnoName());
    }

    @Test
    void insertOnlyUpdateOfAnExistingKeyRaisesKeyExists() {
        BpfMap kv = map("kv");
        byte[] key = bytes(16);
        kv.put(key, bytes(64));
        var e = assertThrows(BpfException.KeyExists.class, () -> kv.update(key, bytes(64), BpfMap.Update.NOEXIST));
        assertEquals("EEXIST", e.errnoName());
    }

    @Test
    void fullHashMapRaisesMapFullButStillAcceptsReplacements() {
        BpfMap kv = map("kv");
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            keys.add(bytes(16));
            kv.put(keys.get(i), bytes(64));
        }
        var e = assertThrows(BpfException.MapFull.class, () -> kv.put(bytes(16), bytes(64)));
        assertEquals("E2BIG", e.errnoName());
        assertTrue(e.getMessage().contains("the map is full (max_entries 4)"), e.getMessage());
        byte[] replacement = bytes(64);
        kv.put(keys.get(2), replacement);
        assertArrayEquals(replacement, kv.get(keys.get(2)));
    }

    @Test
    void arrayMapSlotsExistZeroedAndOutOfRangeIndexIsReported() {
        BpfMap slots = map("slots");
        assertArrayEquals(new byte[24], slots.get(MapLayout.encodeInt(7, 4)));
        byte[] v = bytes(24);
        slots.put(MapLayout.encodeInt(5, 4), v);
        assertArrayEquals(v, slots.get(MapLayout.encodeInt(5, 4)));
        var e = assertThrows(BpfException.IndexOutOfRange.class, () -> slots.put(MapLayout.encodeInt(8, 4), v));
        assertTrue(e.getMessage().contains("index 8 is outside [0, 8)"), e.getMessage());
        assertTrue(slots.lookup(MapLayout.encodeInt(8, 4)).isEmpty());
        var d = assertThrows(BpfException.class, () -> slots.delete(MapLayout.encodeInt(5, 4)));
        assertTrue(d.getMessage().contains("cannot be deleted"), d.getMessage());
    }

    @Test
    void keysAndEntriesIterateTheWholeMap() {
        BpfMap kv = map("kv");
        Set<String> expected = new HashSet<>();
        List<BpfMap.Entry> written = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            BpfMap.Entry e = new BpfMap.Entry(bytes(16), bytes(64));
            kv.put(e.key(), e.value());
            written.add(e);
            expected.add(java.util.HexFormat.of().formatHex(e.key()));
        }
        Set<String> seen = new HashSet<>();
        for (byte[] k : kv.keys()) {
            seen.add(java.util.HexFormat.of().formatHex(k));
        }
        assertEquals(expected, seen);
        assertEquals(new HashSet<>(written), new HashSet<>(kv.entries(BpfMap.Batch.REQUIRE)));
        assertEquals(new HashSet<>(written), new HashSet<>(kv.entries(BpfMap.Batch.NEVER)));
        assertEquals(8, map("slots").keys().size());
    }

    @Test
    void batchUpdateAndLookupMoveAThousandEntries() {
        BpfMap many = map("many");
        List<BpfMap.Entry> entries = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            entries.add(new BpfMap.Entry(MapLayout.encodeInt(i * 7919L, 4), MapLayout.encodeInt(i * 1_000_003L, 8)));
        }
        many.updateAll(entries, BpfMap.Update.ANY, BpfMap.Batch.REQUIRE);
        List<BpfMap.Entry> read = many.entries(BpfMap.Batch.REQUIRE);
        assertEquals(1000, read.size());
        assertEquals(new HashSet<>(entries), new HashSet<>(read));
        // the kernel's batches only create-or-replace: insert-only writes go one by one
        assertThrows(IllegalArgumentException.class, () -> many.updateAll(entries, BpfMap.Update.NOEXIST,
                BpfMap.Batch.REQUIRE));
        assertTrue(many.delete(MapLayout.encodeInt(0, 4)));
        var e = assertThrows(BpfException.KeyExists.class, () -> many.updateAll(
                List.of(new BpfMap.Entry(MapLayout.encodeInt(0, 4), new byte[8]),
                        new BpfMap.Entry(MapLayout.encodeInt(7919, 4), new byte[8])),
                BpfMap.Update.NOEXIST));
        assertTrue(e.getMessage().contains("1 of 2 entries were written before entry 1 failed"), e.getMessage());
    }

    @Test
    void batchFailureSaysHowManyEntriesWereWritten() {
        BpfMap kv = map("kv");
        List<BpfMap.Entry> six = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            six.add(new BpfMap.Entry(bytes(16), bytes(64)));
        }
        var e = assertThrows(BpfException.MapFull.class, () -> kv.updateAll(six, BpfMap.Update.ANY));
        assertTrue(e.getMessage().contains("4 of 6 entries were written before entry 4 failed"), e.getMessage());
        assertEquals(4, kv.keys().size());
    }

    @Test
    void mapTypesWithoutBatchSupportFallBackToSingleOperations() {
        BpfMap ports = map("ports");   // a devmap hash: ifindex values (1 = lo always exists)
        List<BpfMap.Entry> entries = List.of(
                new BpfMap.Entry(MapLayout.encodeInt(10, 4), MapLayout.encodeInt(1, 4)),
                new BpfMap.Entry(MapLayout.encodeInt(20, 4), MapLayout.encodeInt(1, 4)));
        var unsupported = assertThrows(BpfException.class,
                () -> ports.updateAll(entries, BpfMap.Update.ANY, BpfMap.Batch.REQUIRE));
        assertTrue(Set.of("ENOTSUPP", "EOPNOTSUPP").contains(unsupported.errnoName()), unsupported.getMessage());
        ports.updateAll(entries, BpfMap.Update.ANY);
        var lookupUnsupported = assertThrows(BpfException.class, () -> ports.entries(BpfMap.Batch.REQUIRE));
        assertTrue(Set.of("ENOTSUPP", "EOPNOTSUPP").contains(lookupUnsupported.errnoName()));
        assertEquals(new HashSet<>(entries), new HashSet<>(ports.entries()));
    }

    @Test
    void lpmTrieEntriesRoundTrip() {
        BpfMap prefixes = map("prefixes");
        List<BpfMap.Entry> entries = List.of(
                new BpfMap.Entry(new byte[] {24, 0, 0, 0, 10, 1, 2, 0}, MapLayout.encodeInt(1, 4)),
                new BpfMap.Entry(new byte[] {16, 0, 0, 0, 10, 1, 0, 0}, MapLayout.encodeInt(2, 4)));
        prefixes.updateAll(entries, BpfMap.Update.ANY);
        assertEquals(new HashSet<>(entries), new HashSet<>(prefixes.entries()));
        // longest-prefix match from user space: 10.1.2.9/32 hits the /24
        assertArrayEquals(MapLayout.encodeInt(1, 4), prefixes.get(new byte[] {32, 0, 0, 0, 10, 1, 2, 9}));
    }

    @Test
    void wrongKeyOrValueLengthIsRejectedBeforeTheKernelIsCalled() {
        BpfMap kv = map("kv");
        var e = assertThrows(IllegalArgumentException.class, () -> kv.put(new byte[15], new byte[64]));
        assertEquals("map 'kv': key must be 16 bytes, not 15", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> kv.put(new byte[16], new byte[65]));
        assertThrows(IllegalArgumentException.class, () -> kv.lookup(null));
    }

    @Test
    void perCpuValuesHaveOneSlotPerPossibleCpu() {
        BpfMap percpu = map("percpu");
        int cpus = BpfMap.possibleCpus();
        assertEquals(8 * cpus, percpu.valueLength());
        try (BpfProgram touch = obj.program("maps_touch").handle()) {
            TestRun run = touch.testRun(new byte[64], 5);
            assertEquals(TestRun.XDP_PASS, run.returnValue());
        }
        long total = 0;
        for (byte[] v : percpu.perCpuValues(percpu.get(MapLayout.encodeInt(0, 4)))) {
            total += MapLayout.decodeInt(v);
        }
        assertEquals(5, total);
    }

    @Test
    void unpinnedMapDisappearsFromTheKernelOnceNothingHoldsIt() {
        obj.map("kv").pin(root.resolve("kv"));
        int id;
        try (BpfMap kv = BpfMap.fromPin(root.resolve("kv"))) {
            id = kv.id();
        }
        obj.close();
        obj = null;
        assertTrue(BpfMap.exists(id), "pinned map is still there");
        Kernel.deleteTree(root.resolve("kv"));
        assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> !BpfMap.exists(id)), "map " + id + " freed");
    }
}
