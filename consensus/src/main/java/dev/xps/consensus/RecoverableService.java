package dev.xps.consensus;

/**
 * A {@link ReplicatedService} whose state can be checkpointed and transferred (docs/consensus.md, "Recovery").
 * {@link #snapshot()} and {@link #restore(byte[])} are called on the thread that calls {@code execute}, between
 * two entries, so a snapshot is the state after exactly the entries executed so far.
 */
public interface RecoverableService extends ReplicatedService {
    /** The state after every entry executed so far (the caller knows which op that is). */
    byte[] snapshot();

    /** Replaces the state with a {@link #snapshot()} taken by another instance (possibly on another member). */
    void restore(byte[] snapshot);
}
