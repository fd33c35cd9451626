package dev.xps.agent.consensus;

import dev.xps.consensus.RecoverableService;
import dev.xps.consensus.RecoveryReport;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Automatic host-service recovery on one member's data plane (docs/consensus.md, "Automatic recovery"): it keeps a
 * recent checkpoint of the service ({@link ConsensusDataPlane#checkpoint()} every {@code checkpointEvery}) and
 * restarts the service from it with {@link ConsensusDataPlane#recoverService} when
 * <ul>
 *   <li>the data plane reports a host failure (the leader's detector: the service stopped answering), or
 *   <li>delivery is stuck behind the log: the member has committed entries it has not delivered and the log no
 *       longer holds the next one (the ring lapped it: the service fell more than the log's capacity behind, which
 *       a replica's data plane does not prevent), seen on two checks in a row with no progress in between; or
 *   <li>with a stall limit: delivery made no progress for that long while committed entries wait (a replica's hung
 *       service, which no data plane detects — replicas measure no RTT — caught before the log laps it).
 * </ul>
 * The fresh service comes from {@code factory} and is restored from the last checkpoint (none yet: an empty service
 * from op 0); what the log lost comes from another member by state transfer. A recovery that fails is retried at the
 * next check. One thread; {@link #close()} stops it (it does not close the data plane).
 */
public final class ServiceSupervisor implements AutoCloseable {
    private final ConsensusDataPlane plane;
    private final Supplier<? extends RecoverableService> factory;
    private final Duration checkpointEvery;
    private final Duration recoveryLimit;
    private final Duration stallLimit;
    private long stallApplied = -1;
    private long stallSinceNs;
    private final Thread thread;
    private final AtomicReference<String> trigger = new AtomicReference<>();
    private final AtomicReference<ConsensusDataPlane.Checkpoint> lastCheckpoint = new AtomicReference<>();
    private final List<BiConsumer<RecoverableService, RecoveryReport>> listeners = new CopyOnWriteArrayList<>();
    private final List<RecoveryReport> reports = new CopyOnWriteArrayList<>();
    private final AtomicLong failedRecoveries = new AtomicLong();
    private volatile boolean running = true;
    private long stuckAt = -1;

    /**
     * Starts supervising {@code plane} (already {@link ConsensusDataPlane#start started} with a
     * {@link RecoverableService}).
     *
     * @param factory         a new, empty instance of the service (restored here from the checkpoint)
     * @param checkpointEvery how often a checkpoint is taken (and how often delivery is checked)
     * @param recoveryLimit   the bound given to each {@link ConsensusDataPlane#recoverService}
     */
    public ServiceSupervisor(ConsensusDataPlane plane, Supplier<? extends RecoverableService> factory,
                             Duration checkpointEvery, Duration recoveryLimit) {
        this(plane, factory, checkpointEvery, recoveryLimit, Duration.ZERO);
    }

    /**
     * As above, and also recovering when delivery makes no progress for {@code stallLimit} while committed entries
     * wait ({@link Duration#ZERO}: off). Choose it above the longest an entry may take to execute.
     */
    public ServiceSupervisor(ConsensusDataPlane plane, Supplier<? extends RecoverableService> factory,
                             Duration checkpointEvery, Duration recoveryLimit, Duration stallLimit) {
        this.stallLimit = Objects.requireNonNull(stallLimit);
        if (stallLimit.isNegative()) {
            throw new IllegalArgumentException("stall limit must be >= 0");
        }
        this.plane = Objects.requireNonNull(plane);
        this.factory = Objects.requireNonNull(factory);
        this.checkpointEvery = Objects.requireNonNull(checkpointEvery);
        this.recoveryLimit = Objects.requireNonNull(recoveryLimit);
        if (checkpointEvery.toMillis() < 1) {
            throw new IllegalArgumentException("checkpoint period must be >= 1 ms");
        }
        plane.onHostFailure(f -> request("host failure at op " + f.op()));
        this.thread = Thread.ofPlatform().daemon().name("xps-vr-supervisor-" + plane.block().name()).start(this::loop);
    }

    /** Called after each recovery with the fresh service (now the one delivery calls) and the report. */
    public void onRecovery(BiConsumer<RecoverableService, RecoveryReport> listener) {
        listeners.add(listener);
    }

    /** The recoveries this supervisor ran, in order. */
    public List<RecoveryReport> reports() {
        return List.copyOf(reports);
    }

    /** Recoveries that threw (retried at the next check). */
    public long failedRecoveries() {
        return failedRecoveries.get();
    }

    /** The last checkpoint taken, or null. */
    public ConsensusDataPlane.Checkpoint lastCheckpoint() {
        return lastCheckpoint.get();
    }

    /** Asks for a recovery at the next check (as a detected failure does). */
    public void request(String why) {
        trigger.compareAndSet(null, why);
        LockSupport.unpark(thread);
    }

    private void loop() {
        long periodNs = checkpointEvery.toNanos();
        long nextCheckpoint = System.nanoTime();
        while (running) {
            try {
                String why = trigger.getAndSet(null);
                if (why == null) {
                    why = stuckBehindTheLog();
                }
                if (why == null) {
                    why = stalled();
                }
                if (why != null) {
                    recover(why);
                } else if (System.nanoTime() >= nextCheckpoint) {
                    takeCheckpoint(periodNs);
                    nextCheckpoint = System.nanoTime() + periodNs;
                }
            } catch (RuntimeException e) {
                if (running) {
                    System.err.println("consensus " + plane.block().name() + ": supervisor: " + e);
                }
            }
            LockSupport.parkNanos(Math.min(periodNs, 50_000_000L));
        }
    }

    /** A reason when delivery waits for an entry the log no longer holds (twice in a row at the same op). */
    private String stuckBehindTheLog() {
        long applied = plane.applied();
        long commit = plane.status().commit();
        if (applied >= commit || !plane.getNicLog(applied + 1, applied + 1).isEmpty()) {
            stuckAt = -1;
            return null;
        }
        if (stuckAt != applied) {
            stuckAt = applied; // seen once: the deliverer may be about to move on
            return null;
        }
        stuckAt = -1;
        return "delivery stuck at op " + applied + " of " + commit + ": the log no longer holds op " + (applied + 1);
    }

    /** A reason when delivery has been at the same op for the stall limit with committed entries waiting. */
    private String stalled() {
        if (stallLimit.isZero()) {
            return null;
        }
        long applied = plane.applied();
        long commit = plane.status().commit();
        long now = System.nanoTime();
        if (applied >= commit || applied != stallApplied) {
            stallApplied = applied;
            stallSinceNs = now;
            return null;
        }
        if (now - stallSinceNs < stallLimit.toNanos()) {
            return null;
        }
        stallApplied = -1;
        return "delivery made no progress at op " + applied + " of " + commit + " for " + stallLimit;
    }

    private void takeCheckpoint(long periodNs) {
        try {
            ConsensusDataPlane.Checkpoint cp = plane.checkpoint().get(Math.max(periodNs, 100_000_000L),
                    TimeUnit.NANOSECONDS);
            lastCheckpoint.accumulateAndGet(cp, (old, now) -> old == null || now.op() >= old.op() ? now : old);
        } catch (TimeoutException e) {
            // the service hangs (or is slow): keep the previous checkpoint; the detector or the lag check acts
        } catch (ExecutionException e) {
            throw new IllegalStateException("checkpoint failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    private void recover(String why) {
        ConsensusDataPlane.Checkpoint cp = lastCheckpoint.get();
        RecoverableService fresh = factory.get();
        long from = 0;
        if (cp != null) {
            fresh.restore(cp.state());
            from = cp.op();
        }
        System.err.println("consensus " + plane.block().name() + ": supervisor: " + why + ": restarting the service"
                + " from the checkpoint at op " + from);
        RecoveryReport report;
        try {
            report = plane.recoverService(fresh, from, recoveryLimit);
        } catch (IllegalStateException e) {
            failedRecoveries.incrementAndGet();
            System.err.println("consensus " + plane.block().name() + ": supervisor: recovery failed: " + e.getMessage());
            trigger.compareAndSet(null, why); // again at the next check
            return;
        }
        reports.add(report);
        System.err.println("consensus " + plane.block().name() + ": supervisor: recovered: " + report);
        for (BiConsumer<RecoverableService, RecoveryReport> l : listeners) {
            l.accept(fresh, report);
        }
    }

    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(recoveryLimit.toMillis() + 5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
