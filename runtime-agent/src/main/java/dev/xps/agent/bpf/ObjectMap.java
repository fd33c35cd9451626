package dev.xps.agent.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/** A map inside an open {@link BpfObject} (libbpf's {@code struct bpf_map}); valid while it is open. */
public final class ObjectMap {
    private final BpfObject owner;
    private final MemorySegment map;

    ObjectMap(BpfObject owner, MemorySegment map) {
        this.owner = owner;
        this.map = map;
    }

    public String name() {
        owner.ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            return Native.cString((MemorySegment) Native.bpf().mapName.invokeExact(Native.captureSegment(arena), map));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public MapType type() {
        return MapType.of(intCall(Native.bpf().mapType));
    }

    public int keySize() {
        return intCall(Native.bpf().mapKeySize);
    }

    public int valueSize() {
        return intCall(Native.bpf().mapValueSize);
    }

    public int maxEntries() {
        return intCall(Native.bpf().mapMaxEntries);
    }

    /** libbpf's own maps for global variables ({@code .rodata}, {@code .data}, {@code .bss}, {@code .kconfig}). */
    public boolean isInternal() {
        owner.ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            return (boolean) Native.bpf().mapIsInternal.invokeExact(Native.captureSegment(arena), map);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Before load: overrides the capacity. */
    public void setMaxEntries(int maxEntries) {
        owner.ensureNotLoaded("set_max_entries(" + name() + ")");
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) Native.bpf().mapSetMaxEntries.invokeExact(cap, map, maxEntries);
            Native.check(r, cap, "bpf_map__set_max_entries", name());
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * Before load: makes the object use an existing kernel map (e.g. a pinned one, with its data) instead of
     * creating a new one ({@code bpf_map__reuse_fd}). libbpf duplicates the descriptor; {@code existing}
     * stays the caller's. The load fails if the existing map's type, sizes or flags differ.
     */
    public void reuse(BpfMap existing) {
        owner.ensureNotLoaded("reuse_fd(" + name() + ")");
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) Native.bpf().mapReuseFd.invokeExact(cap, map, existing.fd().get());
            Native.check(r, cap, "bpf_map__reuse_fd", name() + " <- " + existing);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** After load: pins the map at {@code path} ({@code bpf_map__pin}). */
    public void pin(Path path) {
        owner.ensureLoaded("pin(" + name() + ")");
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) Native.bpf().mapPin.invokeExact(cap, map, arena.allocateFrom(path.toString()));
            Native.check(r, cap, "bpf_map__pin", name() + " -> " + path);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Removes the pin ({@code bpf_map__unpin}); null for the path libbpf pinned it at. */
    public void unpin(Path path) {
        owner.ensureOpen();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            MemorySegment p = path == null ? MemorySegment.NULL : arena.allocateFrom(path.toString());
            int r = (int) Native.bpf().mapUnpin.invokeExact(cap, map, p);
            Native.check(r, cap, "bpf_map__unpin", name() + (path == null ? "" : " -> " + path));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** After load: libbpf's descriptor (owned by the object). */
    public int fd() {
        owner.ensureLoaded("fd(" + name() + ")");
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) Native.bpf().mapFd.invokeExact(cap, map);
            return Native.check(r, cap, "bpf_map__fd", name());
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** After load: an independent handle (a duplicated descriptor; close it yourself). */
    public BpfMap handle() {
        return new BpfMap(Fd.duplicate(fd(), "map " + name()));
    }

    private int intCall(java.lang.invoke.MethodHandle h) {
        owner.ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            return (int) h.invokeExact(Native.captureSegment(arena), map);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    @Override
    public String toString() {
        return "map '" + name() + "' in " + owner;
    }
}
