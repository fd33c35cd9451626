package dev.xps.agent.consensus;

import dev.xps.agent.bpf.BpfException;
import dev.xps.agent.bpf.BpfMap;
import dev.xps.agent.bpf.PreflightException;
import dev.xps.consensus.LogEntry;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code xps consensus-readback}: how long {@link ConsensusDataPlane#getNicLog} takes to read a full log back
 * (the recovery path of docs/consensus.md). Loads the block's consensus object (nothing is attached), fills its log
 * map with entries {@code 1 .. N} by batch-writing the map directly ({@code bpf_map_update_batch}, in the layout
 * the data plane writes: op, client address and port, length, a 5-byte timestamp NEXT request), then times
 * {@code getNicLog(1, N)} {@code --reps} times and checks every read returned N entries in op order.
 *
 * <pre>
 * xps consensus-readback ARTIFACT_DIR [--entries 1000000] [--reps 7] [--block NAME]
 * </pre>
 *
 * Prints one line per repetition ({@code readback rep R: N entries in X ms}) and the median
 * ({@code readback median: X ms for N entries (min .., max ..)}). Exit codes: 1 failure, 2 usage.
 *
 * <p>With {@code --recover} it times a whole host-service recovery instead: the same filled log, the plane started
 * as the only member of a one-member group (nothing attached: the programs do not run; commit = last op = N), and
 * {@link ConsensusDataPlane#recoverService} of a fresh {@code TimestampService} from checkpoint 0, {@code --reps}
 * times: it stops ordering, finds the oldest entry the log holds ({@code lowestHeld}, a read of the log from the top
 * down), reads {@code 1 .. N} back in op order and executes each entry in the service, in op order, and resumes.
 * Each run is checked: N entries from the log, none by state transfer, the service's last timestamp N and no entry
 * out of order. Lines: {@code recover rep R: N entries in X ms}, {@code recover median: ...}.
 */
public final class LogReadbackMain {
    static final String USAGE = """
            usage: xps consensus-readback ARTIFACT_DIR [--entries 1000000] [--reps 7] [--block NAME] [--recover]
              fills the consensus log map of ARTIFACT_DIR (xpsc --target ebpf -o DIR) with entries 1..N and times
              reading them back with getNicLog(1, N); prints each repetition and the median in ms
              --recover: times recoverService instead (read back + execute 1..N in op order into a fresh
                         timestamp service)
            """;

    private LogReadbackMain() {}

    public static void main(String[] argv) {
        System.exit(run(List.of(argv), System.out, System.err));
    }

    public static int run(List<String> argv, PrintStream out, PrintStream err) {
        List<String> args = new ArrayList<>(argv);
        Path artifact = null;
        long entries = 1_000_000;
        int reps = 7;
        String block = null;
        boolean recover = false;
        try {
            while (!args.isEmpty()) {
                String o = args.removeFirst();
                if (o.equals("--help") || o.equals("-h")) {
                    out.print(USAGE);
                    return 0;
                }
                if (o.equals("--recover")) {
                    recover = true;
                    continue;
                }
                if (!o.startsWith("--")) {
                    if (artifact != null) {
                        throw new DataPlaneNodeMain.Usage("one ARTIFACT_DIR only");
                    }
                    artifact = Path.of(o);
                    continue;
                }
                if (args.isEmpty()) {
                    throw new DataPlaneNodeMain.Usage("missing value for " + o);
                }
                String v = args.removeFirst();
                switch (o) {
                    case "--entries" -> entries = number(o, v, 1, Integer.MAX_VALUE);
                    case "--reps" -> reps = (int) number(o, v, 1, 1000);
                    case "--block" -> block = v;
                    default -> throw new DataPlaneNodeMain.Usage("unknown option " + o);
                }
            }
            if (artifact == null) {
                throw new DataPlaneNodeMain.Usage("missing ARTIFACT_DIR");
            }
        } catch (DataPlaneNodeMain.Usage e) {
            err.println("xps: consensus-readback: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        try {
            return recover ? measureRecovery(DataPlaneNodeMain.manifest(artifact), block, entries, reps, out)
                    : measure(DataPlaneNodeMain.manifest(artifact), block, entries, reps, out);
        } catch (IllegalArgumentException | IllegalStateException | PreflightException | BpfException
                 | UncheckedIOException | IOException e) {
            err.println("xps: consensus-readback: " + e.getMessage());
            return 1;
        }
    }

    private static long number(String o, String v, long min, long max) {
        long n;
        try {
            n = Long.parseLong(v.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new DataPlaneNodeMain.Usage(o + " needs a number, got '" + v + "'");
        }
        if (n < min || n > max) {
            throw new DataPlaneNodeMain.Usage(o + " must be " + min + ".." + max + ", got " + n);
        }
        return n;
    }

    private static int measure(Path manifest, String blockName, long n, int reps, PrintStream out) {
        try (ConsensusDataPlane dp = ConsensusDataPlane.load(manifest, blockName,
                ConsensusDataPlane.Options.defaults())) {
            if (n > dp.capacity()) {
                throw new IllegalArgumentException("the log holds " + dp.capacity() + " entries; asked for " + n);
            }
            long t0 = System.nanoTime();
            fill(dp, n);
            out.printf(Locale.ROOT, "readback: block '%s', %d log slots of %d bytes; filled ops 1..%d by"
                            + " bpf_map_update_batch in %.1f ms%n", dp.block().name(), dp.capacity(),
                    dp.block().slotSize(), n, (System.nanoTime() - t0) / 1e6);
            dp.getNicLog(1, Math.min(n, 4 * ConsensusDataPlane.BATCH)); // class loading, thread start-up
            double[] ms = new double[reps];
            for (int r = 0; r < reps; r++) {
                long s = System.nanoTime();
                List<LogEntry> got = dp.getNicLog(1, n);
                ms[r] = (System.nanoTime() - s) / 1e6;
                if (got.size() != n || got.getFirst().op() != 1 || got.getLast().op() != n
                        || got.get((int) (n / 2)).op() != n / 2 + 1) {
                    throw new IllegalStateException("read back " + got.size() + " entries, not " + n + " in op order");
                }
                out.printf(Locale.ROOT, "readback rep %d: %d entries in %.1f ms%n", r + 1, got.size(), ms[r]);
                out.flush();
            }
            double[] sorted = ms.clone();
            Arrays.sort(sorted);
            double median = reps % 2 == 1 ? sorted[reps / 2] : (sorted[reps / 2 - 1] + sorted[reps / 2]) / 2;
            out.printf(Locale.ROOT, "readback median: %.1f ms for %d entries (min %.1f, max %.1f, %d reps)%n",
                    median, n, sorted[0], sorted[reps - 1], reps);
            return 0;
        }
    }

    private static int measureRecovery(Path manifest, String blockName, long n, int reps, PrintStream out)
            throws IOException {
        try (ConsensusDataPlane dp = ConsensusDataPlane.load(manifest, blockName,
                ConsensusDataPlane.Options.defaults());
             java.nio.channels.DatagramChannel unbound = java.nio.channels.DatagramChannel.open()) {
            if (n > dp.capacity()) {
                throw new IllegalArgumentException("the log holds " + dp.capacity() + " entries; asked for " + n);
            }
            long t0 = System.nanoTime();
            fill(dp, n);
            out.printf(Locale.ROOT, "recover: block '%s', %d log slots of %d bytes; filled ops 1..%d by"
                            + " bpf_map_update_batch in %.1f ms%n", dp.block().name(), dp.capacity(),
                    dp.block().slotSize(), n, (System.nanoTime() - t0) / 1e6);
            dev.xps.consensus.Member self = new dev.xps.consensus.Member(0,
                    (java.net.Inet4Address) java.net.InetAddress.getByName("127.0.0.1"), new byte[6]);
            dp.updateReplica(new dev.xps.consensus.Group(0, List.of(self), dp.block().port()), 0);
            dp.forceNumbers(n, n); // everything committed (and, for the detector, answered)
            dp.setApplied(n); // the running service starts idle
            dp.start(new dev.xps.consensus.service.TimestampService(), null, unbound);
            double[] ms = new double[reps];
            for (int r = 0; r < reps; r++) {
                var fresh = new dev.xps.consensus.service.TimestampService();
                long s = System.nanoTime();
                dev.xps.consensus.RecoveryReport report = dp.recoverService(fresh, 0, java.time.Duration.ofMinutes(5));
                ms[r] = (System.nanoTime() - s) / 1e6;
                if (report.fromLocalLog() != n || report.fromStateTransfer() != 0 || report.appliedOp() != n
                        || fresh.last() != n || fresh.executed() != n || fresh.outOfOrder() != 0) {
                    throw new IllegalStateException("recovery did not execute 1.." + n + " in order from the log: "
                            + report + ", service last " + fresh.last() + ", out of order " + fresh.outOfOrder());
                }
                out.printf(Locale.ROOT, "recover rep %d: %d entries in %.1f ms (%.2f M entries/s)%n", r + 1, n, ms[r],
                        n / ms[r] / 1e3);
                out.flush();
            }
            double[] sorted = ms.clone();
            Arrays.sort(sorted);
            double median = reps % 2 == 1 ? sorted[reps / 2] : (sorted[reps / 2 - 1] + sorted[reps / 2]) / 2;
            out.printf(Locale.ROOT, "recover median: %.1f ms for %d entries (min %.1f, max %.1f, %d reps)%n",
                    median, n, sorted[0], sorted[reps - 1], reps);
            return 0;
        }
    }

    /** Writes ops 1..n into their slots ({@code op mod capacity}) as the data plane's leader would log them. */
    private static void fill(ConsensusDataPlane dp, long n) {
        ConsensusManifest.Block b = dp.block();
        BpfMap log = dp.logMap();
        int size = b.slotSize();
        int opOff = b.slot("op").offset();
        int ipOff = b.slot("clientIp").offset();
        int portOff = b.slot("clientPort").offset();
        int lenOff = b.slot("length").offset();
        int dataOff = b.slot("data").offset();
        int chunk = 65_536;
        for (long from = 1; from <= n; from += chunk) {
            long to = Math.min(n, from + chunk - 1);
            List<BpfMap.Entry> batch = new ArrayList<>((int) (to - from + 1));
            for (long op = from; op <= to; op++) {
                ByteBuffer v = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
                v.putLong(opOff, op);
                v.put(ipOff, new byte[] {10, 0, 0, 100});
                v.put(portOff, (byte) 0x9c).put(portOff + 1, (byte) 0x40); // port 40000, network order
                v.putShort(lenOff, (short) 5);
                v.put(dataOff, (byte) 1).putInt(dataOff + 1, Integer.reverseBytes((int) op)); // NEXT | id (BE)
                batch.add(new BpfMap.Entry(ConsensusDataPlane.key((int) (op % dp.capacity())), v.array()));
            }
            log.updateAll(batch, BpfMap.Update.ANY);
        }
    }
}
