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
 */
public final class LogReadbackMain {
    static final String USAGE = """
            usage: xps consensus-readback ARTIFACT_DIR [--entries 1000000] [--reps 7] [--block NAME]
              fills the consensus log map of ARTIFACT_DIR (xpsc --target ebpf -o DIR) with entries 1..N and times
              reading them back with getNicLog(1, N); prints each repetition and the median in ms
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
        try {
            while (!args.isEmpty()) {
                String o = args.removeFirst();
                if (o.equals("--help") || o.equals("-h")) {
                    out.print(USAGE);
                    return 0;
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
            return measure(DataPlaneNodeMain.manifest(artifact), block, entries, reps, out);
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
