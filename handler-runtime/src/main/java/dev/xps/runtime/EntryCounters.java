package dev.xps.runtime;

import java.util.concurrent.atomic.LongAdder;

/**
 * Per entry point: messages by verdict, how many of them were malformed, and how many times a
 * segment ended in an incomplete message. The same counters exist on every target.
 */
public final class EntryCounters {
    private final LongAdder tx = new LongAdder();
    private final LongAdder drop = new LongAdder();
    private final LongAdder pass = new LongAdder();
    private final LongAdder reset = new LongAdder();
    private final LongAdder malformed = new LongAdder();
    private final LongAdder incomplete = new LongAdder();

    void message(Verdict verdict, boolean wasMalformed) {
        switch (verdict) {
            case TX -> tx.increment();
            case DROP -> drop.increment();
            case PASS -> pass.increment();
            case RESET -> reset.increment();
        }
        if (wasMalformed) {
            malformed.increment();
        }
    }

    void incomplete() {
        incomplete.increment();
    }

    public Snapshot snapshot() {
        return new Snapshot(tx.sum(), drop.sum(), pass.sum(), reset.sum(), malformed.sum(), incomplete.sum());
    }

    public record Snapshot(long tx, long drop, long pass, long reset, long malformed, long incomplete) {
        public long messages() {
            return tx + drop + pass + reset;
        }
    }
}
