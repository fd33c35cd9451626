package dev.xps.backend.ebpf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel, through bpftool: load an object with its programs and maps pinned, update and look
 * up map entries, and run an XDP program on a packet with BPF_PROG_TEST_RUN. The test runner
 * uses it instead of a libbpf binding (the agent's job), so this module needs nothing but bpftool.
 * Pins live under {@code /sys/fs/bpf/xpsebpf-test-*} and are removed by {@link Pins#close()}.
 */
final class Bpftool {
    static final Path BPFFS = Path.of("/sys/fs/bpf");
    private static final Pattern RETVAL = Pattern.compile("Return value: (\\d+)");
    private static final Pattern PROCESSED = Pattern.compile("prog '([^']+)': -- BEGIN PROG LOAD LOG --");
    private static final Pattern INSNS = Pattern.compile("processed (\\d+) insns");

    private Bpftool() {}

    static String command() {
        return Optional.ofNullable(System.getenv("XPS_BPFTOOL")).filter(s -> !s.isBlank()).orElse("bpftool");
    }

    static Clang.Process.Outcome run(List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(command());
        cmd.addAll(args);
        return Clang.Process.run(cmd, null, 120);
    }

    /** Why bpftool cannot be used here, or empty. */
    static Optional<String> unavailable() {
        Clang.Process.Outcome v = run(List.of("version"));
        if (v.exitCode() != 0) {
            return Optional.of("bpftool not found (" + command() + "); install bpftool or set XPS_BPFTOOL");
        }
        return Optional.empty();
    }

    /** An object loaded with every program and map pinned; closing unpins them all. */
    static final class Pins implements AutoCloseable {
        final Path progs;
        final Path maps;
        /** Verified instructions per program, from the verifier's log (bpftool -d). */
        final java.util.Map<String, Long> verifiedInsns = new java.util.LinkedHashMap<>();

        private Pins(Path progs, Path maps) {
            this.progs = progs;
            this.maps = maps;
        }

        Path program(String name) {
            return progs.resolve(name);
        }

        Path map(String name) {
            return maps.resolve(name);
        }

        @Override
        public void close() {
            remove(progs);
            remove(maps);
        }

        private static void remove(Path dir) {
            if (!Files.exists(dir)) {
                return;
            }
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                // best effort; an unremovable pin is reported by the next load's name clash
            }
        }
    }

    /** Raised when the kernel refuses something: its message is bpftool's output. */
    static final class BpfException extends Exception {
        private static final long serialVersionUID = 1L;

        BpfException(String message) {
            super(message);
        }
    }

    /**
     * {@code bpftool prog loadall OBJECT /sys/fs/bpf/<name> pinmaps /sys/fs/bpf/<name>-maps}.
     * With {@code verifierStats}, bpftool runs with {@code -d} and the verifier's instruction
     * counts are collected.
     */
    static Pins load(Path object, String name, boolean verifierStats) throws BpfException {
        return load(object, name, verifierStats, java.util.Map.of());
    }

    /**
     * Like {@link #load(Path, String, boolean)}, with the maps named in {@code reuse} taken from
     * their pins instead of created: how a replacement handler shares its module's maps.
     */
    static Pins load(Path object, String name, boolean verifierStats, java.util.Map<String, Path> reuse)
            throws BpfException {
        Path progs = BPFFS.resolve(name);
        Path maps = BPFFS.resolve(name + "-maps");
        Pins pins = new Pins(progs, maps);
        pins.close(); // a leftover of an interrupted run
        List<String> args = new ArrayList<>();
        if (verifierStats) {
            args.add("-d");
        }
        args.addAll(List.of("prog", "loadall", object.toString(), progs.toString()));
        for (var r : new java.util.TreeMap<>(reuse).entrySet()) {
            args.addAll(List.of("map", "name", r.getKey(), "pinned", r.getValue().toString()));
        }
        args.addAll(List.of("pinmaps", maps.toString()));
        Clang.Process.Outcome out = run(args);
        if (out.exitCode() != 0) {
            pins.close();
            throw new BpfException("bpftool prog loadall failed:\n" + verifierError(out.output()));
        }
        if (verifierStats) {
            String prog = null;
            for (String line : out.output().lines().toList()) {
                Matcher p = PROCESSED.matcher(line);
                if (p.find()) {
                    prog = p.group(1);
                }
                Matcher n = INSNS.matcher(line);
                if (n.find() && prog != null) {
                    pins.verifiedInsns.put(prog, Long.parseLong(n.group(1)));
                    prog = null;
                }
            }
        }
        return pins;
    }

    /** The end of a verifier log is where the reason is; the whole log can be megabytes. */
    static String verifierError(String output) {
        List<String> lines = output.lines().filter(l -> !l.startsWith("libbpf: elf:")).toList();
        int from = Math.max(0, lines.size() - 60);
        return String.join("\n", lines.subList(from, lines.size()));
    }

    static void update(Path map, byte[] key, byte[] value) throws BpfException {
        List<String> args = new ArrayList<>(List.of("map", "update", "pinned", map.toString(), "key", "hex"));
        args.addAll(hex(key));
        args.add("value");
        args.add("hex");
        args.addAll(hex(value));
        Clang.Process.Outcome out = run(args);
        if (out.exitCode() != 0) {
            throw new BpfException("bpftool map update " + map.getFileName() + " failed: " + out.output().strip());
        }
    }

    /** The value under {@code key}, or empty when the map has no such key. */
    static Optional<byte[]> lookup(Path map, byte[] key) throws BpfException {
        List<String> args = new ArrayList<>(List.of("-j", "map", "lookup", "pinned", map.toString(), "key", "hex"));
        args.addAll(hex(key));
        Clang.Process.Outcome out = run(args);
        String text = out.output().strip();
        if (out.exitCode() != 0) {
            if (text.startsWith("null") || text.contains("No such file or directory") || text.contains("not found")) {
                return Optional.empty();
            }
            throw new BpfException("bpftool map lookup " + map.getFileName() + " failed: " + text);
        }
        Matcher m = Pattern.compile("\"value\":\\[([^\\]]*)\\]").matcher(text);
        if (!m.find()) {
            throw new BpfException("cannot read bpftool's lookup output: " + text);
        }
        return Optional.of(hexArray(m.group(1)));
    }

    /** The per-CPU values of a per-CPU array slot, summed as little-endian u64 words. */
    static long[] sumPerCpu(Path map, int key, int words) throws BpfException {
        List<String> args = new ArrayList<>(List.of("-j", "map", "lookup", "pinned", map.toString(), "key", "hex"));
        args.addAll(hex(KernelLayout.encodeInt(key, 4)));
        Clang.Process.Outcome out = run(args);
        if (out.exitCode() != 0) {
            throw new BpfException("bpftool map lookup " + map.getFileName() + " failed: " + out.output().strip());
        }
        long[] sum = new long[words];
        Matcher m = Pattern.compile("\"value\":\\[([^\\]]*)\\]").matcher(out.output());
        while (m.find()) {
            byte[] v = hexArray(m.group(1));
            for (int w = 0; w < words && 8 * w + 8 <= v.length; w++) {
                sum[w] += KernelLayout.decodeInt(java.util.Arrays.copyOfRange(v, 8 * w, 8 * w + 8));
            }
        }
        return sum;
    }

    /** One BPF_PROG_TEST_RUN of a pinned program: its return value and the packet it left. */
    record TestRun(int retval, byte[] dataOut) {}

    static TestRun testRun(Path program, byte[] packet, Path scratchDir) throws BpfException {
        try {
            Path in = Files.createTempFile(scratchDir, "packet-in-", ".bin");
            Path out = Files.createTempFile(scratchDir, "packet-out-", ".bin");
            try {
                Files.write(in, packet);
                Clang.Process.Outcome r = run(List.of("prog", "run", "pinned", program.toString(), "data_in",
                        in.toString(), "data_out", out.toString(), "repeat", "1"));
                Matcher m = RETVAL.matcher(r.output());
                if (r.exitCode() != 0 || !m.find()) {
                    throw new BpfException("bpftool prog run " + program.getFileName() + " failed: " + r.output().strip());
                }
                return new TestRun(Integer.parseInt(m.group(1)), Files.readAllBytes(out));
            } finally {
                Files.deleteIfExists(in);
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new BpfException("cannot exchange packets with bpftool: " + e.getMessage());
        }
    }

    private static List<String> hex(byte[] bytes) {
        List<String> out = new ArrayList<>(bytes.length);
        HexFormat h = HexFormat.of();
        for (byte b : bytes) {
            out.add(h.toHexDigits(b));
        }
        return out;
    }

    private static byte[] hexArray(String items) {
        List<Byte> bytes = new ArrayList<>();
        Matcher m = Pattern.compile("0x([0-9a-fA-F]{1,2})").matcher(items);
        while (m.find()) {
            bytes.add((byte) Integer.parseInt(m.group(1), 16));
        }
        byte[] out = new byte[bytes.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = bytes.get(i);
        }
        return out;
    }
}
