package dev.xps.agent.bpf;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/** Shared plumbing for BPF object descriptors: pinning, opening pins and ids, info, kind. */
final class ObjectFds {
    private ObjectFds() {}

    /** What a BPF file descriptor refers to. */
    enum Kind { MAP, PROGRAM, LINK, OTHER }

    /**
     * From the descriptor's anonymous inode name ({@code /proc/self/fd/N -> anon_inode:bpf-map}, {@code
     * bpf-prog}, {@code bpf_link}; some kernels bracket the name).
     */
    static Kind kindOf(int fd) {
        return kindOfTarget(fdTarget(fd));
    }

    static String fdTarget(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            return "";
        }
    }

    static Kind kindOfTarget(String target) {
        if (!target.startsWith("anon_inode:")) {
            return Kind.OTHER;
        }
        String name = target.substring("anon_inode:".length()).replace("[", "").replace("]", "");
        return switch (name) {
            case "bpf-map" -> Kind.MAP;
            case "bpf-prog" -> Kind.PROGRAM;
            case "bpf_link", "bpf-link" -> Kind.LINK;
            default -> Kind.OTHER;
        };
    }

    /** {@code bpf_obj_get(path)}: an owned descriptor for a pinned object, checked to be of {@code kind}. */
    static Fd objGet(Path path, Kind kind) {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int fd = (int) bpf.objGet.invokeExact(cap, arena.allocateFrom(path.toString()));
            Native.check(fd, cap, "bpf_obj_get", path.toString());
            String target = fdTarget(fd);
            Kind actual = kindOfTarget(target);
            if (actual != kind) {
                Native.Libc.close(fd);
                throw new BpfException("bpf_obj_get", path.toString(), Errno.EINVAL,
                        "pinned object is " + (actual == Kind.OTHER ? "'" + target + "'" : "a "
                                + actual.name().toLowerCase()) + ", not a " + kind.name().toLowerCase(), "");
            }
            return Fd.adopt(fd, kind.name().toLowerCase() + " " + path);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code bpf_obj_pin(fd, path)}. */
    static void objPin(int fd, Path path, String what) {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) bpf.objPin.invokeExact(cap, fd, arena.allocateFrom(path.toString()));
            Native.check(r, cap, "bpf_obj_pin", what + " -> " + path);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** {@code bpf_{prog,map,link}_get_fd_by_id}. */
    static Fd fromId(Kind kind, int id) {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int fd = switch (kind) {
                case MAP -> (int) bpf.mapGetFdById.invokeExact(cap, id);
                case PROGRAM -> (int) bpf.progGetFdById.invokeExact(cap, id);
                case LINK -> (int) bpf.linkGetFdById.invokeExact(cap, id);
                case OTHER -> throw new IllegalArgumentException("kind");
            };
            String op = switch (kind) {
                case MAP -> "bpf_map_get_fd_by_id";
                case PROGRAM -> "bpf_prog_get_fd_by_id";
                default -> "bpf_link_get_fd_by_id";
            };
            Native.check(fd, cap, op, Integer.toString(id));
            return Fd.adopt(fd, kind.name().toLowerCase() + " id " + id);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** True when the kernel still has an object of that kind with that id. */
    static boolean idExists(Kind kind, int id) {
        try (Fd fd = fromId(kind, id)) {
            return true;
        } catch (BpfException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            throw e;
        }
    }

    /** {@code bpf_obj_get_info_by_fd} into a zeroed buffer of {@code size} bytes (allocated in {@code arena}). */
    static MemorySegment info(int fd, int size, Arena arena, String what) {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture()) {
            MemorySegment cap = Native.captureSegment(arena);
            MemorySegment buf = arena.allocate(size, 8);
            MemorySegment len = arena.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, size);
            int r = (int) bpf.objGetInfoByFd.invokeExact(cap, fd, buf, len);
            Native.check(r, cap, "bpf_obj_get_info_by_fd", what);
            return buf;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    static String cName(MemorySegment buf, long offset, int maxLen) {
        byte[] bytes = buf.asSlice(offset, maxLen).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        int n = 0;
        while (n < bytes.length && bytes[n] != 0) {
            n++;
        }
        return new String(bytes, 0, n, java.nio.charset.StandardCharsets.UTF_8);
    }

    static String hex(byte[] bytes, int max) {
        StringBuilder sb = new StringBuilder();
        int n = Math.min(bytes.length, max);
        for (int i = 0; i < n; i++) {
            sb.append(String.format("%02x", bytes[i] & 0xff));
        }
        if (bytes.length > max) {
            sb.append("...");
        }
        return sb.toString();
    }
}
