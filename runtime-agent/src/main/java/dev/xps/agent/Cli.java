package dev.xps.agent;

import dev.xps.agent.bpf.PreflightException;
import dev.xps.agent.bpf.XdpMode;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code xps}: the agent's command line (bin/xps). Exit codes: 0 done, 1 failed (the kernel or the agent
 * refused), 2 usage error.
 */
public final class Cli {
    static final String USAGE = """
            usage: xps [--pin-root DIR] [--state-root DIR] COMMAND ...
              load NAME ARTIFACT_DIR [--cgroup PATH] [--interface IF [--netns NS]] [--xdp-mode generic|native|auto]
                   [--no-reset-server]      load a compiled ebpf artifact (xpsc compile X.xps --target ebpf -o DIR) as
                                            context NAME and attach it: TCP entry points to the cgroup v2 PATH (the
                                            service must be in it before it listens), UDP ones to interface IF; with
                                            TCP entry points, also start the resident reset server unless it runs
              update NAME ARTIFACT_DIR      swap the context's handlers for a new build's; connections stay open
                                            (a sub-context: its handler, in its slot of the composite)
              unload NAME                   drain, detach and unpin the context (a composite: with its sub-contexts;
                                            a sub-context: remove its selector and empty its slot)
              compcontext NAME ARTIFACT_DIR --port P --offset O --length L [--protocol tcp|udp]
                          (--cgroup PATH [--no-reset-server] | --interface IF [--netns NS] [--xdp-mode M])
                                            create_compcontext: load the composite object (xpsc composite
                                            [--protocol udp] -o DIR) as NAME for TCP/UDP port P: the L bytes at
                                            offset O of each message choose a sub-context; none chosen: it passes
              subcontext COMP NAME ARTIFACT_DIR --value V
                                            create_subcontext: load one compiled handler of COMP's protocol
                                            (handler H on tcp|udp port P) as NAME, run for messages of composite
                                            COMP whose selector is V (text, or 0x-hex; exactly L bytes); its
                                            maps: xps map ... NAME
              status                        list the contexts and the resident reset server
              map put NAME MAP KEY VALUE    keys and values: integers (decimal or 0x-hex) for integer types;
              map get NAME MAP KEY            for bytes, text or 0x-hex
              map delete NAME MAP KEY
              map dump NAME MAP
              log NAME MAP [FROM [COUNT]]   read a log map's entries from index FROM (1)
              stats NAME                    entry counters (summed over CPUs) and per-key hits
              serve [SECONDS] [--resident]  destroy the sockets that handlers reset (all contexts, also ones loaded
                                            later), until killed; --resident: until no context is left
              consensus-node ARTIFACT_DIR --members IP,.. --macs MAC,.. --index I --interface IF [...]
                                            run member I of a consensus group on the block's data plane, with the
                                            replicated timestamp service, until killed (consensus-node --help)
              consensus-readback ARTIFACT_DIR [--entries N] [--reps R] [--recover]
                                            time reading N log entries back with getNicLog, or with --recover a whole
                                            recoverService of them into the timestamp service (benchmark)
            exit codes: 0 ok, 1 failure, 2 usage
            """;

    private Cli() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static final class Usage extends RuntimeException {
        Usage(String m) {
            super(m);
        }
    }

    public static int run(String[] argv, PrintStream out, PrintStream err) {
        List<String> args = new ArrayList<>(List.of(argv));
        Path pinRoot = Pins.DEFAULT_ROOT;
        Path stateRoot = Agent.DEFAULT_STATE_ROOT;
        try {
            while (!args.isEmpty() && args.getFirst().startsWith("--")) {
                String o = args.removeFirst();
                switch (o) {
                    case "--help", "-h" -> {
                        out.print(USAGE);
                        return 0;
                    }
                    case "--pin-root" -> pinRoot = Path.of(need(args, o));
                    case "--state-root" -> stateRoot = Path.of(need(args, o));
                    default -> throw new Usage("unknown option " + o);
                }
            }
            if (args.isEmpty()) {
                throw new Usage("no command");
            }
            // the consensus data plane's commands keep no contexts: they need no pin or state root
            if (args.getFirst().equals("consensus-node")) {
                return dev.xps.agent.consensus.DataPlaneNodeMain.run(args.subList(1, args.size()), out, err);
            }
            if (args.getFirst().equals("consensus-readback")) {
                return dev.xps.agent.consensus.LogReadbackMain.run(args.subList(1, args.size()), out, err);
            }
            Agent agent = new Agent(pinRoot, stateRoot);
            String cmd = args.removeFirst();
            switch (cmd) {
                case "help" -> out.print(USAGE);
                case "load" -> {
                    String name = need(args, "NAME");
                    Path dir = Path.of(need(args, "ARTIFACT_DIR"));
                    Path cgroup = null;
                    String iface = null;
                    String netns = null;
                    XdpMode mode = XdpMode.GENERIC;
                    boolean resetServer = true;
                    while (!args.isEmpty()) {
                        String o = args.removeFirst();
                        switch (o) {
                            case "--no-reset-server" -> resetServer = false;
                            case "--cgroup" -> cgroup = Path.of(need(args, o));
                            case "--interface" -> iface = need(args, o);
                            case "--netns" -> netns = need(args, o);
                            case "--xdp-mode" -> mode = XdpMode.valueOf(need(args, o).toUpperCase());
                            default -> throw new Usage("unknown option " + o);
                        }
                    }
                    if (netns != null && iface == null) {
                        throw new Usage("--netns needs --interface");
                    }
                    Attachment a = new Attachment(java.util.Optional.ofNullable(cgroup),
                            java.util.Optional.ofNullable(iface), java.util.Optional.ofNullable(netns), mode);
                    try (Context c = agent.createContext(name, dir, a)) {
                        out.println("loaded " + name + ": " + c.describe());
                        if (resetServer && c.manifest().entries().stream().anyMatch(Manifest.Entry::tcp)) {
                            long pid = ResetServer.ensureResident(pinRoot, stateRoot);
                            out.println("  resets carried out by the reset server, pid " + pid + " (log "
                                    + stateRoot.resolve(ResetServer.LOG_FILE) + ")");
                        }
                    }
                }
                case "compcontext" -> {
                    if (args.contains("--help") || args.contains("-h")) {
                        out.print(COMPCONTEXT_HELP);
                        return 0;
                    }
                    String name = need(args, "NAME");
                    Path dir = Path.of(need(args, "ARTIFACT_DIR"));
                    Integer port = null;
                    Integer offset = null;
                    Integer length = null;
                    Path cgroup = null;
                    String protocol = null;
                    String iface = null;
                    String netns = null;
                    XdpMode mode = null;
                    boolean resetServer = true;
                    while (!args.isEmpty()) {
                        String o = args.removeFirst();
                        switch (o) {
                            case "--port" -> port = integer(need(args, o), o);
                            case "--offset" -> offset = integer(need(args, o), o);
                            case "--length" -> length = integer(need(args, o), o);
                            case "--cgroup" -> cgroup = Path.of(need(args, o));
                            case "--protocol" -> protocol = need(args, o);
                            case "--interface" -> iface = need(args, o);
                            case "--netns" -> netns = need(args, o);
                            case "--xdp-mode" -> mode = xdpMode(need(args, o));
                            case "--no-reset-server" -> resetServer = false;
                            default -> throw new Usage("unknown option " + o);
                        }
                    }
                    if (protocol != null && !protocol.equals("tcp") && !protocol.equals("udp")) {
                        throw new Usage("--protocol is tcp or udp, not '" + protocol + "'");
                    }
                    if (protocol == null) {
                        protocol = iface != null && cgroup == null ? "udp" : "tcp";
                    }
                    if (port == null || offset == null || length == null) {
                        throw new Usage("compcontext needs --port, --offset and --length");
                    }
                    if (protocol.equals("tcp") && (cgroup == null || iface != null || netns != null || mode != null)) {
                        throw new Usage("a TCP composite needs --cgroup PATH (and no --interface, --netns or "
                                + "--xdp-mode)");
                    }
                    if (protocol.equals("udp") && (iface == null || cgroup != null)) {
                        throw new Usage("a UDP composite needs --interface IF [--netns NS] (and no --cgroup)");
                    }
                    if (netns != null && iface == null) {
                        throw new Usage("--netns needs --interface");
                    }
                    Attachment a = protocol.equals("tcp") ? Attachment.cgroup(cgroup)
                            : new Attachment(java.util.Optional.empty(), java.util.Optional.of(iface),
                                    java.util.Optional.ofNullable(netns), mode == null ? XdpMode.GENERIC : mode);
                    String artifactProtocol = compositeProtocol(dir);
                    if (!artifactProtocol.equals(protocol)) {
                        throw new AgentException(dir + " is the " + artifactProtocol.toUpperCase(Locale.ROOT)
                                + " composite object, not the " + protocol.toUpperCase(Locale.ROOT) + " one (write "
                                + "that with: xpsc composite" + (protocol.equals("udp") ? " --protocol udp" : "")
                                + " -o DIR)");
                    }
                    try (Context c = agent.createCompContext(name, dir, port, offset, length, a)) {
                        out.println("loaded composite " + name + ": " + protocol + " port " + port
                                + ", selector at offset " + offset + " length " + length + "; " + c.describe());
                        if (resetServer && protocol.equals("tcp")) {
                            long pid = ResetServer.ensureResident(pinRoot, stateRoot);
                            out.println("  resets carried out by the reset server, pid " + pid + " (log "
                                    + stateRoot.resolve(ResetServer.LOG_FILE) + ")");
                        }
                    }
                }
                case "subcontext" -> {
                    if (args.contains("--help") || args.contains("-h")) {
                        out.print(SUBCONTEXT_HELP);
                        return 0;
                    }
                    String comp = need(args, "COMP");
                    String name = need(args, "NAME");
                    Path dir = Path.of(need(args, "ARTIFACT_DIR"));
                    String value = null;
                    while (!args.isEmpty()) {
                        String o = args.removeFirst();
                        if (o.equals("--value")) {
                            value = need(args, o);
                        } else {
                            throw new Usage("unknown option " + o);
                        }
                    }
                    if (value == null) {
                        throw new Usage("subcontext needs --value V");
                    }
                    byte[] v = selector(value);
                    try (Context c = agent.createSubContext(comp, name, dir, v)) {
                        Agent.SubContext sc = agent.subContext(name).orElseThrow();
                        out.println("loaded sub-context " + name + " of " + comp + ": selector " + Agent.show(v)
                                + ", slot " + sc.slot() + "; " + c.describe());
                    }
                }
                case "update" -> {
                    String name = need(args, "NAME");
                    try (Context c = agent.updateContext(name, Path.of(need(args, "ARTIFACT_DIR")))) {
                        out.println("updated " + name + ": " + c.describe());
                    }
                }
                case "unload" -> {
                    String name = need(args, "NAME");
                    var held = ResetServer.heldRing(agent, name);
                    Agent.DeleteReport r = agent.deleteContext(name);
                    // the resident reset server lets go of the context's ring buffer within a poll: wait, so
                    // that nothing of the context is left in the kernel when unload returns
                    held.ifPresent(id -> {
                        if (!ResetServer.awaitReleased(id)) {
                            out.println("the reset server still holds " + name + "'s reset ring buffer");
                        }
                    });
                    out.println("unloaded " + r.context() + " (drain: " + r.drain() + ")");
                    if (!r.socketsOnFastPath().isEmpty()) {
                        out.println("connections still on the fast path until they close (their programs and maps"
                                + " stay until then): " + r.socketsOnFastPath());
                    }
                }
                case "status" -> {
                    Map<String, String> s = agent.status();
                    if (s.isEmpty()) {
                        out.println("no contexts under " + pinRoot);
                    }
                    s.forEach((k, v) -> out.println(k + ": " + v));
                    out.println(ResetServer.resident(stateRoot).map(pid -> "reset server: running, pid " + pid)
                            .orElse("reset server: not running"));
                }
                case "map" -> map(agent, args, out);
                case "log" -> {
                    try (Context c = agent.context(need(args, "NAME"))) {
                        String map = need(args, "MAP");
                        long from = args.isEmpty() ? 1 : Long.parseLong(args.removeFirst());
                        int count = args.isEmpty() ? 100 : Integer.parseInt(args.removeFirst());
                        Manifest.Layout l = c.manifest().map(map).value();
                        long i = from;
                        for (byte[] e : c.getLog(map, from, count)) {
                            out.println(i++ + " " + l.format(e));
                        }
                    }
                }
                case "stats" -> {
                    try (Context c = agent.context(need(args, "NAME"))) {
                        c.allStats().forEach((e, f) -> out.println("entry " + e + ": " + f));
                        for (Manifest.MapDef d : c.manifest().maps()) {
                            if (d.stats().isPresent()) {
                                for (var h : c.getAllKeyStats(d.name())) {
                                    out.println("map " + d.name() + " " + d.key().format(h.getKey()) + " hits "
                                            + h.getValue());
                                }
                            }
                        }
                    }
                }
                case "serve" -> {
                    long seconds = Long.MAX_VALUE;
                    boolean resident = false;
                    while (!args.isEmpty()) {
                        String o = args.removeFirst();
                        if (o.equals("--resident")) {
                            resident = true;
                        } else {
                            seconds = Long.parseLong(o);
                        }
                    }
                    ResetServer.serve(agent, seconds, resident, out);
                }
                default -> throw new Usage("unknown command " + cmd);
            }
            return 0;
        } catch (Usage | NumberFormatException e) {
            err.println("xps: " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (IllegalArgumentException | NoSuchElementException | AgentException | PreflightException
                 | dev.xps.agent.bpf.BpfException | PinnedMapMismatchException | java.io.UncheckedIOException e) {
            err.println("xps: " + e.getMessage());
            return 1;
        }
    }

    static final String COMPCONTEXT_HELP = """
            usage: xps compcontext NAME ARTIFACT_DIR --port P --offset O --length L [--protocol tcp]
                       --cgroup PATH [--no-reset-server]
                   xps compcontext NAME ARTIFACT_DIR --port P --offset O --length L --protocol udp
                       --interface IF [--netns NS] [--xdp-mode generic|native|auto]
              create_compcontext(port, offset, length): loads the generic composite object that
              'xpsc composite -o DIR' (TCP) or 'xpsc composite --protocol udp -o DIR' (UDP) writes (ARTIFACT_DIR:
              DIR/ebpf/xps-composite or DIR/ebpf/xps-composite-udp) as context NAME for port P.
              TCP: attached to the cgroup v2 PATH (the service must be in it before it listens); also starts the
              resident reset server unless it runs. UDP: XDP on interface IF (inside network namespace NS if
              given), for IPv4 datagrams to port P; without --protocol, --interface alone means udp.
              The L bytes (1..16) at offset O of each request (UDP: of each datagram's payload) choose a
              sub-context (xps subcontext); a request whose selector has none passes to the service.
              xps unload NAME removes the composite with all its sub-contexts.
            """;

    static final String SUBCONTEXT_HELP = """
            usage: xps subcontext COMP NAME ARTIFACT_DIR --value V
              create_subcontext(ctx, handler, value): ARTIFACT_DIR is one handler of COMP's protocol compiled on
              its own ('handler H on tcp|udp port P { ... }' with P the composite's port; xpsc compile X.xps
              --target ebpf -o DIR). It is loaded as context NAME with composite COMP's response buffer and
              counters (TCP: and connection state), and runs for COMP's requests whose selector is V: text, or
              0x-hex, exactly the composite's selector length. Its maps: xps map put|get|delete|dump NAME MAP ...
              xps update NAME DIR swaps its handler (data kept); xps unload NAME removes its selector and slot.
            """;

    private static XdpMode xdpMode(String text) {
        try {
            return XdpMode.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new Usage("--xdp-mode is generic, native or auto, not '" + text + "'");
        }
    }

    /** The protocol of the composite object at {@code dir}, or a failure (exit 1) if it is not one. */
    private static String compositeProtocol(Path dir) {
        Manifest m = Manifest.read(Manifest.locate(dir));
        if (m.composite().isEmpty()) {
            throw new AgentException(dir + " is not the composite object (write it with: xpsc composite "
                    + "[--protocol udp] -o DIR)");
        }
        return m.entries().getFirst().protocol();
    }

    private static int integer(String text, String option) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new Usage(option + " needs an integer, not '" + text + "'");
        }
    }

    private static byte[] selector(String text) {
        if (text.isEmpty()) {
            throw new Usage("--value needs at least one byte");
        }
        if (text.startsWith("0x") && text.length() > 2) {
            try {
                return java.util.HexFormat.of().parseHex(text.substring(2));
            } catch (IllegalArgumentException e) {
                throw new Usage("--value " + text + ": not hex (an even number of 0-9a-f after 0x)");
            }
        }
        return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static String need(List<String> args, String what) {
        if (args.isEmpty()) {
            throw new Usage("missing " + what);
        }
        return args.removeFirst();
    }

    private static void map(Agent agent, List<String> args, PrintStream out) {
        String op = need(args, "put|get|delete|dump");
        String name = need(args, "NAME");
        String map = need(args, "MAP");
        if (!List.of("put", "get", "delete", "dump").contains(op)) {
            throw new Usage("unknown map operation " + op);
        }
        String key = op.equals("dump") ? null : need(args, "KEY");
        String value = op.equals("put") ? need(args, "VALUE") : null;
        try (Context c = agent.context(name)) {
            Manifest.MapDef d = c.manifest().map(map);
            switch (op) {
                case "put" -> c.put(map, d.key().parse(key), d.value().parse(value));
                case "get" -> {
                    var v = c.get(map, d.key().parse(key));
                    if (v.isEmpty()) {
                        throw new NoSuchElementException("no key " + key + " in " + map);
                    }
                    out.println(d.value().format(v.get()));
                }
                case "delete" -> {
                    if (!c.delete(map, d.key().parse(key))) {
                        throw new NoSuchElementException("no key " + key + " in " + map);
                    }
                }
                default -> {
                    for (var e : c.dump(map)) {
                        out.println(d.key().format(e.getKey()) + " " + d.value().format(e.getValue()));
                    }
                }
            }
        }
    }
}
