package dev.xps.agent.bpf;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A kernel BPF map, by an owned file descriptor: lookups, updates, deletes, iteration and batches, with keys
 * and values as byte arrays in the kernel's layout (exactly {@link #keySize()} and {@link #valueLength()}
 * bytes; the caller encodes, e.g. with {@code dev.xps.runtime.MapLayout}).
 *
 * <p>Get one from a loaded {@link BpfObject} ({@link ObjectMap#handle()}), from a pin ({@link #fromPin}) or
 * by id ({@link #fromId}). Closing it closes only this descriptor: the map lives on while it is pinned or
 * used by a program.
 *
 * <p>Failures are {@link BpfException}s; the ones a caller acts on have their own types:
 * {@link BpfException.MapFull}, {@link BpfException.IndexOutOfRange}, {@link BpfException.KeyNotFound},
 * {@link BpfException.KeyExists}. A key or value of the wrong length is an {@link IllegalArgumentException}
 * raised before the kernel is called.
 */
public final class BpfMap implements AutoCloseable {
    /** How an update treats an existing or absent key ({@code BPF_ANY}, {@code BPF_NOEXIST}, {@code BPF_EXIST}). */
    public enum Update {
        /** Create or replace. */
        ANY(0),
        /** Create only: {@link BpfException.KeyExists} if present. */
        NOEXIST(1),
        /** Replace only: {@link BpfException.KeyNotFound} if absent. */
        EXIST(2);

        final long flag;

        Update(long flag) {
            this.flag = flag;
        }
    }

    /** Whether multi-entry operations use the kernel's batch commands. */
    public enum Batch {
        /** Batch commands where the map type has them, single-element operations otherwise. */
        AUTO,
        /** Batch commands only: fails with {@code ENOTSUPP} on map types without them. */
        REQUIRE,
        /** Single-element operations only. */
        NEVER
    }

    /** One key/value pair (arrays are the caller's; equality is by content). */
    public record Entry(byte[] key, byte[] value) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && Arrays.equals(key, e.key) && Arrays.equals(value, e.value);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(key) + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return ObjectFds.hex(key, 32) + "=" + ObjectFds.hex(value, 32);
        }
    }

    static final int BATCH_OPTS_SIZE = 24;
    private static final int MAX_BATCH = 4096;
    private static volatile int possibleCpus;

    private final Fd fd;
    private final MapInfo info;
    private final int valueLength;
    private final String label;

    BpfMap(Fd fd) {
        this.fd = fd;
        try {
            this.info = readInfo(fd.get());
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
        this.valueLength = info.type().isPerCpu() ? roundUp8(info.valueSize()) * possibleCpus() : info.valueSize();
        this.label = "map '" + info.name() + "'";
    }

    /** Opens a pinned map ({@code bpf_obj_get}). */
    public static BpfMap fromPin(Path pin) {
        return new BpfMap(ObjectFds.objGet(pin, ObjectFds.Kind.MAP));
    }

    /** Opens a map by its kernel id ({@code bpf_map_get_fd_by_id}). */
    public static BpfMap fromId(int id) {
        return new BpfMap(ObjectFds.fromId(ObjectFds.Kind.MAP, id));
    }

    /** True while the kernel has a map with this id. */
    public static boolean exists(int id) {
        return ObjectFds.idExists(ObjectFds.Kind.MAP, id);
    }

    static MapInfo readInfo(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = ObjectFds.info(fd, MapInfo.SIZE, arena, "map fd " + fd);
            int type = b.get(JAVA_INT, MapInfo.OFF_TYPE);
            return new MapInfo(MapType.of(type), type, b.get(JAVA_INT, MapInfo.OFF_ID),
                    b.get(JAVA_INT, MapInfo.OFF_KEY_SIZE), b.get(JAVA_INT, MapInfo.OFF_VALUE_SIZE),
                    b.get(JAVA_INT, MapInfo.OFF_MAX_ENTRIES), b.get(JAVA_INT, MapInfo.OFF_MAP_FLAGS),
                    ObjectFds.cName(b, MapInfo.OFF_NAME, MapInfo.NAME_LEN));
        }
    }

    /** {@code libbpf_num_possible_cpus()}. */
    public static int possibleCpus() {
        int n = possibleCpus;
        if (n == 0) {
            var bpf = Native.bpf();
            try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
                MemorySegment cap = Native.captureSegment(arena);
                n = Native.check((int) bpf.numPossibleCpus.invokeExact(cap), cap, "libbpf_num_possible_cpus", null);
                possibleCpus = n;
            } catch (Throwable t) {
                throw Native.rethrow(t);
            }
        }
        return n;
    }

    private static int roundUp8(int n) {
        return (n + 7) & ~7;
    }

    public MapInfo info() {
        return info;
    }

    public String name() {
        return info.name();
    }

    public MapType type() {
        return info.type();
    }

    public int id() {
        return info.id();
    }

    public int keySize() {
        return info.keySize();
    }

    /** The declared value size (per CPU for per-CPU maps). */
    public int valueSize() {
        return info.valueSize();
    }

    /**
     * Bytes a value occupies in this binding's calls: {@link #valueSize()}, or for per-CPU maps one slot per
     * possible CPU, each rounded up to 8 bytes ({@link #perCpuValues} splits it).
     */
    public int valueLength() {
        return valueLength;
    }

    public int maxEntries() {
        return info.maxEntries();
    }

    /** The owned descriptor (for attaching programs to this map, e.g. a sockhash). */
    public Fd fd() {
        return fd;
    }

    /** Splits a per-CPU map's value into one array of {@link #valueSize()} bytes per possible CPU. */
    public List<byte[]> perCpuValues(byte[] value) {
        checkLength("value", value, valueLength);
        int slot = info.type().isPerCpu() ? roundUp8(info.valueSize()) : valueLength;
        List<byte[]> out = new ArrayList<>();
        for (int off = 0; off + slot <= value.length; off += slot) {
            out.add(Arrays.copyOfRange(value, off, off + info.valueSize()));
        }
        return out;
    }

    // ------------------------------------------------------------------ single-element operations

    /** The value for {@code key}, or empty if there is none. */
    public Optional<byte[]> lookup(byte[] key) {
        checkLength("key", key, keySize());
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            MemorySegment value = arena.allocate(Math.max(1, valueLength), 8);
            int r = (int) bpf.mapLookupElem.invokeExact(cap, fd.get(), copy(arena, key), value);
            if (r < 0) {
                int errno = Native.errnoOf(r, cap);
                if (errno == Errno.ENOENT) {
                    return Optional.empty();
                }
                throw Native.fail("bpf_map_lookup_elem", label, errno);
            }
            return Optional.of(value.asSlice(0, valueLength).toArray(JAVA_BYTE));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The value for {@code key}; {@link BpfException.KeyNotFound} if there is none. */
    public byte[] get(byte[] key) {
        return lookup(key).orElseThrow(
                () -> new BpfException.KeyNotFound("bpf_map_lookup_elem", label, ObjectFds.hex(key, 32), null));
    }

    /** Creates or replaces ({@link Update#ANY}). */
    public void put(byte[] key, byte[] value) {
        update(key, value, Update.ANY);
    }

    /** {@code bpf_map_update_elem}. */
    public void update(byte[] key, byte[] value, Update how) {
        checkLength("key", key, keySize());
        checkLength("value", value, valueLength);
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) bpf.mapUpdateElem.invokeExact(cap, fd.get(), copy(arena, key), copy(arena, value), how.flag);
            if (r < 0) {
                throw updateFailure("bpf_map_update_elem", Native.errnoOf(r, cap), key, null);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Deletes {@code key}; false if it was not there. */
    public boolean delete(byte[] key) {
        checkLength("key", key, keySize());
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) bpf.mapDeleteElem.invokeExact(cap, fd.get(), copy(arena, key));
            if (r < 0) {
                int errno = Native.errnoOf(r, cap);
                if (errno == Errno.ENOENT) {
                    return false;
                }
                if (errno == Errno.EINVAL && info.type().isArray()) {
                    throw new BpfException("bpf_map_delete_elem", label, errno,
                            "entries of an array map cannot be deleted (write zeroes instead)", "");
                }
                throw Native.fail("bpf_map_delete_elem", label, errno);
            }
            return true;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The key after {@code key} in the kernel's order (the first key for null), or empty at the end. */
    public Optional<byte[]> nextKey(byte[] key) {
        if (key != null) {
            checkLength("key", key, keySize());
        }
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            MemorySegment next = arena.allocate(Math.max(1, keySize()), 8);
            MemorySegment k = key == null ? MemorySegment.NULL : copy(arena, key);
            int r = (int) bpf.mapGetNextKey.invokeExact(cap, fd.get(), k, next);
            if (r < 0) {
                int errno = Native.errnoOf(r, cap);
                if (errno == Errno.ENOENT) {
                    return Optional.empty();
                }
                throw Native.fail("bpf_map_get_next_key", label, errno);
            }
            return Optional.of(next.asSlice(0, keySize()).toArray(JAVA_BYTE));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * All keys ({@code bpf_map_get_next_key} from the start). At most {@link #maxEntries()} keys are
     * returned, so the walk ends even if the map changes underneath (a hash walk restarts when the current key
     * is deleted concurrently).
     */
    public List<byte[]> keys() {
        List<byte[]> keys = new ArrayList<>();
        byte[] k = null;
        for (int i = 0; i < Math.max(1, maxEntries()); i++) {
            Optional<byte[]> next = nextKey(k);
            if (next.isEmpty()) {
                break;
            }
            k = next.get();
            keys.add(k);
        }
        return keys;
    }

    /**
     * For a program array ({@link MapType#PROG_ARRAY}, the tail-call table): puts {@code program} in slot
     * {@code index}. Every program that tail-calls through this slot runs the new program from its next
     * packet on, including the verdict programs existing sockets hold: this is how a handler is swapped for
     * live connections. The kernel empties a program array when its last user reference (descriptor or pin)
     * goes, so keep it pinned.
     */
    public void setProgram(int index, BpfProgram program) {
        requireProgArray();
        put(intKey(index), intKey(program.fd().get()));
    }

    /** The id of the program in slot {@code index} of a program array, or empty if the slot is empty. */
    public java.util.OptionalInt programAt(int index) {
        requireProgArray();
        return lookup(intKey(index)).map(v -> java.util.OptionalInt.of((int) (
                (v[0] & 0xffL) | (v[1] & 0xffL) << 8 | (v[2] & 0xffL) << 16 | (v[3] & 0xffL) << 24)))
                .orElse(java.util.OptionalInt.empty());
    }

    /** Empties slot {@code index} of a program array; false if it was empty. */
    public boolean clearProgram(int index) {
        requireProgArray();
        return delete(intKey(index));
    }

    private void requireProgArray() {
        if (info.type() != MapType.PROG_ARRAY) {
            throw new IllegalStateException(this + " is not a program array");
        }
    }

    private static byte[] intKey(int i) {
        return new byte[] {(byte) i, (byte) (i >>> 8), (byte) (i >>> 16), (byte) (i >>> 24)};
    }

    /**
     * Deletes every entry (for array-like maps, every slot that can be deleted; others are skipped). For a
     * sockmap or sockhash this takes the sockets off the fast path — which, on the kernels we know, breaks
     * connections the kernel has already answered on (see runtime-agent/README.md); the agent's unload does
     * not do it.
     *
     * @return the number of entries deleted
     */
    public int clear() {
        int deleted = 0;
        if (info.type().isArray()) {
            for (int i = 0; i < maxEntries(); i++) {
                byte[] k = intKey(i);
                try {
                    if (delete(k)) {
                        deleted++;
                    }
                } catch (BpfException e) {
                    if (e.errno() != Errno.EINVAL) { // an empty sockmap slot, or an undeletable array slot
                        throw e;
                    }
                }
            }
            return deleted;
        }
        // delete from the start until empty; each round deletes one key, so maxEntries + 1 rounds suffice
        // unless something keeps inserting
        for (long round = 0; round <= (long) maxEntries(); round++) {
            Optional<byte[]> first = nextKey(null);
            if (first.isEmpty()) {
                return deleted;
            }
            if (delete(first.get())) {
                deleted++;
            }
        }
        throw new IllegalStateException(label + " did not become empty: something keeps inserting");
    }

    // ------------------------------------------------------------------ batches

    /** All entries, batched where the map type allows ({@link Batch#AUTO}). */
    public List<Entry> entries() {
        return entries(Batch.AUTO);
    }

    /**
     * All entries. With batches, {@code bpf_map_lookup_batch} reads them in chunks; map types without batch
     * support ({@code ENOTSUPP}/{@code EOPNOTSUPP}, e.g. LPM tries) fall back to a key walk with lookups,
     * unless {@link Batch#REQUIRE}.
     */
    public List<Entry> entries(Batch batch) {
        if (batch != Batch.NEVER) {
            try {
                return lookupBatch();
            } catch (BpfException e) {
                if (batch == Batch.REQUIRE || !batchUnsupported(e.errno())) {
                    throw e;
                }
            }
        }
        List<Entry> out = new ArrayList<>();
        for (byte[] k : keys()) {
            lookup(k).ifPresent(v -> out.add(new Entry(k, v)));
        }
        return out;
    }

    /**
     * Up to {@code max} entries in key order after {@code after} (null: from the first key), with one
     * {@code bpf_map_lookup_batch} call: on an array, keys {@code after + 1 ..}. Fewer come back at the end of
     * the map. For reading a range of a large array (a log) without walking it all.
     */
    public List<Entry> lookupBatch(byte[] after, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1, got " + max);
        }
        int ks = keySize();
        if (after != null) {
            checkLength("key", after, ks);
        }
        var bpf = Native.bpf();
        int vs = valueLength;
        List<Entry> out = new ArrayList<>();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int tokenSize = Math.max(ks, 8);
            MemorySegment inToken = arena.allocate(tokenSize, 8);
            if (after != null) {
                MemorySegment.copy(after, 0, inToken, JAVA_BYTE, 0, ks);
            }
            MemorySegment outToken = arena.allocate(tokenSize, 8);
            MemorySegment count = arena.allocate(JAVA_INT);
            MemorySegment keys = arena.allocate((long) max * ks, 8);
            MemorySegment values = arena.allocate((long) max * vs, 8);
            count.set(JAVA_INT, 0, max);
            MemorySegment in = after == null ? MemorySegment.NULL : inToken;
            int r = (int) bpf.mapLookupBatch.invokeExact(cap, fd.get(), in, outToken, keys, values, count,
                    MemorySegment.NULL);
            int n = count.get(JAVA_INT, 0);
            if (r < 0) {
                int errno = Native.errnoOf(r, cap);
                if (errno != Errno.ENOENT) {
                    throw Native.fail("bpf_map_lookup_batch", label, errno);
                }
            }
            for (int i = 0; i < n; i++) {
                out.add(new Entry(keys.asSlice((long) i * ks, ks).toArray(JAVA_BYTE),
                        values.asSlice((long) i * vs, vs).toArray(JAVA_BYTE)));
            }
            return out;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private List<Entry> lookupBatch() {
        var bpf = Native.bpf();
        List<Entry> out = new ArrayList<>();
        int ks = keySize();
        int vs = valueLength;
        int chunk = Math.clamp(maxEntries(), 1, 256);
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int tokenSize = Math.max(ks, 8);
            MemorySegment inToken = arena.allocate(tokenSize, 8);
            MemorySegment outToken = arena.allocate(tokenSize, 8);
            MemorySegment count = arena.allocate(JAVA_INT);
            MemorySegment keys = arena.allocate((long) chunk * ks, 8);
            MemorySegment values = arena.allocate((long) chunk * vs, 8);
            boolean first = true;
            // every round reads >= 1 entry or ends; the bound only guards against a kernel that misbehaves
            for (long round = 0; round <= (long) maxEntries() + 64; round++) {
                count.set(JAVA_INT, 0, chunk);
                MemorySegment in = first ? MemorySegment.NULL : inToken;
                int r = (int) bpf.mapLookupBatch.invokeExact(cap, fd.get(), in, outToken, keys, values, count,
                        MemorySegment.NULL);
                int n = count.get(JAVA_INT, 0);
                int errno = r < 0 ? Native.errnoOf(r, cap) : 0;
                if (r < 0 && errno == Errno.ENOSPC && n == 0 && chunk < MAX_BATCH) {
                    // a hash bucket holds more entries than the chunk: retry with a bigger one
                    chunk = Math.min(chunk * 2, MAX_BATCH);
                    keys = arena.allocate((long) chunk * ks, 8);
                    values = arena.allocate((long) chunk * vs, 8);
                    continue;
                }
                if (r < 0 && errno != Errno.ENOENT) {
                    throw Native.fail("bpf_map_lookup_batch", label, errno);
                }
                for (int i = 0; i < n; i++) {
                    out.add(new Entry(keys.asSlice((long) i * ks, ks).toArray(JAVA_BYTE),
                            values.asSlice((long) i * vs, vs).toArray(JAVA_BYTE)));
                }
                if (r < 0) {
                    return out; // ENOENT: no more entries
                }
                MemorySegment.copy(outToken, 0, inToken, 0, tokenSize);
                first = false;
            }
            throw new IllegalStateException("bpf_map_lookup_batch(" + label + ") did not terminate");
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Writes all entries, batched where the map type allows ({@link Batch#AUTO}). */
    public void updateAll(List<Entry> entries, Update how) {
        updateAll(entries, how, Batch.AUTO);
    }

    /**
     * Writes all entries in order. With batches one {@code bpf_map_update_batch} call writes them; map types
     * without batch support fall back to single updates unless {@link Batch#REQUIRE}. The kernel's batches
     * only create-or-replace, so {@link Update#NOEXIST} and {@link Update#EXIST} always use single updates. On failure the exception
     * says how many entries were written first (those stay written: the kernel has no transactions).
     */
    public void updateAll(List<Entry> entries, Update how, Batch batch) {
        if (entries.isEmpty()) {
            return;
        }
        for (Entry e : entries) {
            checkLength("key", e.key(), keySize());
            checkLength("value", e.value(), valueLength);
        }
        if (batch == Batch.REQUIRE && how != Update.ANY) {
            throw new IllegalArgumentException(label + ": batch updates can only create-or-replace (Update.ANY);"
                    + " the kernel takes no per-element NOEXIST/EXIST flags in a batch");
        }
        if (batch != Batch.NEVER && how == Update.ANY) {
            try {
                updateBatch(entries, how);
                return;
            } catch (BpfException e) {
                if (batch == Batch.REQUIRE || !batchUnsupported(e.errno())) {
                    throw e;
                }
            }
        }
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            try {
                update(e.key(), e.value(), how);
            } catch (BpfException ex) {
                throw wrapPartial(ex, i, entries.size(), e.key());
            }
        }
    }

    /** {@code bpf_map_update_batch}; elem_flags is 0 ({@code BPF_ANY}): the only value besides BPF_F_LOCK. */
    private void updateBatch(List<Entry> entries, Update how) {
        var bpf = Native.bpf();
        int n = entries.size();
        int ks = keySize();
        int vs = valueLength;
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            MemorySegment keys = arena.allocate((long) n * ks, 8);
            MemorySegment values = arena.allocate((long) n * vs, 8);
            for (int i = 0; i < n; i++) {
                MemorySegment.copy(entries.get(i).key(), 0, keys, JAVA_BYTE, (long) i * ks, ks);
                MemorySegment.copy(entries.get(i).value(), 0, values, JAVA_BYTE, (long) i * vs, vs);
            }
            MemorySegment count = arena.allocate(JAVA_INT);
            count.set(JAVA_INT, 0, n);
            MemorySegment opts = arena.allocate(BATCH_OPTS_SIZE, 8);
            opts.set(JAVA_LONG, 0, BATCH_OPTS_SIZE);
            opts.set(JAVA_LONG, 8, how.flag); // elem_flags (BPF_ANY)
            int r = (int) bpf.mapUpdateBatch.invokeExact(cap, fd.get(), keys, values, count, opts);
            if (r < 0) {
                int errno = Native.errnoOf(r, cap);
                int done = count.get(JAVA_INT, 0);
                if (batchUnsupported(errno)) {
                    throw Native.fail("bpf_map_update_batch", label, errno); // nothing written
                }
                if (done >= n) {
                    done = 0; // the kernel rejected the batch before writing anything (count untouched)
                }
                throw wrapPartial(updateFailure("bpf_map_update_batch", errno, entries.get(done).key(), null),
                        done, n, entries.get(done).key());
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private BpfException wrapPartial(BpfException e, int done, int total, byte[] key) {
        if (total == 1) {
            return e;
        }
        String note = done + " of " + total + " entries were written before entry " + done + " failed";
        return switch (e) {
            case BpfException.MapFull _, BpfException.IndexOutOfRange _, BpfException.KeyExists _,
                 BpfException.KeyNotFound _ -> updateFailure(e.operation(), e.errno(), key, note);
            default -> new BpfException(e.operation(), label, e.errno(), note, e.log());
        };
    }

    private BpfException updateFailure(String op, int errno, byte[] key, String note) {
        if (errno == Errno.E2BIG && info.type().isArray()) {
            long index = key.length >= 4 ? (key[0] & 0xffL) | (key[1] & 0xffL) << 8 | (key[2] & 0xffL) << 16
                    | (key[3] & 0xffL) << 24 : -1;
            return new BpfException.IndexOutOfRange(op, label, errno, index, maxEntries(), note);
        }
        if (errno == Errno.E2BIG || errno == Errno.ENOSPC) {
            return new BpfException.MapFull(op, label, errno, maxEntries(), note);
        }
        if (errno == Errno.EEXIST) {
            return new BpfException.KeyExists(op, label, ObjectFds.hex(key, 32), note);
        }
        if (errno == Errno.ENOENT) {
            return new BpfException.KeyNotFound(op, label, ObjectFds.hex(key, 32), note);
        }
        return new BpfException(op, label, errno, note, LibbpfLog.capturedText());
    }

    private static boolean batchUnsupported(int errno) {
        return errno == Errno.ENOTSUPP || errno == Errno.EOPNOTSUPP;
    }

    // ------------------------------------------------------------------ pinning

    /** Pins this map at {@code path} on a BPF filesystem ({@code bpf_obj_pin}). */
    public void pin(Path path) {
        ObjectFds.objPin(fd.get(), path, label);
    }

    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return label + " (" + info.type().name().toLowerCase() + ", id " + info.id() + ")";
    }

    // ------------------------------------------------------------------ helpers

    private void checkLength(String what, byte[] bytes, int expected) {
        if (bytes == null) {
            throw new IllegalArgumentException(label + ": " + what + " is null");
        }
        if (bytes.length != expected) {
            throw new IllegalArgumentException(label + ": " + what + " must be " + expected + " bytes, not "
                    + bytes.length);
        }
    }

    private static MemorySegment copy(Arena arena, byte[] bytes) {
        if (bytes.length == 0) {
            return arena.allocate(8, 8);
        }
        return arena.allocateFrom(JAVA_BYTE, bytes);
    }
}
