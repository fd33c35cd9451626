package dev.xps.agent.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/** A program inside an open {@link BpfObject} (libbpf's {@code struct bpf_program}); valid while it is open. */
public final class ObjectProgram {
    private final BpfObject owner;
    private final MemorySegment prog;

    ObjectProgram(BpfObject owner, MemorySegment prog) {
        this.owner = owner;
        this.prog = prog;
    }

    /** The C function's name. */
    public String name() {
        owner.ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            return Native.cString((MemorySegment) Native.bpf().programName.invokeExact(Native.captureSegment(arena), prog));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The ELF section, e.g. {@code sk_skb/stream_verdict}, {@code sockops}, {@code xdp}. */
    public String sectionName() {
        owner.ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            return Native.cString(
                    (MemorySegment) Native.bpf().programSectionName.invokeExact(Native.captureSegment(arena), prog));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The program type libbpf derived from the section. */
    public ProgramType type() {
        owner.ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            return ProgramType.of((int) Native.bpf().programType.invokeExact(Native.captureSegment(arena), prog));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The attach type libbpf derived from the section, or null if it is not one this binding names. */
    public AttachType expectedAttachType() {
        owner.ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            return AttachType.ofValue(
                    (int) Native.bpf().programExpectedAttachType.invokeExact(Native.captureSegment(arena), prog));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Before load: whether {@link BpfObject#load()} loads this program (default true). */
    public void setAutoload(boolean autoload) {
        owner.ensureNotLoaded("set_autoload(" + name() + ")");
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) Native.bpf().programSetAutoload.invokeExact(cap, prog, autoload);
            Native.check(r, cap, "bpf_program__set_autoload", name());
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** After load: pins the program at {@code path} ({@code bpf_program__pin}). */
    public void pin(Path path) {
        owner.ensureLoaded("pin(" + name() + ")");
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) Native.bpf().programPin.invokeExact(cap, prog, arena.allocateFrom(path.toString()));
            Native.check(r, cap, "bpf_program__pin", name() + " -> " + path);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Removes a pin made by {@link #pin} ({@code bpf_program__unpin}). */
    public void unpin(Path path) {
        owner.ensureLoaded("unpin(" + name() + ")");
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) Native.bpf().programUnpin.invokeExact(cap, prog, arena.allocateFrom(path.toString()));
            Native.check(r, cap, "bpf_program__unpin", name() + " -> " + path);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** After load: libbpf's descriptor (owned by the object). */
    public int fd() {
        owner.ensureLoaded("fd(" + name() + ")");
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) Native.bpf().programFd.invokeExact(cap, prog);
            return Native.check(r, cap, "bpf_program__fd", name());
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** After load: an independent handle (a duplicated descriptor; close it yourself). */
    public BpfProgram handle() {
        return new BpfProgram(Fd.duplicate(fd(), "program " + name()));
    }

    @Override
    public String toString() {
        return "program '" + name() + "' in " + owner;
    }
}
