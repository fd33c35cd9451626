package dev.xps.backend.ebpf;

import dev.xps.backend.ebpf.Plan.EntryPlan;
import dev.xps.compiler.ir.IpPrefix;
import dev.xps.compiler.ir.Ipv4Prefix;
import dev.xps.compiler.ir.Ipv6Prefix;
import dev.xps.compiler.ir.Predicate;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Real TCP connections through a module's TCP programs, attached the way the agent attaches
 * them: a cgroup v2 of its own ({@code xpsebpf-test-*}) gets the entry's sock_ops program, the
 * entry's SOCKHASH gets the sk_skb stream verdict program (no stream parser) and the sk_msg
 * program. Both ends of every connection are in a {@link TcpPeer} process, started in a fresh
 * network namespace (so the services' well-known ports are free, and nothing else on the machine
 * is touched) and in the cgroup before it listens.
 *
 * <p>One harness serves all the tests of a module; each test attaches its freshly loaded
 * programs ({@link #attach}) and detaches them when done. Closing the harness stops the peer and
 * removes the cgroup.
 */
final class TcpHarness implements AutoCloseable {
    /** The harness could not be set up or used. */
    static final class HarnessException extends Exception {
        private static final long serialVersionUID = 1L;

        HarnessException(String message) {
            super(message);
        }
    }

    /** What crossed each end of one connection. */
    record Observation(byte[] toService, byte[] toClient) {}

    private final Path cgroup;
    private final Process peer;
    private final PrintStream commands;
    private final BufferedReader results;

    private TcpHarness(Path cgroup, Process peer) {
        this.cgroup = cgroup;
        this.peer = peer;
        this.commands = new PrintStream(peer.getOutputStream(), true, StandardCharsets.UTF_8);
        this.results = new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Creates the cgroup and starts the peer in it, in a new network namespace with {@code plan}'s addresses. */
    static TcpHarness start(Plan plan, String name) throws HarnessException {
        Path root = KernelEnvironment.cgroup2().orElseThrow(() ->
                new HarnessException("no cgroup v2 hierarchy is mounted"));
        for (List<String> tool : List.of(List.of("unshare", "--version"), List.of("ip", "-V"))) {
            if (Clang.Process.run(tool, null, 10).exitCode() != 0) {
                throw new HarnessException("'" + tool.getFirst() + "' is needed to run TCP tests in a network "
                        + "namespace of their own (util-linux, iproute2)");
            }
        }
        Path cgroup = root.resolve(name);
        try {
            Files.createDirectories(cgroup);
        } catch (IOException e) {
            throw new HarnessException("cannot create cgroup " + cgroup + ": " + e.getMessage());
        }
        Set<String> addresses = new LinkedHashSet<>();
        for (EntryPlan e : plan.entries()) {
            if (e.tcp()) {
                Ends ends = Ends.of(e.entry().predicate());
                addresses.add(ends.clientIp());
                addresses.add(ends.serverIp());
            }
        }
        StringBuilder script = new StringBuilder("set -e; ip link set lo up; ");
        for (String a : addresses) {
            if (a.contains(":") && !a.equals("::1")) {
                script.append("ip -6 addr add ").append(a).append("/128 dev lo nodad; ");
            } else if (!a.contains(":") && !a.startsWith("127.")) {
                script.append("ip addr add ").append(a).append("/32 dev lo; ");
            }
        }
        script.append("echo $$ > ").append(cgroup.resolve("cgroup.procs")).append("; exec ")
                .append(javaBinary()).append(" -Xshare:auto -XX:TieredStopAtLevel=1 -cp ").append(classPath())
                .append(' ').append(TcpPeer.class.getName());
        try {
            Process p = new ProcessBuilder("unshare", "--net", "--", "sh", "-c", script.toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            TcpHarness h = new TcpHarness(cgroup, p);
            String ready = h.results.readLine();
            if (!"ready".equals(ready)) {
                h.close();
                throw new HarnessException("the TCP test peer did not start (unshare, ip and a cgroup v2 are "
                        + "needed): " + ready);
            }
            return h;
        } catch (IOException e) {
            removeCgroup(cgroup);
            throw new HarnessException("cannot start the TCP test peer: " + e.getMessage());
        }
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String classPath() throws HarnessException {
        try {
            return Path.of(TcpPeer.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException | NullPointerException | SecurityException e) {
            throw new HarnessException("cannot find the TcpPeer class for the peer process: " + e);
        }
    }

    /** The programs of one test's load, attached; closing detaches them. */
    final class Attachment implements AutoCloseable {
        private final List<List<String>> detach = new ArrayList<>();

        private void run(List<String> attach, List<String> undo) throws HarnessException {
            Clang.Process.Outcome out = Bpftool.run(attach);
            if (out.exitCode() != 0) {
                throw new HarnessException("bpftool " + String.join(" ", attach) + ": " + out.output().strip());
            }
            detach.addFirst(undo);
        }

        @Override
        public void close() {
            for (List<String> undo : detach) {
                Bpftool.run(undo);
            }
            detach.clear();
        }
    }

    Attachment attach(Plan plan, Bpftool.Pins pins) throws HarnessException {
        Attachment a = new Attachment();
        try {
            for (EntryPlan e : plan.entries()) {
                if (!e.tcp()) {
                    continue;
                }
                String socks = pins.map(e.socks()).toString();
                String verdict = pins.program(e.verdictProg()).toString();
                String egress = pins.program(e.egressProg()).toString();
                String sockops = pins.program(e.sockopsProg()).toString();
                a.run(List.of("prog", "attach", "pinned", verdict, "stream_verdict", "pinned", socks),
                        List.of("prog", "detach", "pinned", verdict, "stream_verdict", "pinned", socks));
                a.run(List.of("prog", "attach", "pinned", egress, "msg_verdict", "pinned", socks),
                        List.of("prog", "detach", "pinned", egress, "msg_verdict", "pinned", socks));
                a.run(List.of("cgroup", "attach", cgroup.toString(), "sock_ops", "pinned", sockops, "multi"),
                        List.of("cgroup", "detach", cgroup.toString(), "sock_ops", "pinned", sockops));
            }
            return a;
        } catch (HarnessException e) {
            a.close();
            throw e;
        }
    }

    /** The client and service addresses and ports that match an entry point's predicate. */
    record Ends(String clientIp, int clientPort, String serverIp, int serverPort) {
        /** IPv4 on loopback; over IPv6 (::1 unless a prefix says otherwise) when the predicate's prefixes are IPv6. */
        static Ends of(Predicate p) {
            String local = p.isIpv6() ? "::1" : "127.0.0.1";
            String client = p.srcAddress().map(Ends::host).orElse(local);
            String server = p.dstAddress().map(Ends::host).orElse(local);
            return new Ends(client, p.srcPort().map(r -> r.low()).orElse(0), server, p.dstPort().low());
        }

        private static String host(IpPrefix prefix) {
            if (prefix instanceof Ipv6Prefix v6) {
                return dev.xps.runtime.Ipv6Prefix.format(Packets.hostIn6(v6), 0); // RFC 5952, so ::1 is "::1"
            }
            Ipv4Prefix v4 = (Ipv4Prefix) prefix;
            long a = v4.prefixLength() >= 31 ? v4.address() : v4.address() + 1;
            return ((a >> 24) & 255) + "." + ((a >> 16) & 255) + "." + ((a >> 8) & 255) + "." + (a & 255);
        }
    }

    /** Sends {@code payload} on a fresh connection to {@code entry} and reports what each end received. */
    Observation send(EntryPlan entry, byte[] payload) throws HarnessException {
        return send(Ends.of(entry.entry().predicate()), payload);
    }

    /** Sends {@code payload} on a fresh connection between {@code ends}. */
    Observation send(Ends ends, byte[] payload) throws HarnessException {
        commands.println("send " + ends.clientIp() + " " + ends.clientPort() + " " + ends.serverIp() + " "
                + ends.serverPort() + " " + (payload.length == 0 ? "-" : HexFormat.of().formatHex(payload)));
        String line;
        try {
            line = results.readLine();
        } catch (IOException e) {
            throw new HarnessException("the TCP test peer failed: " + e.getMessage());
        }
        if (line == null || !line.startsWith("result ")) {
            throw new HarnessException("the TCP test peer failed: " + line);
        }
        String[] f = line.split(" ");
        return new Observation(unhex(f[1]), unhex(f[2]));
    }

    /** Opens one connection to {@code entry} that {@link #segment} and {@link #reply} use. */
    void open(EntryPlan entry) throws HarnessException {
        Ends ends = Ends.of(entry.entry().predicate());
        expectOk(command("open " + ends.clientIp() + " " + ends.clientPort() + " " + ends.serverIp() + " "
                + ends.serverPort()));
    }

    /** The client writes {@code bytes} on the open connection. */
    Observation segment(byte[] bytes) throws HarnessException {
        return result(command("segment " + HexFormat.of().formatHex(bytes)));
    }

    /** The service writes {@code bytes} on the open connection. */
    Observation reply(byte[] bytes) throws HarnessException {
        return result(command("reply " + HexFormat.of().formatHex(bytes)));
    }

    void closeConnection() throws HarnessException {
        expectOk(command("close"));
    }

    private String command(String line) throws HarnessException {
        commands.println(line);
        try {
            return results.readLine();
        } catch (IOException e) {
            throw new HarnessException("the TCP test peer failed: " + e.getMessage());
        }
    }

    private static void expectOk(String line) throws HarnessException {
        if (!"ok".equals(line)) {
            throw new HarnessException("the TCP test peer failed: " + line);
        }
    }

    private static Observation result(String line) throws HarnessException {
        if (line == null || !line.startsWith("result ")) {
            throw new HarnessException("the TCP test peer failed: " + line);
        }
        String[] f = line.split(" ");
        return new Observation(unhex(f[1]), unhex(f[2]));
    }

    private static byte[] unhex(String s) {
        return s.equals("-") ? new byte[0] : HexFormat.of().parseHex(s);
    }

    @Override
    public void close() {
        commands.println("quit");
        try {
            if (!peer.waitFor(5, TimeUnit.SECONDS)) {
                peer.destroyForcibly();
                peer.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            peer.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        removeCgroup(cgroup);
    }

    private static void removeCgroup(Path cgroup) {
        for (int i = 0; i < 50; i++) {
            try {
                Files.deleteIfExists(cgroup);
                return;
            } catch (IOException busy) {
                // the peer's exit takes a moment to leave the cgroup
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
