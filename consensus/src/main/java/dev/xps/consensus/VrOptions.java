package dev.xps.consensus;

import dev.xps.consensus.wire.Wire;
import java.time.Duration;
import java.util.Objects;

/**
 * A {@link VrNode}'s settings. Defaults follow docs/consensus.md: retransmission every 10 ms and when the backlog
 * passes 256 entries, failure threshold 5x the host RTT's EWMA. Immutable; the {@code with…} methods return copies.
 *
 * @param retransmitInterval leader: re-send PREPAREs above each member's {@code acked}, and COMMIT, this often
 * @param backlogThreshold   leader: re-send at once when {@code last_op - commit} passes this
 * @param logCapacity        log slots ({@code op mod capacity})
 * @param entrySize          largest ordered request in bytes; longer ones are dropped ({@code oversize})
 * @param order              the block's {@code order} clause
 * @param failureThreshold   the host is failed when its oldest unanswered entry is older than this many RTTs
 * @param failureFloor       ... and older than this (the baseline's host RTT is an {@code execute()} call, often
 *                           microseconds, below the JVM's scheduling jitter); {@link Duration#ZERO} for the bare rule
 * @param leaderTimeout      replica: the leader is suspected when nothing came from it (PREPARE or COMMIT, which it
 *                           sends every interval) for this long; the {@link VrNode.Listener} hears it (a host-side
 *                           coordinator may then run a {@link ViewChange})
 */
public record VrOptions(Duration retransmitInterval, int backlogThreshold, int logCapacity, int entrySize,
        OrderPredicate order, double failureThreshold, Duration failureFloor, Duration leaderTimeout) {
    public static final Duration DEFAULT_RETRANSMIT = Duration.ofMillis(10);
    public static final int DEFAULT_BACKLOG = 256;
    public static final int DEFAULT_LOG_CAPACITY = 1 << 16;
    public static final double DEFAULT_FAILURE_THRESHOLD = 5;
    public static final Duration DEFAULT_FAILURE_FLOOR = Duration.ofMillis(50);
    public static final Duration DEFAULT_LEADER_TIMEOUT = Duration.ofMillis(500);

    public VrOptions {
        Objects.requireNonNull(retransmitInterval, "retransmitInterval");
        Objects.requireNonNull(order, "order");
        Objects.requireNonNull(failureFloor, "failureFloor");
        Objects.requireNonNull(leaderTimeout, "leaderTimeout");
        if (retransmitInterval.toNanos() < 1_000_000) {
            throw new IllegalArgumentException("the retransmit interval must be >= 1 ms, got " + retransmitInterval);
        }
        if (backlogThreshold < 1) {
            throw new IllegalArgumentException("backlog threshold must be >= 1, got " + backlogThreshold);
        }
        if (logCapacity < 2) {
            throw new IllegalArgumentException("log capacity must be >= 2, got " + logCapacity);
        }
        if (entrySize < 1 || entrySize > Wire.MAX_REQUEST) {
            throw new IllegalArgumentException("entry size must be 1.." + Wire.MAX_REQUEST + ", got " + entrySize);
        }
        if (!(failureThreshold > 0)) {
            throw new IllegalArgumentException("failure threshold must be > 0, got " + failureThreshold);
        }
    }

    public static VrOptions defaults() {
        return new VrOptions(DEFAULT_RETRANSMIT, DEFAULT_BACKLOG, DEFAULT_LOG_CAPACITY, Wire.MAX_REQUEST,
                OrderPredicate.all(), DEFAULT_FAILURE_THRESHOLD, DEFAULT_FAILURE_FLOOR, DEFAULT_LEADER_TIMEOUT);
    }

    public VrOptions withRetransmitInterval(Duration v) {
        return new VrOptions(v, backlogThreshold, logCapacity, entrySize, order, failureThreshold, failureFloor,
                leaderTimeout);
    }

    public VrOptions withBacklogThreshold(int v) {
        return new VrOptions(retransmitInterval, v, logCapacity, entrySize, order, failureThreshold, failureFloor,
                leaderTimeout);
    }

    public VrOptions withLogCapacity(int v) {
        return new VrOptions(retransmitInterval, backlogThreshold, v, entrySize, order, failureThreshold, failureFloor,
                leaderTimeout);
    }

    public VrOptions withEntrySize(int v) {
        return new VrOptions(retransmitInterval, backlogThreshold, logCapacity, v, order, failureThreshold,
                failureFloor, leaderTimeout);
    }

    public VrOptions withOrder(OrderPredicate v) {
        return new VrOptions(retransmitInterval, backlogThreshold, logCapacity, entrySize, v, failureThreshold,
                failureFloor, leaderTimeout);
    }

    public VrOptions withFailureThreshold(double v) {
        return new VrOptions(retransmitInterval, backlogThreshold, logCapacity, entrySize, order, v, failureFloor,
                leaderTimeout);
    }

    public VrOptions withFailureFloor(Duration v) {
        return new VrOptions(retransmitInterval, backlogThreshold, logCapacity, entrySize, order, failureThreshold, v,
                leaderTimeout);
    }

    public VrOptions withLeaderTimeout(Duration v) {
        return new VrOptions(retransmitInterval, backlogThreshold, logCapacity, entrySize, order, failureThreshold,
                failureFloor, v);
    }
}
