package dev.xps.agent;

/**
 * A map pinned by an earlier load does not have the shape the new object declares (type, key size, value
 * size, capacity), so its data cannot be carried over as is. Reusing it anyway would let the new programs
 * read the old layout; the agent refuses instead. Unload the context (dropping the data) or migrate it.
 */
public final class PinnedMapMismatchException extends RuntimeException {
    private final String map;

    public PinnedMapMismatchException(String map, String pinned, String declared, String pin) {
        super("the pinned map '" + map + "' at " + pin + " is " + pinned + ", but the object declares " + declared
                + ": its data cannot be reused; unload the context first (this drops the data) or migrate it");
        this.map = map;
    }

    /** The map's name. */
    public String map() {
        return map;
    }
}
