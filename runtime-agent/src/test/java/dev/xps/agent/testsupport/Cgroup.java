package dev.xps.agent.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A cgroup v2 directory {@code /sys/fs/cgroup/unified/xpsagent-<id>}; {@link #close()} removes it. */
public final class Cgroup implements AutoCloseable {
    public static final Path ROOT = Path.of(System.getProperty("xps.test.cgroupRoot", "/sys/fs/cgroup/unified"));
    public final Path path;

    public Cgroup() throws IOException {
        this.path = ROOT.resolve(Kernel.uniqueName());
        Files.createDirectory(path);
    }

    /** Moves a process into this cgroup. */
    public void add(long pid) throws IOException {
        Files.writeString(path.resolve("cgroup.procs"), Long.toString(pid));
    }

    /** Removes the directory (after its processes have exited), retrying briefly while the kernel lets go. */
    @Override
    public void close() {
        for (int i = 0; i < 50 && Files.exists(path); i++) {
            try {
                Files.delete(path);
                return;
            } catch (IOException e) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        if (Files.exists(path)) {
            System.err.println("WARNING: could not remove " + path);
        }
    }
}
