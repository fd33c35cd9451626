package dev.xps.consensus;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link VrNode}'s counters (docs/consensus.md names some of them: {@code bad}, {@code oversize},
 * {@code stopped}).
 */
public final class VrStats {
    /** Client requests numbered and logged (leader). */
    public final AtomicLong ordered = new AtomicLong();
    /** Client requests the order predicate did not match, given to the {@link UnorderedHandler}. */
    public final AtomicLong unordered = new AtomicLong();
    /** Ordered requests longer than the entry size, dropped. */
    public final AtomicLong oversize = new AtomicLong();
    /** Ordered requests dropped because ordering is stopped (host failure, recovery). */
    public final AtomicLong stopped = new AtomicLong();
    /** Client requests that reached a member that is not the leader, or a paused member, dropped. */
    public final AtomicLong notLeader = new AtomicLong();
    /** Ordered requests dropped because the log slot still held an entry not yet committed or delivered. */
    public final AtomicLong logFull = new AtomicLong();
    /** Replication datagrams that were not well-formed messages, or of another view, dropped. */
    public final AtomicLong bad = new AtomicLong();
    /** PREPAREs sent for the first time (one per member). */
    public final AtomicLong prepares = new AtomicLong();
    /** PREPAREs sent again by retransmission. */
    public final AtomicLong retransmits = new AtomicLong();
    /** Rounds of retransmission started because the backlog passed its threshold. */
    public final AtomicLong backlogRounds = new AtomicLong();
    public final AtomicLong commitsSent = new AtomicLong();
    public final AtomicLong prepareOksSent = new AtomicLong();
    /** Entries handed to the service (delivered, in op order). */
    public final AtomicLong delivered = new AtomicLong();
    /** Replies the leader sent for ordered requests. */
    public final AtomicLong replies = new AtomicLong();
    /** Datagrams the socket would not take (send buffer full) or failed to send. */
    public final AtomicLong sendFailures = new AtomicLong();
    /** Host failures detected (leader). */
    public final AtomicLong hostFailures = new AtomicLong();
    public final AtomicLong stateChunksSent = new AtomicLong();
    public final AtomicLong stateChunksReceived = new AtomicLong();

    public Map<String, Long> toMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (var f : VrStats.class.getFields()) {
            try {
                m.put(f.getName(), ((AtomicLong) f.get(this)).get());
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
        }
        return m;
    }

    @Override
    public String toString() {
        return toMap().toString();
    }
}
