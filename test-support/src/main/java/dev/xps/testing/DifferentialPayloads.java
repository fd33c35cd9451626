package dev.xps.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrTest;
import dev.xps.compiler.ir.Protocol;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The payloads differential tests send to two targets of the same handler: derived from the
 * module's own in-language tests (every {@code send}), valid as they are, truncated, the second half
 * of a split, pipelines of up to 40 requests (now and then ending mid-request), byte flips, case
 * flips, and garbage. Seeded: the same seed gives the same sequence.
 *
 * <p>{@link #setup()} is the map setup every differential starts from on each target: every
 * test's puts and appends, in order, so that requests hit as well as miss.
 */
public final class DifferentialPayloads {
    private static final byte[] NOISE = "\r\n $*:0123456789GETSETPOSTPUT /\0\u00ff".getBytes(StandardCharsets.ISO_8859_1);

    /** One payload for one entry point; {@code base} is the test send it was derived from. */
    public record Input(IrTest.Send base, byte[] payload) {
        public String entry() {
            return base.entry().name();
        }

        public boolean tcp() {
            return base.entry().predicate().protocol() == Protocol.TCP;
        }
    }

    private final List<IrTest.Send> corpus;
    private final List<IrTest.Step> setup;

    private DifferentialPayloads(List<IrTest.Send> corpus, List<IrTest.Step> setup) {
        this.corpus = corpus;
        this.setup = setup;
    }

    /** The sends and the map setup of every test of {@code module}; a module without sends fails. */
    public static DifferentialPayloads of(IrModule module) {
        List<IrTest.Send> corpus = module.tests().stream().flatMap(t -> t.steps().stream())
                .filter(s -> s instanceof IrTest.Send).map(s -> (IrTest.Send) s).toList();
        assertFalse(corpus.isEmpty(), module.sourceFile() + " has no sends to start from");
        List<IrTest.Step> setup = module.tests().stream().flatMap(t -> t.steps().stream())
                .filter(s -> s instanceof IrTest.Put || s instanceof IrTest.Append).toList();
        return new DifferentialPayloads(corpus, setup);
    }

    public List<IrTest.Send> corpus() {
        return corpus;
    }

    /** Every {@link IrTest.Put} and {@link IrTest.Append} of the module's tests, in source order. */
    public List<IrTest.Step> setup() {
        return setup;
    }

    /** The next payload: a random test send, mutated. */
    public Input next(Random random) {
        IrTest.Send base = corpus.get(random.nextInt(corpus.size()));
        boolean tcp = base.entry().predicate().protocol() == Protocol.TCP;
        return new Input(base, mutate(random, base.payload(), corpus, base, tcp));
    }

    /**
     * A payload derived from {@code base}: valid as is, or cut, split, pipelined, flipped, or garbage.
     * Never empty for TCP (TCP has no empty segment).
     */
    public static byte[] mutate(Random r, byte[] base, List<IrTest.Send> corpus, IrTest.Send baseSend, boolean tcp) {
        byte[] out = switch (r.nextInt(10)) {
            case 0, 1 -> base.clone();
            case 2 -> Arrays.copyOf(base, r.nextInt(base.length + 1));                        // truncation
            case 3 -> Arrays.copyOfRange(base, base.length == 0 ? 0 : r.nextInt(base.length), base.length); // second half of a split
            case 4, 5 -> {                                                                      // pipeline
                ByteArrayOutputStream p = new ByteArrayOutputStream();
                int n = 2 + (r.nextInt(4) == 0 ? r.nextInt(39) : r.nextInt(4));
                for (int i = 0; i < n; i++) {
                    IrTest.Send s = corpus.get(r.nextInt(corpus.size()));
                    p.writeBytes(s.entry().name().equals(baseSend.entry().name()) ? s.payload() : base);
                }
                if (r.nextBoolean()) {
                    byte[] tail = corpus.get(r.nextInt(corpus.size())).payload();
                    p.write(tail, 0, r.nextInt(tail.length + 1));                               // ends mid-request
                }
                yield p.toByteArray();
            }
            case 6, 7 -> {                                                                      // point mutations
                byte[] m = base.clone();
                int edits = 1 + r.nextInt(3);
                for (int i = 0; i < edits && m.length > 0; i++) {
                    int at = r.nextInt(m.length);
                    m[at] = r.nextBoolean() ? NOISE[r.nextInt(NOISE.length)] : (byte) r.nextInt(256);
                }
                yield m;
            }
            case 8 -> {                                                                         // case flips
                byte[] m = base.clone();
                for (int i = 0; i < m.length; i++) {
                    if (Character.isLetter(m[i]) && r.nextInt(4) == 0) {
                        m[i] ^= 0x20;
                    }
                }
                yield m;
            }
            default -> {                                                                        // garbage
                byte[] g = new byte[r.nextInt(80)];
                for (int i = 0; i < g.length; i++) {
                    g[i] = r.nextBoolean() ? NOISE[r.nextInt(NOISE.length)] : (byte) r.nextInt(256);
                }
                yield g;
            }
        };
        if (out.length == 0 && tcp) {
            return base.length == 0 ? new byte[] {'x'} : base.clone();  // TCP has no empty segment
        }
        return out;
    }
}
