package dev.xps.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A thread-safe {@link XpsMap} in the heap, for the user-space stack and for tests. Reads never
 * block. Values are copied on the way in, so a caller may reuse its buffers.
 */
public final class InMemoryMap implements XpsMap {
    private final MapSpec spec;
    /** HASH: the entries; ARRAY: the slots written so far, by index; LOG: entries by index. */
    private final ConcurrentHashMap<Key, byte[]> entries = new ConcurrentHashMap<>();
    /** HASH: keys present; LOG: entries appended. Reserved before an insert so capacity is never exceeded. */
    private final AtomicLong count = new AtomicLong();
    private final ConcurrentHashMap<Key, LongAdder> hits = new ConcurrentHashMap<>();
    private final Object appendLock = new Object();

    public InMemoryMap(MapSpec spec) {
        this.spec = spec;
    }

    @Override
    public MapSpec spec() {
        return spec;
    }

    @Override
    public byte[] lookup(byte[] key) {
        byte[] value = get(key);
        if (value != null && spec.stats()) {
            hits.computeIfAbsent(new Key(key.clone()), k -> new LongAdder()).increment();
        }
        return value;
    }

    @Override
    public byte[] get(byte[] key) {
        checkKey(key);
        return switch (spec.kind()) {
            case HASH -> entries.get(new Key(key));
            case ARRAY -> {
                if (!inArray(key)) {
                    yield null;
                }
                byte[] value = entries.get(new Key(key));
                yield value != null ? value : spec.valueType().zero();
            }
            case LOG -> {
                long index = MapLayout.decodeInt(key);
                // An index is only visible once its entry is stored (see append).
                yield index >= 1 && index <= count.get() ? entries.get(new Key(key)) : null;
            }
        };
    }

    @Override
    public boolean put(byte[] key, byte[] value) {
        checkKey(key);
        checkValue(value);
        byte[] copy = value.clone();
        return switch (spec.kind()) {
            case HASH -> putHash(new Key(key.clone()), copy);
            case ARRAY -> {
                if (!inArray(key)) {
                    yield false;
                }
                entries.put(new Key(key.clone()), copy);
                yield true;
            }
            case LOG -> {
                synchronized (appendLock) {
                    long index = MapLayout.decodeInt(key);
                    if (index < 1 || index > count.get()) {
                        yield false;
                    }
                    entries.put(new Key(key.clone()), copy);
                    yield true;
                }
            }
        };
    }

    private boolean putHash(Key key, byte[] value) {
        boolean[] stored = {true};
        entries.compute(key, (k, old) -> {
            if (old == null && count.incrementAndGet() > spec.capacity()) {
                count.decrementAndGet();
                stored[0] = false;
                return null;
            }
            return value;
        });
        return stored[0];
    }

    @Override
    public boolean delete(byte[] key) {
        checkKey(key);
        return switch (spec.kind()) {
            case HASH -> {
                boolean[] removed = {false};
                entries.computeIfPresent(new Key(key), (k, old) -> {
                    count.decrementAndGet();
                    removed[0] = true;
                    return null;
                });
                yield removed[0];
            }
            case ARRAY -> {
                if (!inArray(key)) {
                    yield false;
                }
                entries.remove(new Key(key));
                yield true;
            }
            case LOG -> false;
        };
    }

    @Override
    public long append(byte[] value) {
        if (spec.kind() != MapKind.LOG) {
            throw new UnsupportedOperationException("append to " + spec.kind() + " map '" + spec.name() + "'");
        }
        checkValue(value);
        synchronized (appendLock) {
            long index = count.get() + 1;
            if (index > spec.capacity()) {
                return FULL;
            }
            entries.put(new Key(MapLayout.encodeInt(index, keyWidth())), value.clone());
            count.set(index);
            return index;
        }
    }

    @Override
    public long size() {
        return switch (spec.kind()) {
            case HASH, LOG -> count.get();
            case ARRAY -> spec.capacity();
        };
    }

    @Override
    public long hits(byte[] key) {
        LongAdder counter = hits.get(new Key(key));
        return counter == null ? 0 : counter.sum();
    }

    @Override
    public List<Stat> stats() {
        List<Stat> out = new ArrayList<>();
        for (Map.Entry<Key, LongAdder> e : hits.entrySet()) {
            out.add(new Stat(e.getKey().bytes(), e.getValue().sum()));
        }
        return out;
    }

    @Override
    public List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<Key, byte[]> e : entries.entrySet()) {
            out.add(new Entry(e.getKey().bytes(), e.getValue()));
        }
        return out;
    }

    private boolean inArray(byte[] key) {
        return Long.compareUnsigned(MapLayout.decodeInt(key), spec.capacity()) < 0;
    }

    private int keyWidth() {
        return ((ValueType.UInt) spec.keyType()).byteWidth();
    }

    private void checkKey(byte[] key) {
        if (!spec.keyType().accepts(key)) {
            throw new IllegalArgumentException("key of " + key.length + " bytes for map '" + spec.name()
                    + "' of " + spec.keyType() + " keys");
        }
    }

    private void checkValue(byte[] value) {
        if (!spec.valueType().accepts(value)) {
            throw new IllegalArgumentException("value of " + value.length + " bytes for map '" + spec.name()
                    + "' of " + spec.valueType() + " values");
        }
    }

    /** A byte string with value equality, as a hash key. */
    private record Key(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }
}
