package dev.xps.agent;

import dev.xps.agent.bpf.Preflight;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The BPF-filesystem directory one context owns, and its layout:
 *
 * <pre>
 * &lt;root&gt;/&lt;context&gt;/maps/&lt;map name&gt;       pinned maps (their data survive the agent)
 * &lt;root&gt;/&lt;context&gt;/progs/&lt;program name&gt;  pinned programs
 * &lt;root&gt;/&lt;context&gt;/links/&lt;link name&gt;    pinned links: the attachments themselves
 * </pre>
 *
 * The default root is {@code /sys/fs/bpf/xps}. Everything the agent loads for a context is pinned here, so an
 * agent that dies (even by {@code kill -9}) and restarts finds it all again ({@link PinnedContext#adopt}),
 * and a clean unload that empties the directory leaves nothing of ours in the kernel.
 *
 * <p>The BPF filesystem refuses dots in names ({@code EPERM}), so pin names are the object's name with
 * {@code .} replaced by {@code _} (as libbpf does: libbpf's map {@code pingpong.bss} pins as
 * {@code pingpong_bss}); see {@link #pinName}. Names ending in {@value #TEMPORARY_SUFFIX} are the agent's
 * temporaries (a pin being replaced) and are never adopted.
 */
public final class Pins {
    /** Where the agent pins by default. */
    public static final Path DEFAULT_ROOT = Path.of("/sys/fs/bpf/xps");

    /** Marks a temporary pin (a replacement about to be renamed over the real one). */
    static final String TEMPORARY_SUFFIX = "~new";

    private static final Pattern CONTEXT_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_-]{0,63}");
    private static final Pattern PIN_NAME = Pattern.compile("[A-Za-z0-9_@:-]{1,128}");

    private final Path root;
    private final String context;
    private final Path dir;

    private Pins(Path root, String context) {
        this.root = root;
        this.context = context;
        this.dir = root.resolve(context);
    }

    /** The pins of {@code context} under {@code root} (nothing is created yet). */
    public static Pins of(Path root, String context) {
        if (context == null || !CONTEXT_NAME.matcher(context).matches()) {
            throw new IllegalArgumentException("invalid context name '" + context + "': use 1 to 64 letters, digits,"
                    + " '_' and '-', not starting with '-'");
        }
        return new Pins(root.toAbsolutePath().normalize(), context);
    }

    /** The pins of {@code context} under {@link #DEFAULT_ROOT}. */
    public static Pins of(String context) {
        return of(DEFAULT_ROOT, context);
    }

    /** The contexts that have a directory under {@code root}. */
    public static List<String> contexts(Path root) {
        return list(root);
    }

    public Path root() {
        return root;
    }

    public String context() {
        return context;
    }

    /** {@code <root>/<context>}. */
    public Path dir() {
        return dir;
    }

    public Path mapsDir() {
        return dir.resolve("maps");
    }

    public Path programsDir() {
        return dir.resolve("progs");
    }

    public Path linksDir() {
        return dir.resolve("links");
    }

    /** Where the map named {@code name} (libbpf's name, or its pin name) is pinned. */
    public Path map(String name) {
        return mapsDir().resolve(pinName(name));
    }

    public Path program(String name) {
        return programsDir().resolve(pinName(name));
    }

    public Path link(String name) {
        return linksDir().resolve(pinName(name));
    }

    /**
     * The pin name for an object name: dots become underscores (bpffs refuses dots); otherwise letters,
     * digits, {@code _ @ : -}, at most 128 characters.
     */
    public static String pinName(String name) {
        String n = name == null ? "" : name.replace('.', '_');
        if (!PIN_NAME.matcher(n).matches()) {
            throw new IllegalArgumentException("invalid pin name '" + name + "': use 1 to 128 letters, digits and"
                    + " '_', '@', ':', '-'");
        }
        return n;
    }

    /** True if the context's directory exists (something was loaded and not unloaded). */
    public boolean exists() {
        return Files.isDirectory(dir);
    }

    /** Creates the directories, mounting the BPF filesystem first if there is none (see {@link Preflight#ensureBpffs}). */
    public void create() {
        Preflight.ensureBpffs(dir);
        try {
            Files.createDirectories(mapsDir());
            Files.createDirectories(programsDir());
            Files.createDirectories(linksDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    /** Names of the pinned maps (temporaries excluded). */
    public List<String> mapNames() {
        return list(mapsDir());
    }

    public List<String> programNames() {
        return list(programsDir());
    }

    public List<String> linkNames() {
        return list(linksDir());
    }

    /** A temporary name next to {@code pin}, for pin-then-rename replacement. */
    static Path temporary(Path pin) {
        return pin.resolveSibling(pin.getFileName() + TEMPORARY_SUFFIX);
    }

    /** Removes leftover temporaries (from an agent that died while replacing a pin). */
    void removeTemporaries() {
        for (Path d : List.of(mapsDir(), programsDir(), linksDir())) {
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> s = Files.list(d)) {
                for (Path p : s.filter(p -> p.getFileName().toString().endsWith(TEMPORARY_SUFFIX)).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Removes the (empty) directories; false if something is still pinned there. */
    boolean removeDirectories() {
        boolean ok = true;
        for (Path d : List.of(mapsDir(), programsDir(), linksDir(), dir)) {
            try {
                Files.deleteIfExists(d);
            } catch (IOException e) {
                ok = false;
            }
        }
        return ok;
    }

    private static List<String> list(Path d) {
        if (!Files.isDirectory(d)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(TEMPORARY_SUFFIX)).sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + d, e);
        }
    }

    @Override
    public String toString() {
        return dir.toString();
    }
}
