package dev.xps.agent.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The raw downcalls: libbpf 1.1's stable API and the few libc functions the agent needs, through
 * {@code java.lang.foreign}. Every downcall captures {@code errno}; callers turn a failure into a
 * {@link BpfException} with {@link #fail}. Nothing outside this package sees a {@link MethodHandle} or a raw
 * pointer: the public classes ({@link BpfObject}, {@link BpfMap}, {@link BpfProgram}, {@link BpfLink},
 * {@link RingBuffer}) are the typed binding.
 *
 * <p>libbpf is looked up once, lazily, as {@code libbpf.so.1} (the soname of every libbpf 1.x), or from the
 * path in the system property {@code xps.libbpf}. If it cannot be loaded, every use throws
 * {@link PreflightException.LibbpfMissing}.
 */
final class Native {
    static final Linker LINKER = Linker.nativeLinker();
    static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /** The soname the agent binds to. */
    static final String LIBBPF_SONAME = "libbpf.so.1";
    /** Where Debian and most distributions install it, for the preflight message. */
    static final List<Path> LIBBPF_USUAL_PATHS = List.of(
            Path.of("/usr/lib/x86_64-linux-gnu/libbpf.so.1"),
            Path.of("/usr/lib/aarch64-linux-gnu/libbpf.so.1"),
            Path.of("/usr/lib64/libbpf.so.1"),
            Path.of("/usr/lib/libbpf.so.1"));

    private Native() {}

    // ------------------------------------------------------------------ errno and failures

    /** A segment to receive errno for one downcall. */
    static MemorySegment captureSegment(Arena arena) {
        return arena.allocate(CAPTURE_LAYOUT);
    }

    static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    /**
     * The errno of a failed call: libbpf 1.x returns {@code -errno} and also sets errno; the libc functions
     * return -1 and set errno.
     */
    static int errnoOf(int ret, MemorySegment capture) {
        if (ret < -1) {
            return -ret;
        }
        int e = errno(capture);
        return e != 0 ? e : (ret < 0 ? -ret : Errno.EINVAL);
    }

    /** Throws a {@link BpfException} for {@code ret < 0}, with the libbpf log captured on this thread. */
    static int check(int ret, MemorySegment capture, String operation, String subject) {
        if (ret >= 0) {
            return ret;
        }
        throw fail(operation, subject, errnoOf(ret, capture));
    }

    static BpfException fail(String operation, String subject, int errno) {
        return BpfException.of(operation, subject, errno, LibbpfLog.capturedText());
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call failed", t);
    }

    // ------------------------------------------------------------------ libc

    static final class Libc {
        private static final SymbolLookup LOOKUP = LINKER.defaultLookup();

        static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle FCNTL_INT = libc("fcntl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
        static final MethodHandle OPEN = libc("open",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
        static final MethodHandle IF_NAMETOINDEX = libc("if_nametoindex", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle STATFS = libc("statfs", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle MOUNT = libc("mount",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
        static final MethodHandle UMOUNT2 = libc("umount2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle SETNS = libc("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle GETEUID = libc("geteuid", FunctionDescriptor.of(JAVA_INT));
        /** Not capturing: called from the libbpf print upcall. */
        static final MethodHandle VSNPRINTF = LINKER.downcallHandle(
                LOOKUP.find("vsnprintf").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));

        static final int F_DUPFD_CLOEXEC = 1030;
        static final int O_RDONLY = 0;
        static final int O_DIRECTORY = 0x10000;
        static final int O_CLOEXEC = 0x80000;
        static final int CLONE_NEWNET = 0x40000000;
        static final int MNT_DETACH = 2;

        private Libc() {}

        private static MethodHandle libc(String name, FunctionDescriptor fd, Linker.Option... extra) {
            Linker.Option[] options = new Linker.Option[extra.length + 1];
            options[0] = CAPTURE_ERRNO;
            System.arraycopy(extra, 0, options, 1, extra.length);
            return LINKER.downcallHandle(LOOKUP.find(name).orElseThrow(), fd, options);
        }

        static int close(int fd) {
            try (Arena arena = Arena.ofConfined()) {
                return (int) CLOSE.invokeExact(captureSegment(arena), fd);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        /** {@code fcntl(fd, F_DUPFD_CLOEXEC, 0)}. */
        static int dupCloexec(int fd, String what) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment cap = captureSegment(arena);
                int r = (int) FCNTL_INT.invokeExact(cap, fd, F_DUPFD_CLOEXEC, 0);
                return check(r, cap, "fcntl(F_DUPFD_CLOEXEC)", what);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        static int open(Path path, int flags) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment cap = captureSegment(arena);
                int r = (int) OPEN.invokeExact(cap, arena.allocateFrom(path.toString()), flags | O_CLOEXEC, 0);
                return check(r, cap, "open", path.toString());
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        /** 0 when there is no such interface in the calling thread's network namespace. */
        static int ifNameToIndex(String name) {
            try (Arena arena = Arena.ofConfined()) {
                return (int) IF_NAMETOINDEX.invokeExact(captureSegment(arena), arena.allocateFrom(name));
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        /** {@code statfs(path).f_type}, or {@code -errno}. */
        static long statfsType(Path path) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment cap = captureSegment(arena);
                MemorySegment buf = arena.allocate(256, 8);
                int r = (int) STATFS.invokeExact(cap, arena.allocateFrom(path.toString()), buf);
                if (r != 0) {
                    return -errnoOf(r, cap);
                }
                return buf.get(JAVA_LONG, 0) & 0xFFFF_FFFFL;
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        static void mount(String source, Path target, String fsType) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment cap = captureSegment(arena);
                int r = (int) MOUNT.invokeExact(cap, arena.allocateFrom(source), arena.allocateFrom(target.toString()),
                        arena.allocateFrom(fsType), 0L, MemorySegment.NULL);
                check(r, cap, "mount -t " + fsType, target.toString());
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        static void umount(Path target) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment cap = captureSegment(arena);
                int r = (int) UMOUNT2.invokeExact(cap, arena.allocateFrom(target.toString()), MNT_DETACH);
                check(r, cap, "umount2", target.toString());
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        static void setns(int fd, int nstype, String what) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment cap = captureSegment(arena);
                int r = (int) SETNS.invokeExact(cap, fd, nstype);
                check(r, cap, "setns", what);
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }

        static int geteuid() {
            try (Arena arena = Arena.ofConfined()) {
                return (int) GETEUID.invokeExact(captureSegment(arena));
            } catch (Throwable t) {
                throw rethrow(t);
            }
        }
    }

    // ------------------------------------------------------------------ libbpf

    private static volatile Libbpf libbpf;
    private static volatile PreflightException.LibbpfMissing libbpfMissing;

    /** The bound libbpf, loading it on first use. */
    static Libbpf bpf() {
        Libbpf l = libbpf;
        if (l != null) {
            return l;
        }
        synchronized (Native.class) {
            if (libbpf != null) {
                return libbpf;
            }
            if (libbpfMissing != null) {
                throw libbpfMissing;
            }
            String name = System.getProperty("xps.libbpf", LIBBPF_SONAME);
            try {
                SymbolLookup lookup = SymbolLookup.libraryLookup(name, Arena.global());
                libbpf = new Libbpf(lookup, name);
            } catch (IllegalArgumentException | IllegalStateException e) {
                libbpfMissing = new PreflightException.LibbpfMissing(name, describeLibbpfSearch(name, e));
                throw libbpfMissing;
            }
            LibbpfLog.install(libbpf);
            return libbpf;
        }
    }

    private static String describeLibbpfSearch(String name, Exception cause) {
        StringBuilder sb = new StringBuilder();
        sb.append("cannot load ").append(name).append(" (").append(cause.getMessage()).append(")");
        for (Path p : LIBBPF_USUAL_PATHS) {
            if (Files.exists(p)) {
                sb.append("; note: ").append(p).append(" exists");
            }
        }
        return sb.toString();
    }

    /** libbpf's functions as method handles; each takes the errno capture segment first. */
    static final class Libbpf {
        final String libraryName;
        private final SymbolLookup lookup;

        // libbpf.h: objects, programs, maps
        final MethodHandle objectOpenFile;
        final MethodHandle objectLoad;
        final MethodHandle objectClose;
        final MethodHandle objectName;
        final MethodHandle objectFindProgramByName;
        final MethodHandle objectFindMapByName;
        final MethodHandle objectNextProgram;
        final MethodHandle objectNextMap;
        final MethodHandle programName;
        final MethodHandle programSectionName;
        final MethodHandle programType;
        final MethodHandle programExpectedAttachType;
        final MethodHandle programSetAutoload;
        final MethodHandle programFd;
        final MethodHandle programPin;
        final MethodHandle programUnpin;
        final MethodHandle mapFd;
        final MethodHandle mapName;
        final MethodHandle mapType;
        final MethodHandle mapKeySize;
        final MethodHandle mapValueSize;
        final MethodHandle mapMaxEntries;
        final MethodHandle mapSetMaxEntries;
        final MethodHandle mapReuseFd;
        final MethodHandle mapIsInternal;
        final MethodHandle mapPin;
        final MethodHandle mapUnpin;
        final MethodHandle setPrint;
        final MethodHandle numPossibleCpus;
        // ring buffer
        final MethodHandle ringBufferNew;
        final MethodHandle ringBufferPoll;
        final MethodHandle ringBufferConsume;
        final MethodHandle ringBufferFree;
        // XDP (netlink, legacy attachment)
        final MethodHandle xdpAttach;
        final MethodHandle xdpDetach;
        final MethodHandle xdpQuery;
        // bpf.h: the syscall wrappers
        final MethodHandle mapUpdateElem;
        final MethodHandle mapLookupElem;
        final MethodHandle mapDeleteElem;
        final MethodHandle mapGetNextKey;
        final MethodHandle mapLookupBatch;
        final MethodHandle mapUpdateBatch;
        final MethodHandle objPin;
        final MethodHandle objGet;
        final MethodHandle progAttach;
        final MethodHandle progDetach2;
        final MethodHandle linkCreate;
        final MethodHandle linkDetach;
        final MethodHandle linkUpdate;
        final MethodHandle progGetFdById;
        final MethodHandle mapGetFdById;
        final MethodHandle linkGetFdById;
        final MethodHandle objGetInfoByFd;
        final MethodHandle progQuery;
        final MethodHandle enableStats;
        final MethodHandle progTestRunOpts;

        private Libbpf(SymbolLookup lookup, String libraryName) {
            this.lookup = lookup;
            this.libraryName = libraryName;
            objectOpenFile = fn("bpf_object__open_file", ADDRESS, ADDRESS, ADDRESS);
            objectLoad = fn("bpf_object__load", JAVA_INT, ADDRESS);
            objectClose = fnVoid("bpf_object__close", ADDRESS);
            objectName = fn("bpf_object__name", ADDRESS, ADDRESS);
            objectFindProgramByName = fn("bpf_object__find_program_by_name", ADDRESS, ADDRESS, ADDRESS);
            objectFindMapByName = fn("bpf_object__find_map_by_name", ADDRESS, ADDRESS, ADDRESS);
            objectNextProgram = fn("bpf_object__next_program", ADDRESS, ADDRESS, ADDRESS);
            objectNextMap = fn("bpf_object__next_map", ADDRESS, ADDRESS, ADDRESS);
            programName = fn("bpf_program__name", ADDRESS, ADDRESS);
            programSectionName = fn("bpf_program__section_name", ADDRESS, ADDRESS);
            programType = fn("bpf_program__type", JAVA_INT, ADDRESS);
            programExpectedAttachType = fn("bpf_program__expected_attach_type", JAVA_INT, ADDRESS);
            programSetAutoload = fn("bpf_program__set_autoload", JAVA_INT, ADDRESS, JAVA_BOOLEAN);
            programFd = fn("bpf_program__fd", JAVA_INT, ADDRESS);
            programPin = fn("bpf_program__pin", JAVA_INT, ADDRESS, ADDRESS);
            programUnpin = fn("bpf_program__unpin", JAVA_INT, ADDRESS, ADDRESS);
            mapFd = fn("bpf_map__fd", JAVA_INT, ADDRESS);
            mapName = fn("bpf_map__name", ADDRESS, ADDRESS);
            mapType = fn("bpf_map__type", JAVA_INT, ADDRESS);
            mapKeySize = fn("bpf_map__key_size", JAVA_INT, ADDRESS);
            mapValueSize = fn("bpf_map__value_size", JAVA_INT, ADDRESS);
            mapMaxEntries = fn("bpf_map__max_entries", JAVA_INT, ADDRESS);
            mapSetMaxEntries = fn("bpf_map__set_max_entries", JAVA_INT, ADDRESS, JAVA_INT);
            mapReuseFd = fn("bpf_map__reuse_fd", JAVA_INT, ADDRESS, JAVA_INT);
            mapIsInternal = fn("bpf_map__is_internal", JAVA_BOOLEAN, ADDRESS);
            mapPin = fn("bpf_map__pin", JAVA_INT, ADDRESS, ADDRESS);
            mapUnpin = fn("bpf_map__unpin", JAVA_INT, ADDRESS, ADDRESS);
            setPrint = LINKER.downcallHandle(find("libbpf_set_print"), FunctionDescriptor.of(ADDRESS, ADDRESS));
            numPossibleCpus = fn("libbpf_num_possible_cpus", JAVA_INT);
            ringBufferNew = fn("ring_buffer__new", ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
            ringBufferPoll = fn("ring_buffer__poll", JAVA_INT, ADDRESS, JAVA_INT);
            ringBufferConsume = fn("ring_buffer__consume", JAVA_INT, ADDRESS);
            ringBufferFree = fnVoid("ring_buffer__free", ADDRESS);
            xdpAttach = fn("bpf_xdp_attach", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
            xdpDetach = fn("bpf_xdp_detach", JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
            xdpQuery = fn("bpf_xdp_query", JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
            mapUpdateElem = fn("bpf_map_update_elem", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG);
            mapLookupElem = fn("bpf_map_lookup_elem", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
            mapDeleteElem = fn("bpf_map_delete_elem", JAVA_INT, JAVA_INT, ADDRESS);
            mapGetNextKey = fn("bpf_map_get_next_key", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
            mapLookupBatch = fn("bpf_map_lookup_batch", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                    ADDRESS, ADDRESS);
            mapUpdateBatch = fn("bpf_map_update_batch", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
            objPin = fn("bpf_obj_pin", JAVA_INT, JAVA_INT, ADDRESS);
            objGet = fn("bpf_obj_get", JAVA_INT, ADDRESS);
            progAttach = fn("bpf_prog_attach", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
            progDetach2 = fn("bpf_prog_detach2", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
            linkCreate = fn("bpf_link_create", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
            linkDetach = fn("bpf_link_detach", JAVA_INT, JAVA_INT);
            linkUpdate = fn("bpf_link_update", JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
            progGetFdById = fn("bpf_prog_get_fd_by_id", JAVA_INT, JAVA_INT);
            mapGetFdById = fn("bpf_map_get_fd_by_id", JAVA_INT, JAVA_INT);
            linkGetFdById = fn("bpf_link_get_fd_by_id", JAVA_INT, JAVA_INT);
            objGetInfoByFd = fn("bpf_obj_get_info_by_fd", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
            progQuery = fn("bpf_prog_query", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
            enableStats = fn("bpf_enable_stats", JAVA_INT, JAVA_INT);
            progTestRunOpts = fn("bpf_prog_test_run_opts", JAVA_INT, JAVA_INT, ADDRESS);
        }

        private MemorySegment find(String name) {
            return lookup.find(name).orElseThrow(() -> new PreflightException.LibbpfMissing(libraryName,
                    libraryName + " has no symbol " + name + ": the agent needs libbpf 1.1 or newer"));
        }

        private MethodHandle fn(String name, MemoryLayout ret, MemoryLayout... args) {
            return LINKER.downcallHandle(find(name), FunctionDescriptor.of(ret, args), CAPTURE_ERRNO);
        }

        private MethodHandle fnVoid(String name, MemoryLayout... args) {
            return LINKER.downcallHandle(find(name), FunctionDescriptor.ofVoid(args), CAPTURE_ERRNO);
        }
    }

    /** Reads a NUL-terminated C string (null for NULL). */
    static String cString(MemorySegment p) {
        if (p == null || p.equals(MemorySegment.NULL)) {
            return null;
        }
        return p.reinterpret(Integer.MAX_VALUE).getString(0);
    }
}
