package dev.xps.runtime;

import java.util.List;

/**
 * A data map shared between the fast path and the service, in the canonical byte layout of
 * {@link MapLayout}: keys and values are {@code byte[]} whose length fits the declared
 * {@link ValueType}; anything else is an {@link IllegalArgumentException}.
 *
 * <ul>
 *   <li>{@link MapKind#HASH}: at most {@code capacity} keys; a new key into a full map is refused.
 *   <li>{@link MapKind#ARRAY}: the key is an index; every index below the capacity holds a value
 *       (initially zero) and an index at or above it is always a miss and refuses writes;
 *       {@link #delete} zeroes the slot.
 *   <li>{@link MapKind#LOG}: {@link #append} adds an entry and returns its index, from 1; the key
 *       is the index as a u64; {@link #put} may only replace an existing entry; {@link #delete}
 *       does nothing (a log only grows).
 * </ul>
 *
 * <p>Arrays handed out by reads are shared, not copied: callers must not modify them.
 * Implementations are thread-safe: the fast path and the agent use a map concurrently.
 */
public interface XpsMap {
    /** {@link #append}'s answer when the log is full. */
    long FULL = 0;

    MapSpec spec();

    /** A fast-path lookup: the value, or null on a miss; counts a hit when the map keeps stats. */
    byte[] lookup(byte[] key);

    /** The value, or null when absent, without touching the stats (for the agent and tests). */
    byte[] get(byte[] key);

    /** Stores {@code value} under {@code key}; false when there is no room for it (the map is unchanged). */
    boolean put(byte[] key, byte[] value);

    /** Removes {@code key}; true when something was removed (for arrays: the slot was in range). */
    boolean delete(byte[] key);

    /** Appends to a log: the new entry's index (from 1), or {@link #FULL}. */
    long append(byte[] value);

    /** Entries present: keys of a hash map, the capacity of an array, entries of a log. */
    long size();

    /** Lookups of {@code key} that hit (0 when the map keeps no stats). */
    long hits(byte[] key);

    /** Every key with at least one counted hit. */
    List<Stat> stats();

    /** A snapshot of the entries (for arrays, only slots written since creation). */
    List<Entry> entries();

    record Entry(byte[] key, byte[] value) {}

    record Stat(byte[] key, long hits) {}
}
