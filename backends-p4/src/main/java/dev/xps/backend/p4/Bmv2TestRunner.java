package dev.xps.backend.p4;

import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.Ipv4Prefix;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrTest;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.Predicate;
import dev.xps.compiler.ir.Verdict;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs a module's in-language tests on BMv2 when {@code p4c-bm2-ss}, {@code simple_switch} and
 * {@code simple_switch_CLI} are on the PATH (none can be installed here: the tests are then
 * skipped with that reason). The program is compiled with p4c; for each test a fresh
 * {@code simple_switch} reads the test's datagrams from a pcap file ({@code --use-files}), the
 * map set-up is installed with {@code simple_switch_CLI} before it starts processing, and the
 * output pcaps say what happened to each datagram: reflected on port 0 (tx, with the response as
 * its UDP payload), forwarded unchanged to port 1 (pass), or nothing (drop). Each datagram has
 * its own IPv4 identification, which the switch keeps, so outputs are matched to sends.
 *
 * <p>Limits: map set-up must come before the first send of a test (tables are the control
 * plane's, so a test cannot change them between datagrams here); array contents are read back
 * with {@code register_read}, hash-map contents are what the test installed (handlers on this
 * target cannot write hash maps).
 */
public final class Bmv2TestRunner implements Backend.TestRunner {
    static final List<String> TOOLS = List.of("p4c-bm2-ss", "simple_switch", "simple_switch_CLI");

    /**
     * Where p4c and BMv2 run: on this machine (the default), or in a container whose file system
     * shares the runner's temporary directories at the same paths (Bmv2IntegrationTest).
     */
    public interface Tools {
        /** Runs cmd in dir, stdin from a file when given, and returns its exit code and output. */
        Exec run(Path dir, int seconds, List<String> cmd, Path stdin) throws IOException;

        /** Starts cmd in dir in the background, output to log; closing the handle stops it. */
        AutoCloseable start(Path dir, List<String> cmd, Path log) throws IOException;

        /** Why the tools cannot run, or empty. */
        Optional<String> unavailableReason();
    }

    /** The result of one command. */
    public record Exec(int exit, String output) {}

    private final Tools tools;

    public Bmv2TestRunner() {
        this(new LocalTools());
    }

    public Bmv2TestRunner(Tools tools) {
        this.tools = tools;
    }

    /** p4c and BMv2 from this machine's PATH. */
    static final class LocalTools implements Tools {
        @Override
        public Optional<String> unavailableReason() {
            List<String> missing = TOOLS.stream().filter(t -> onPath(t).isEmpty()).toList();
            if (missing.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(String.join(", ", missing) + " not on PATH (p4lang's p4c and behavioral-model; "
                    + "they cannot be installed from this machine's package registries)");
        }

        @Override
        public Exec run(Path dir, int seconds, List<String> cmd, Path stdin) throws IOException {
            Path log = Files.createTempFile(dir, "exec-", ".log");
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            if (stdin != null) {
                pb.redirectInput(stdin.toFile());
            }
            Process p = pb.start();
            try {
                if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return new Exec(-1, "timed out after " + seconds + " s: " + String.join(" ", cmd));
                }
                return new Exec(p.exitValue(), Files.readString(log, StandardCharsets.ISO_8859_1));
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                return new Exec(-1, "interrupted");
            }
        }

        @Override
        public AutoCloseable start(Path dir, List<String> cmd, Path log) throws IOException {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            return () -> {
                p.destroy();
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            };
        }
    }
    /** Seconds simple_switch waits before reading the pcap input: the CLI set-up happens meanwhile. */
    static final int WAIT_SECONDS = 4;

    @Override
    public Optional<String> unavailableReason() {
        return tools.unavailableReason();
    }

    static Optional<Path> onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    @Override
    public List<TestOutcome> run(IrModule module, List<GeneratedFile> files) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("xps-bmv2-");
            String base = module.baseName();
            Optional<GeneratedFile> p4 = files.stream().filter(f -> f.relativePath().endsWith(base + ".p4")).findFirst();
            if (p4.isEmpty()) {
                return failAll(module, "no generated P4 to test");
            }
            Path source = dir.resolve(base + ".p4");
            Files.write(source, p4.get().content());
            Exec compiled = tools.run(dir, 300, List.of("p4c-bm2-ss", "--std", "p4-16", "--arch", "v1model", "-o",
                    dir.resolve(base + ".json").toString(), source.toString()), null);
            if (compiled.exit != 0) {
                return failAll(module, "p4c-bm2-ss rejects the generated P4 (a bug in xpsc, please report it):\n"
                        + compiled.output);
            }
            Bmv2Generator generator = new Bmv2Generator(module);
            generator.generate();
            List<TestOutcome> out = new ArrayList<>();
            for (IrTest test : module.tests()) {
                out.add(runOne(dir, base, module, test, generator));
            }
            return out;
        } catch (IOException e) {
            return failAll(module, "cannot run the BMv2 tests: " + e.getMessage());
        } finally {
            if (dir != null) {
                delete(dir);
            }
        }
    }

    private TestOutcome runOne(Path parent, String base, IrModule module, IrTest test, Bmv2Generator g)
            throws IOException {
        Path dir = Files.createTempDirectory(parent, "test-");
        List<String> setup = new ArrayList<>();
        List<IrTest.Send> sends = new ArrayList<>();
        for (IrTest.Step step : test.steps()) {
            switch (step) {
                case IrTest.Put p -> {
                    if (!sends.isEmpty()) {
                        return new TestOutcome(test.name(), test.location(), false, step.location()
                                + ": the BMv2 runner installs map contents before the first send only");
                    }
                    setup.addAll(put(p, g));
                }
                case IrTest.Send s -> sends.add(s);
                default -> { }
            }
        }
        writePcap(dir.resolve("p0_in.pcap"), frames(sends));
        writePcap(dir.resolve("p1_in.pcap"), List.of());
        int thrift;
        try (ServerSocket socket = new ServerSocket(0)) {
            thrift = socket.getLocalPort();
        }
        try (AutoCloseable sw = tools.start(dir, List.of("simple_switch", "--use-files", Integer.toString(WAIT_SECONDS),
                "-i", "0@p0", "-i", "1@p1", "--thrift-port", Integer.toString(thrift),
                parent.resolve(base + ".json").toString()), dir.resolve("switch.log"))) {
            Thread.sleep(1000);
            if (!setup.isEmpty()) {
                Exec cli = cli(dir, thrift, setup);
                if (cli.exit != 0) {
                    return new TestOutcome(test.name(), test.location(), false, "simple_switch_CLI failed:\n" + cli.output);
                }
            }
            Thread.sleep((WAIT_SECONDS + 3) * 1000L);
            Map<Integer, byte[]> p0 = byId(readPcap(dir.resolve("p0_out.pcap")));
            Map<Integer, byte[]> p1 = byId(readPcap(dir.resolve("p1_out.pcap")));
            for (int i = 0; i < sends.size(); i++) {
                IrTest.Send s = sends.get(i);
                int id = i + 1;
                String got = p0.containsKey(id) ? "tx \"" + escape(udpPayload(p0.get(id))) + "\""
                        : p1.containsKey(id) ? "pass" : "drop";
                Verdict expected = s.verdict() == Verdict.RESET ? Verdict.DROP : s.verdict();
                boolean ok = switch (expected) {
                    case TX -> p0.containsKey(id) && (s.response().isEmpty()
                            || Arrays.equals(s.response().get(), udpPayload(p0.get(id))));
                    case PASS -> p1.containsKey(id) && Arrays.equals(udpPayload(p1.get(id)), s.payload());
                    default -> !p0.containsKey(id) && !p1.containsKey(id);
                };
                if (!ok) {
                    return new TestOutcome(test.name(), test.location(), false, s.location() + ": sent \""
                            + escape(s.payload()) + "\"\n  expected " + s.verdict().keyword()
                            + s.response().map(r -> " \"" + escape(r) + "\"").orElse("") + "\n  got      " + got);
                }
            }
            for (IrTest.Step step : test.steps()) {
                Optional<String> problem = expectation(step, dir, thrift, test);
                if (problem.isPresent()) {
                    return new TestOutcome(test.name(), test.location(), false, problem.get());
                }
            }
            return new TestOutcome(test.name(), test.location(), true, "");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new TestOutcome(test.name(), test.location(), false, "interrupted");
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            return new TestOutcome(test.name(), test.location(), false, "stopping simple_switch failed: " + e);
        }
    }

    /** Checks an expect-entry / expect-missing step against the switch (arrays) or the set-up (hash maps). */
    private Optional<String> expectation(IrTest.Step step, Path dir, int thrift, IrTest test) throws IOException {
        IrMap map;
        byte[] key;
        byte[] value;
        switch (step) {
            case IrTest.ExpectEntry e -> {
                map = e.map();
                key = e.key();
                value = e.value();
            }
            case IrTest.ExpectMissing e -> {
                map = e.map();
                key = e.key();
                value = null;
            }
            default -> {
                return Optional.empty();
            }
        }
        byte[] actual;
        if (map.kind() == MapKind.ARRAY) {
            BigInteger index = littleEndian(key);
            if (index.compareTo(BigInteger.valueOf(map.capacity())) >= 0) {
                actual = null;
            } else {
                Exec read = cli(dir, thrift, List.of("register_read " + Bmv2Generator.reg(map) + " " + index));
                Matcher m = Pattern.compile("=\\s*(\\d+)").matcher(read.output);
                if (!m.find()) {
                    return Optional.of(step.location() + ": cannot read register " + Bmv2Generator.reg(map) + ":\n"
                            + read.output);
                }
                actual = toLittleEndian(new BigInteger(m.group(1)), MicroWidth.of(map));
            }
        } else {
            actual = null;
            for (IrTest.Step s : test.steps()) {
                if (s instanceof IrTest.Put p && p.map().name().equals(map.name()) && Arrays.equals(p.key(), key)) {
                    actual = p.value();
                }
            }
        }
        if (value == null && actual != null) {
            return Optional.of(step.location() + ": expected " + map.name() + "[\"" + escape(key)
                    + "\"] to be missing, but it holds \"" + escape(actual) + "\"");
        }
        if (value != null && (actual == null || !Arrays.equals(actual, value))) {
            return Optional.of(step.location() + ": expected " + map.name() + "[\"" + escape(key) + "\"] == \""
                    + escape(value) + "\", " + (actual == null ? "but the key is missing" : "got \"" + escape(actual)
                    + "\""));
        }
        return Optional.empty();
    }

    /** The value width of an (integer-valued) map. */
    private static final class MicroWidth {
        static int of(IrMap map) {
            return ((dev.xps.compiler.ir.IrType.Int) map.valueType()).byteWidth();
        }
    }

    private static List<String> put(IrTest.Put p, Bmv2Generator g) {
        IrMap map = p.map();
        BigInteger value = littleEndian(p.value());
        List<String> out = new ArrayList<>();
        if (map.kind() == MapKind.ARRAY) {
            out.add("register_write " + Bmv2Generator.reg(map) + " " + littleEndian(p.key()) + " " + value);
            return out;
        }
        BigInteger key = map.keyType() instanceof dev.xps.compiler.ir.IrType.Bytes
                ? new BigInteger(1, p.key()) : littleEndian(p.key());
        for (Bmv2Generator.LookupSite site : g.sites) {
            if (site.map().name().equals(map.name())) {
                String inst = "xps_ingress.h_" + site.control().substring("handler_".length()) + ".";
                out.add("table_add " + inst + site.table() + " " + inst + site.action() + " 0x" + key.toString(16)
                        + " => 0x" + value.toString(16));
            }
        }
        return out;
    }

    private static BigInteger littleEndian(byte[] b) {
        byte[] be = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            be[i] = b[b.length - 1 - i];
        }
        return new BigInteger(1, be);
    }

    private static byte[] toLittleEndian(BigInteger v, int width) {
        byte[] out = new byte[width];
        for (int i = 0; i < width; i++) {
            out[i] = v.shiftRight(8 * i).byteValue();
        }
        return out;
    }

    private Exec cli(Path dir, int thrift, List<String> commands) throws IOException {
        Path in = Files.createTempFile(dir, "cli-", ".txt");
        Files.writeString(in, String.join("\n", commands) + "\n");
        Exec r = tools.run(dir, 60, List.of("simple_switch_CLI", "--thrift-port", Integer.toString(thrift)), in);
        boolean error = r.output().contains("Error") || r.output().contains("Invalid");
        return new Exec(error ? 1 : r.exit(), r.output());
    }

    // ------------------------------------------------------------------ frames and pcap

    /** One Ethernet/IPv4/UDP frame per send, matching the entry point's predicate, IPv4 id = 1, 2, ... */
    static List<byte[]> frames(List<IrTest.Send> sends) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < sends.size(); i++) {
            IrTest.Send s = sends.get(i);
            Predicate p = s.entry().predicate();
            // IPv4 only: the capability check refuses IPv6 prefixes for this target
            long src = p.srcAddress().map(a -> (Ipv4Prefix) a).map(a -> a.address() | (a.prefixLength() < 32 ? 2 : 0))
                    .orElse(0x0A000002L);
            long dst = p.dstAddress().map(a -> (Ipv4Prefix) a).map(a -> a.address() | (a.prefixLength() < 32 ? 1 : 0))
                    .orElse(0x0A000001L);
            int sport = p.srcPort().map(r -> r.low()).orElse(40000);
            out.add(frame(i + 1, src, dst, sport, p.dstPort().low(), s.payload()));
        }
        return out;
    }

    static byte[] frame(int id, long src, long dst, int sport, int dport, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(42 + payload.length);
        b.put(new byte[] {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x08, 0x00});
        int ipStart = b.position();
        b.put((byte) 0x45).put((byte) 0).putShort((short) (28 + payload.length)).putShort((short) id)
                .putShort((short) 0).put((byte) 64).put((byte) 17).putShort((short) 0).putInt((int) src)
                .putInt((int) dst);
        int sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += ((b.get(ipStart + i) & 0xFF) << 8) | (b.get(ipStart + i + 1) & 0xFF);
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        b.putShort(ipStart + 10, (short) ~sum);
        b.putShort((short) sport).putShort((short) dport).putShort((short) (8 + payload.length)).putShort((short) 0);
        b.put(payload);
        return b.array();
    }

    static void writePcap(Path file, List<byte[]> frames) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer h = ByteBuffer.allocate(24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        h.putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(1);
        out.write(h.array());
        int t = 0;
        for (byte[] f : frames) {
            ByteBuffer r = ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            r.putInt(1).putInt(t++ * 1000).putInt(f.length).putInt(f.length);
            out.write(r.array());
            out.write(f);
        }
        Files.write(file, out.toByteArray());
    }

    static List<byte[]> readPcap(Path file) throws IOException {
        List<byte[]> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
        if (b.remaining() < 24) {
            return out;
        }
        int magic = b.order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0);
        if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
            b.order(java.nio.ByteOrder.BIG_ENDIAN);
        }
        b.position(24);
        while (b.remaining() >= 16) {
            b.getInt();
            b.getInt();
            int caplen = b.getInt();
            b.getInt();
            if (caplen > b.remaining()) {
                break;
            }
            byte[] f = new byte[caplen];
            b.get(f);
            out.add(f);
        }
        return out;
    }

    /** Frames by IPv4 identification. */
    static Map<Integer, byte[]> byId(List<byte[]> frames) {
        Map<Integer, byte[]> out = new HashMap<>();
        for (byte[] f : frames) {
            if (f.length >= 42 && f[12] == 0x08 && f[13] == 0x00) {
                out.put(((f[18] & 0xFF) << 8) | (f[19] & 0xFF), f);
            }
        }
        return out;
    }

    static byte[] udpPayload(byte[] frame) {
        int udpLength = ((frame[38] & 0xFF) << 8) | (frame[39] & 0xFF);
        int end = Math.min(frame.length, 34 + udpLength);
        return Arrays.copyOfRange(frame, 42, Math.max(42, end));
    }

    static String escape(byte[] bytes) {
        StringBuilder s = new StringBuilder();
        for (byte x : bytes) {
            int c = x & 0xFF;
            switch (c) {
                case '\r' -> s.append("\\r");
                case '\n' -> s.append("\\n");
                case '\t' -> s.append("\\t");
                case '\\' -> s.append("\\\\");
                case '"' -> s.append("\\\"");
                default -> s.append(c >= 0x20 && c < 0x7F ? String.valueOf((char) c) : String.format("\\x%02x", c));
            }
        }
        return s.toString();
    }

    // ------------------------------------------------------------------ plumbing

    private static List<TestOutcome> failAll(IrModule module, String why) {
        return module.tests().stream().map(t -> new TestOutcome(t.name(), t.location(), false, why)).toList();
    }

    private static void delete(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory left behind is harmless
        }
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    static boolean isDispatch(IrEntryPoint e) {
        return e instanceof IrEntryPoint.Dispatch;
    }
}
