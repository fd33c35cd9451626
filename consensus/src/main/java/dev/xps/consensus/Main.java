package dev.xps.consensus;

import dev.xps.consensus.client.LoadGenerator;
import dev.xps.consensus.client.VrClient;
import dev.xps.consensus.service.KvService;
import dev.xps.consensus.service.TimestampService;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code bin/xps-vr}: runs one member of a host-only VR group, or a client load against a group.
 *
 * <pre>
 * xps-vr node   --members A,B,C --index I [--service timestamp|kv] [--port P] [--view V] [--log-capacity N]
 *               [--retransmit-ms 10] [--backlog 256] [--failure-threshold 5] [--failure-floor-ms 50]
 *               [--recover] [--stats-every-ms 0]
 * xps-vr client --members A,B,C [--service timestamp|kv] [--port P] [--bind ADDR] [--clients 4]
 *               [--requests 1000] [--timeout-ms 200] [--leader I]
 * </pre>
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            usage(null);
        }
        String mode = args[0];
        Opts o = new Opts();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--recover")) {
                o.recover = true;
                continue;
            }
            if (i + 1 >= args.length) {
                usage("missing value for " + a);
            }
            String v = args[++i];
            switch (a) {
                case "--members" -> o.members = v;
                case "--index" -> o.index = Integer.parseInt(v);
                case "--service" -> o.service = v;
                case "--port" -> o.port = Integer.parseInt(v);
                case "--view" -> o.view = Integer.parseInt(v);
                case "--log-capacity" -> o.logCapacity = Integer.parseInt(v.replace("_", ""));
                case "--retransmit-ms" -> o.retransmitMs = Long.parseLong(v);
                case "--backlog" -> o.backlog = Integer.parseInt(v);
                case "--failure-threshold" -> o.failureThreshold = Double.parseDouble(v);
                case "--failure-floor-ms" -> o.failureFloorMs = Long.parseLong(v);
                case "--stats-every-ms" -> o.statsEveryMs = Long.parseLong(v);
                case "--bind" -> o.bind = v;
                case "--clients" -> o.clients = Integer.parseInt(v);
                case "--requests" -> o.requests = Integer.parseInt(v);
                case "--timeout-ms" -> o.timeoutMs = Long.parseLong(v);
                case "--leader" -> o.leader = Integer.parseInt(v);
                default -> usage("unknown option " + a);
            }
        }
        if (o.members == null) {
            usage("--members is required");
        }
        if (!o.service.equals("timestamp") && !o.service.equals("kv")) {
            usage("--service must be timestamp or kv");
        }
        if (o.port == 0) {
            o.port = o.service.equals("kv") ? KvService.PORT : TimestampService.PORT;
        }
        List<Member> members = new ArrayList<>();
        String[] addrs = o.members.split(",");
        for (int i = 0; i < addrs.length; i++) {
            InetAddress a = InetAddress.getByName(addrs[i].trim());
            if (!(a instanceof Inet4Address a4)) {
                usage("not an IPv4 address: " + addrs[i]);
                return;
            }
            members.add(new Member(i, a4, new byte[6]));
        }
        Group group = new Group(o.view, members, o.port);
        try {
            switch (mode) {
                case "node" -> node(group, o);
                case "client" -> client(group, o);
                default -> usage("unknown mode " + mode);
            }
        } catch (IllegalArgumentException | java.io.IOException e) {
            System.err.println("xps-vr: " + e.getMessage());
            System.exit(1);
        }
    }

    private static void node(Group group, Opts o) throws Exception {
        if (o.index < 0 || o.index >= group.size()) {
            usage("--index must be 0.." + (group.size() - 1));
        }
        boolean kv = o.service.equals("kv");
        VrOptions opt = VrOptions.defaults()
                .withOrder(kv ? KvService.order() : TimestampService.order())
                .withEntrySize(kv ? KvService.ENTRY_SIZE : TimestampService.ENTRY_SIZE)
                .withLogCapacity(o.logCapacity).withRetransmitInterval(Duration.ofMillis(o.retransmitMs))
                .withBacklogThreshold(o.backlog).withFailureThreshold(o.failureThreshold)
                .withFailureFloor(Duration.ofMillis(o.failureFloorMs));
        RecoverableService service = kv ? new KvService() : new TimestampService();
        UnorderedHandler unordered = kv ? ((KvService) service).gets() : TimestampService.probes();
        VrNode.Listener listener = (n, age, rtt, limit) -> System.err.printf(Locale.ROOT,
                "xps-vr: member %d: host failure: oldest entry unanswered for %.1f ms (limit %.1f ms, rtt %.1f us);"
                        + " ordering stopped%n", n.index(), age / 1e6, limit / 1e6, rtt / 1e3);
        VrNode node;
        if (o.recover) {
            VrNode.Recovering r = VrNode.startRecovering(group, o.index, service, 0, opt, null, unordered, listener);
            node = r.node();
            r.done().whenComplete((rep, err) -> System.err.println("xps-vr: member " + o.index + ": "
                    + (err == null ? "recovered: " + rep : "recovery failed: " + err)));
        } else {
            node = VrNode.start(group, o.index, service, opt, null, unordered, listener);
        }
        System.err.printf("xps-vr: member %d of %d (%s service) on %s, replication port %d, view %d%s%n", o.index,
                group.size(), o.service, node.clientAddress(), group.replicationPort(), group.view(),
                node.isLeader() ? ", leader" : "");
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("xps-vr: " + node + " " + node.stats());
            node.close();
            stop.countDown();
        }));
        if (o.statsEveryMs > 0) {
            for (;;) { // until the process is stopped
                if (stop.await(o.statsEveryMs, TimeUnit.MILLISECONDS)) {
                    return;
                }
                System.err.println("xps-vr: " + node + " " + node.stats());
            }
        }
        stop.await();
    }

    private static void client(Group group, Opts o) throws Exception {
        boolean kv = o.service.equals("kv");
        List<InetSocketAddress> servers = new ArrayList<>();
        for (Member m : group.members()) {
            servers.add(new InetSocketAddress(m.address(), group.port()));
        }
        List<VrClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < o.clients; i++) {
                VrClient c = new VrClient(null, new InetSocketAddress(InetAddress.getByName(o.bind), 0), servers,
                        Duration.ofMillis(o.timeoutMs), 3, 50);
                c.useServer(o.leader >= 0 ? o.leader : group.leader());
                clients.add(c);
            }
            LoadGenerator.Result r = LoadGenerator.run(clients, o.requests, kv
                    ? id -> KvService.put(id, "key-" + (id % 1000), ("value-" + id).getBytes())
                    : TimestampService::next);
            System.out.printf(Locale.ROOT, "answered %d unanswered %d resends %d duplicates %d in %.3f s:"
                            + " %.0f req/s, p50 %.1f us, p99 %.1f us%n", r.answered(), r.unanswered(), r.retries(),
                    r.duplicates(), r.nanos() / 1e9, r.throughputPerSecond(), r.latencyPercentile(50) / 1e3,
                    r.latencyPercentile(99) / 1e3);
            if (r.unanswered() > 0) {
                System.exit(1);
            }
        } finally {
            for (VrClient c : clients) {
                c.close();
            }
        }
    }

    private static void usage(String error) {
        if (error != null) {
            System.err.println("xps-vr: " + error);
        }
        System.err.println("""
                usage: xps-vr node   --members A,B,C --index I [--service timestamp|kv] [--port P] [--view V]
                                     [--log-capacity N] [--retransmit-ms 10] [--backlog 256]
                                     [--failure-threshold 5] [--failure-floor-ms 50] [--recover] [--stats-every-ms 0]
                       xps-vr client --members A,B,C [--service timestamp|kv] [--port P] [--bind ADDR]
                                     [--clients 4] [--requests 1000] [--timeout-ms 200] [--leader I]""");
        System.exit(2);
    }

    private static final class Opts {
        String members;
        int index = -1;
        String service = "timestamp";
        int port;
        int view;
        int logCapacity = VrOptions.DEFAULT_LOG_CAPACITY;
        long retransmitMs = 10;
        int backlog = VrOptions.DEFAULT_BACKLOG;
        double failureThreshold = VrOptions.DEFAULT_FAILURE_THRESHOLD;
        long failureFloorMs = VrOptions.DEFAULT_FAILURE_FLOOR.toMillis();
        long statsEveryMs;
        boolean recover;
        String bind = "0.0.0.0";
        int clients = 4;
        int requests = 1000;
        long timeoutMs = 200;
        int leader = -1;
    }
}
