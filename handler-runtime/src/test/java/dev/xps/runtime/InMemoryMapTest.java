package dev.xps.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class InMemoryMapTest {
    private static byte[] u32(long v) {
        return MapLayout.encodeInt(v, 4);
    }

    private static byte[] u64(long v) {
        return MapLayout.encodeInt(v, 8);
    }

    private static InMemoryMap hash(long capacity, boolean stats) {
        return new InMemoryMap(new MapSpec("h", MapKind.HASH, ValueType.bytes(8), ValueType.bytes(16), capacity, stats));
    }

    @Test
    void hashPutGetDelete() {
        InMemoryMap m = hash(10, false);
        assertNull(m.get(Bytes.ascii("foo")));
        assertTrue(m.put(Bytes.ascii("foo"), Bytes.ascii("bar")));
        assertArrayEquals(Bytes.ascii("bar"), m.get(Bytes.ascii("foo")));
        assertEquals(1, m.size());
        assertTrue(m.delete(Bytes.ascii("foo")));
        assertFalse(m.delete(Bytes.ascii("foo")));
        assertNull(m.get(Bytes.ascii("foo")));
        assertEquals(0, m.size());
    }

    @Test
    void bytesKeysOfDifferentLengthsAreDifferentKeys() {
        InMemoryMap m = hash(10, false);
        m.put(Bytes.ascii("a"), Bytes.ascii("1"));
        m.put(Bytes.hex("6100"), Bytes.ascii("2"));
        assertEquals(2, m.size());
        assertArrayEquals(Bytes.ascii("1"), m.get(Bytes.ascii("a")));
    }

    @Test
    void fullHashRefusesNewKeysButReplacesExistingOnes() {
        InMemoryMap m = hash(2, false);
        assertTrue(m.put(Bytes.ascii("a"), Bytes.ascii("1")));
        assertTrue(m.put(Bytes.ascii("b"), Bytes.ascii("1")));
        assertFalse(m.put(Bytes.ascii("c"), Bytes.ascii("1")));
        assertNull(m.get(Bytes.ascii("c")));
        assertTrue(m.put(Bytes.ascii("a"), Bytes.ascii("2")));
        assertEquals(2, m.size());
        m.delete(Bytes.ascii("b"));
        assertTrue(m.put(Bytes.ascii("c"), Bytes.ascii("1")));
    }

    @Test
    void valuesAreCopiedOnTheWayIn() {
        InMemoryMap m = hash(2, false);
        byte[] value = Bytes.ascii("bar");
        m.put(Bytes.ascii("k"), value);
        value[0] = 'x';
        assertArrayEquals(Bytes.ascii("bar"), m.get(Bytes.ascii("k")));
    }

    @Test
    void layoutIsChecked() {
        InMemoryMap m = hash(2, false);
        assertThrows(IllegalArgumentException.class, () -> m.put(new byte[9], new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> m.put(new byte[1], new byte[17]));
        InMemoryMap ints = new InMemoryMap(new MapSpec("i", MapKind.HASH, ValueType.u32(), ValueType.u16(), 2, false));
        assertThrows(IllegalArgumentException.class, () -> ints.get(new byte[8]));
    }

    @Test
    void statsCountLookupHitsOnly() {
        InMemoryMap m = hash(10, true);
        m.put(Bytes.ascii("k"), Bytes.ascii("v"));
        m.lookup(Bytes.ascii("k"));
        m.lookup(Bytes.ascii("k"));
        m.lookup(Bytes.ascii("missing"));
        m.get(Bytes.ascii("k"));
        assertEquals(2, m.hits(Bytes.ascii("k")));
        assertEquals(0, m.hits(Bytes.ascii("missing")));
        assertEquals(1, m.stats().size());
        assertEquals(2, m.stats().getFirst().hits());
    }

    @Test
    void noStatsWhenNotAskedFor() {
        InMemoryMap m = hash(10, false);
        m.put(Bytes.ascii("k"), Bytes.ascii("v"));
        m.lookup(Bytes.ascii("k"));
        assertEquals(0, m.hits(Bytes.ascii("k")));
    }

    @Test
    void arraySlotsExistAndStartZeroed() {
        InMemoryMap a = new InMemoryMap(new MapSpec("a", MapKind.ARRAY, ValueType.u32(), ValueType.u64(), 4, false));
        assertArrayEquals(u64(0), a.get(u32(3)));
        assertNull(a.get(u32(4)));
        assertNull(a.lookup(u32(0xFFFF_FFFFL)));
        assertTrue(a.put(u32(3), u64(7)));
        assertArrayEquals(u64(7), a.get(u32(3)));
        assertFalse(a.put(u32(4), u64(7)));
        assertTrue(a.delete(u32(3)));
        assertArrayEquals(u64(0), a.get(u32(3)));
        assertEquals(4, a.size());
    }

    @Test
    void arrayOfBytesStartsEmpty() {
        InMemoryMap a = new InMemoryMap(new MapSpec("a", MapKind.ARRAY, ValueType.u8(), ValueType.bytes(4), 2, false));
        assertArrayEquals(new byte[0], a.get(new byte[] {1}));
    }

    @Test
    void logAppendsFromOneUntilFull() {
        InMemoryMap log = new InMemoryMap(new MapSpec("l", MapKind.LOG, ValueType.u64(), ValueType.bytes(8), 2, false));
        assertNull(log.get(u64(1)));
        assertEquals(1, log.append(Bytes.ascii("a")));
        assertEquals(2, log.append(Bytes.ascii("b")));
        assertEquals(XpsMap.FULL, log.append(Bytes.ascii("c")));
        assertArrayEquals(Bytes.ascii("b"), log.get(u64(2)));
        assertNull(log.get(u64(0)));
        assertNull(log.get(u64(3)));
        assertEquals(2, log.size());
        assertFalse(log.delete(u64(1)));
        assertTrue(log.put(u64(1), Bytes.ascii("z")));
        assertFalse(log.put(u64(3), Bytes.ascii("z")));
    }

    @Test
    void appendIsOnlyForLogs() {
        assertThrows(UnsupportedOperationException.class, () -> hash(1, false).append(new byte[1]));
    }

    @Test
    void concurrentInsertsNeverExceedTheCapacity() throws InterruptedException {
        InMemoryMap m = new InMemoryMap(new MapSpec("h", MapKind.HASH, ValueType.u32(), ValueType.u8(), 100, false));
        AtomicInteger stored = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int base = t * 1000;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 500; i++) {
                    if (m.put(u32(base + i), new byte[1])) {
                        stored.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(100, stored.get());
        assertEquals(100, m.size());
        assertEquals(100, m.entries().size());
    }

    @Test
    void storeOpensOnceAndChecksTheDeclaration() {
        MapStore store = new MapStore();
        MapSpec spec = new MapSpec("cache", MapKind.HASH, ValueType.bytes(32), ValueType.bytes(64), 10, true);
        XpsMap first = store.open(spec);
        assertEquals(first, store.open(spec));
        assertEquals(first, store.get("cache"));
        assertThrows(IllegalStateException.class,
                () -> store.open(new MapSpec("cache", MapKind.HASH, ValueType.bytes(32), ValueType.bytes(64), 11, true)));
        assertThrows(IllegalArgumentException.class, () -> store.get("other"));
    }

    @Test
    void specPrintsLikeTheSource() {
        assertEquals("map cache : hash<bytes[32], u32> capacity 10 with stats",
                new MapSpec("cache", MapKind.HASH, ValueType.bytes(32), ValueType.u32(), 10, true).toString());
        assertEquals("map l : log<bytes[8]> capacity 3",
                new MapSpec("l", MapKind.LOG, ValueType.u64(), ValueType.bytes(8), 3, false).toString());
    }

    @Test
    void arraysAndLogsNeedIntegerKeys() {
        assertThrows(IllegalArgumentException.class,
                () -> new MapSpec("a", MapKind.ARRAY, ValueType.bytes(4), ValueType.u8(), 3, false));
    }
}
