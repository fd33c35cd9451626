package dev.xps.agent.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * A BPF ELF object file ({@code <base>.bpf.o}) opened with libbpf: its programs and maps, configured before
 * {@link #load()}, then loaded into the kernel.
 *
 * <pre>{@code
 * try (BpfObject obj = BpfObject.open(Path.of("redis.bpf.o"))) {
 *     obj.map("cache").reuse(pinnedCache);          // optional: keep data from an earlier load
 *     obj.load();                                  // BpfException with the verifier log on rejection
 *     try (BpfProgram verdict = obj.program("get_verdict").handle()) { ... }
 * }
 * }</pre>
 *
 * <p>Handles taken with {@link ObjectProgram#handle()} / {@link ObjectMap#handle()} own duplicated
 * descriptors and stay valid after the object is closed; closing the object releases libbpf's own
 * descriptors (a program or map nobody pinned, attached or holds then disappears from the kernel). Not
 * thread-safe.
 */
public final class BpfObject implements AutoCloseable {
    static final int OPEN_OPTS_SIZE = 80;
    static final int OPEN_OPTS_OBJECT_NAME = 8;
    static final int OPEN_OPTS_PIN_ROOT_PATH = 24;

    private final MemorySegment obj;
    private final String fileName;
    private boolean loaded;
    private boolean closed;

    private BpfObject(MemorySegment obj, String fileName) {
        this.obj = obj;
        this.fileName = fileName;
    }

    /** Opens (parses, does not load) an object file. */
    public static BpfObject open(Path file) {
        return open(file, null, null);
    }

    /**
     * Opens an object file.
     *
     * @param objectName overrides the object's name (libbpf derives it from the file name), or null
     * @param pinRoot directory where maps declared with {@code __uint(pinning, LIBBPF_PIN_BY_NAME)} are
     *                pinned and reused from, or null for libbpf's default ({@code /sys/fs/bpf})
     */
    public static BpfObject open(Path file, String objectName, Path pinRoot) {
        var bpf = Native.bpf();
        String shortName = file.getFileName() == null ? file.toString() : file.getFileName().toString();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            MemorySegment opts = arena.allocate(OPEN_OPTS_SIZE, 8);
            opts.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, OPEN_OPTS_SIZE);
            if (objectName != null) {
                opts.set(java.lang.foreign.ValueLayout.ADDRESS, OPEN_OPTS_OBJECT_NAME, arena.allocateFrom(objectName));
            }
            if (pinRoot != null) {
                opts.set(java.lang.foreign.ValueLayout.ADDRESS, OPEN_OPTS_PIN_ROOT_PATH,
                        arena.allocateFrom(pinRoot.toString()));
            }
            MemorySegment p = (MemorySegment) bpf.objectOpenFile.invokeExact(cap,
                    arena.allocateFrom(file.toString()), opts);
            if (p.equals(MemorySegment.NULL)) {
                throw Native.fail("bpf_object__open_file", shortName, Native.errno(cap));
            }
            return new BpfObject(p, shortName);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The object's name (libbpf's: the file name without {@code .o}/{@code .bpf.o}, or the override). */
    public String name() {
        ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            return Native.cString((MemorySegment) Native.bpf().objectName.invokeExact(Native.captureSegment(arena), obj));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The file name, as used in error messages. */
    public String fileName() {
        return fileName;
    }

    public boolean isLoaded() {
        return loaded;
    }

    /**
     * Loads every map and program into the kernel ({@code bpf_object__load}). On failure the
     * {@link BpfException} carries libbpf's log, including the kernel verifier's log for a rejected program
     * ({@link BpfException#verifierLog()}).
     */
    public void load() {
        ensureOpen();
        if (loaded) {
            throw new IllegalStateException(fileName + " is already loaded");
        }
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) bpf.objectLoad.invokeExact(cap, obj);
            Native.check(r, cap, "bpf_object__load", fileName);
            loaded = true;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The programs, in the object's order. */
    public List<ObjectProgram> programs() {
        ensureOpen();
        List<ObjectProgram> out = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            MemorySegment p = MemorySegment.NULL;
            for (int i = 0; i < 10_000; i++) {
                p = (MemorySegment) Native.bpf().objectNextProgram.invokeExact(cap, obj, p);
                if (p.equals(MemorySegment.NULL)) {
                    break;
                }
                out.add(new ObjectProgram(this, p));
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        return out;
    }

    /** The maps (including libbpf's internal {@code .rodata}/{@code .bss}/{@code .data} maps), in order. */
    public List<ObjectMap> maps() {
        ensureOpen();
        List<ObjectMap> out = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            MemorySegment m = MemorySegment.NULL;
            for (int i = 0; i < 10_000; i++) {
                m = (MemorySegment) Native.bpf().objectNextMap.invokeExact(cap, obj, m);
                if (m.equals(MemorySegment.NULL)) {
                    break;
                }
                out.add(new ObjectMap(this, m));
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        return out;
    }

    /** The program with this (C function) name. */
    public ObjectProgram program(String name) {
        ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = (MemorySegment) Native.bpf().objectFindProgramByName.invokeExact(
                    Native.captureSegment(arena), obj, arena.allocateFrom(name));
            if (p.equals(MemorySegment.NULL)) {
                throw new NoSuchElementException("no program '" + name + "' in " + fileName + " (it has: "
                        + String.join(", ", programs().stream().map(ObjectProgram::name).toList()) + ")");
            }
            return new ObjectProgram(this, p);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The map with this name. */
    public ObjectMap map(String name) {
        ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = (MemorySegment) Native.bpf().objectFindMapByName.invokeExact(
                    Native.captureSegment(arena), obj, arena.allocateFrom(name));
            if (m.equals(MemorySegment.NULL)) {
                throw new NoSuchElementException("no map '" + name + "' in " + fileName + " (it has: "
                        + String.join(", ", maps().stream().map(ObjectMap::name).toList()) + ")");
            }
            return new ObjectMap(this, m);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(fileName + " is closed");
        }
    }

    void ensureLoaded(String what) {
        ensureOpen();
        if (!loaded) {
            throw new IllegalStateException(what + ": " + fileName + " is not loaded yet");
        }
    }

    void ensureNotLoaded(String what) {
        ensureOpen();
        if (loaded) {
            throw new IllegalStateException(what + ": " + fileName + " is already loaded");
        }
    }

    /** {@code bpf_object__close}: frees libbpf's state and its descriptors. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (Arena arena = Arena.ofConfined()) {
            Native.bpf().objectClose.invokeExact(Native.captureSegment(arena), obj);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    @Override
    public String toString() {
        return fileName;
    }
}
