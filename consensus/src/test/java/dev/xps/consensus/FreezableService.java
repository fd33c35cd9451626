package dev.xps.consensus;

import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Wraps a service; once {@link #freeze()}d, its next {@code execute} hangs (a dead host service) until released. */
final class FreezableService<S extends RecoverableService> implements RecoverableService {
    final S inner;
    private volatile boolean frozen;
    private final CountDownLatch release = new CountDownLatch(1);

    FreezableService(S inner) {
        this.inner = inner;
    }

    void freeze() {
        frozen = true;
    }

    /** Lets a hung call return (bounded in any case), so the abandoned thread ends. */
    void release() {
        release.countDown();
    }

    @Override
    public byte[] execute(long op, InetSocketAddress client, byte[] request) {
        if (frozen) {
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return inner.execute(op, client, request);
    }

    @Override
    public byte[] snapshot() {
        return inner.snapshot();
    }

    @Override
    public void restore(byte[] snapshot) {
        inner.restore(snapshot);
    }
}
