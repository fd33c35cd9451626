package dev.xps.agent.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A consumer of a {@code BPF_MAP_TYPE_RINGBUF} map, through libbpf's {@code ring_buffer__new/poll/consume/free}
 * with an upcall: each event the kernel program submits reaches {@code handler} as a byte array (a copy), on
 * the thread that calls {@link #poll} or {@link #consume}.
 *
 * <p>If the handler throws, the poll stops after that event (which counts as consumed) and rethrows.
 * {@link #close()} waits for a poll in progress to return (at most its timeout). One thread polls at a time.
 */
public final class RingBuffer implements AutoCloseable {
    private static final MethodHandle SAMPLE;

    static {
        try {
            SAMPLE = MethodHandles.lookup().findVirtual(RingBuffer.class, "sample",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Consumer<byte[]> handler;
    private final Arena arena = Arena.ofShared();
    private final ReentrantLock lock = new ReentrantLock();
    private final String label;
    private MemorySegment rb;
    private RuntimeException handlerFailure;

    private RingBuffer(BpfMap map, Consumer<byte[]> handler) {
        this.handler = handler;
        this.label = map.toString();
    }

    /** Starts consuming {@code map} (which must be a ring buffer); the map handle stays the caller's. */
    public static RingBuffer open(BpfMap map, Consumer<byte[]> handler) {
        if (map.type() != MapType.RINGBUF) {
            throw new IllegalArgumentException(map + " is not a ring buffer");
        }
        RingBuffer r = new RingBuffer(map, handler);
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena call = Arena.ofConfined()) {
            MemorySegment stub = Native.LINKER.upcallStub(SAMPLE.bindTo(r),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG), r.arena);
            MemorySegment opts = call.allocate(8, 8);
            opts.set(JAVA_LONG, 0, 8);
            MemorySegment cap = Native.captureSegment(call);
            MemorySegment p = (MemorySegment) bpf.ringBufferNew.invokeExact(cap, map.fd().get(), stub,
                    MemorySegment.NULL, opts);
            if (p.equals(MemorySegment.NULL)) {
                throw Native.fail("ring_buffer__new", r.label, Native.errno(cap));
            }
            r.rb = p;
            return r;
        } catch (Throwable t) {
            r.arena.close();
            throw Native.rethrow(t);
        }
    }

    /**
     * Waits up to {@code timeout} for events and hands every available one to the handler.
     *
     * @return the number of events handled (0 on timeout)
     */
    public int poll(Duration timeout) {
        return run(true, (int) Math.clamp(timeout.toMillis(), 0, Integer.MAX_VALUE));
    }

    /** Hands every event already available to the handler, without waiting. */
    public int consume() {
        return run(false, 0);
    }

    private int run(boolean poll, int timeoutMs) {
        var bpf = Native.bpf();
        lock.lock();
        try (var log = LibbpfLog.capture(); Arena call = Arena.ofConfined()) {
            if (rb == null) {
                throw new IllegalStateException("ring buffer on " + label + " is closed");
            }
            handlerFailure = null;
            MemorySegment cap = Native.captureSegment(call);
            int r = poll ? (int) bpf.ringBufferPoll.invokeExact(cap, rb, timeoutMs)
                    : (int) bpf.ringBufferConsume.invokeExact(cap, rb);
            if (handlerFailure != null) {
                RuntimeException f = handlerFailure;
                handlerFailure = null;
                throw f;
            }
            if (r < 0) {
                int errno = Native.errnoOf(r, cap);
                if (errno == Errno.EINTR) {
                    return 0;
                }
                throw Native.fail(poll ? "ring_buffer__poll" : "ring_buffer__consume", label, errno);
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            lock.unlock();
        }
    }

    /** The upcall; must not throw. */
    @SuppressWarnings("unused")
    private int sample(MemorySegment ctx, MemorySegment data, long size) {
        try {
            handler.accept(data.reinterpret(size).toArray(JAVA_BYTE));
            return 0;
        } catch (RuntimeException e) {
            handlerFailure = e;
            return -1;
        } catch (Throwable t) {
            handlerFailure = new IllegalStateException("ring buffer handler failed", t);
            return -1;
        }
    }

    /** Frees libbpf's consumer (the map itself is not affected). */
    @Override
    public void close() {
        lock.lock();
        try {
            if (rb != null) {
                try (Arena call = Arena.ofConfined()) {
                    Native.bpf().ringBufferFree.invokeExact(Native.captureSegment(call), rb);
                } catch (Throwable t) {
                    throw Native.rethrow(t);
                } finally {
                    rb = null;
                    arena.close();
                }
            }
        } finally {
            lock.unlock();
        }
    }
}
