package dev.xps.consensus.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WireTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void prepareHasTheDocumentedBytes() {
        var p = new VrMessage.Prepare(7, 0, 42, 40, 0x0a000002, 5555, new byte[] {1, 0, 0, 0, 9});
        // magic 5856, version 01, type 01, view 00000007, sender 00, reserved 000000,
        // op, commit, client 10.0.0.2, port 5555 (15b3), length 0005, request
        assertEquals("5856" + "01" + "01" + "00000007" + "00" + "000000"
                        + "000000000000002a" + "0000000000000028" + "0a000002" + "15b3" + "0005" + "0100000009",
                HEX.formatHex(Wire.encode(p)));
        assertEquals(p, Wire.decode(Wire.encode(p)).orElseThrow());
    }

    @Test
    void prepareOkAndCommitRoundTrip() {
        var ok = new VrMessage.PrepareOk(3, 2, 1L << 40);
        var c = new VrMessage.Commit(3, 0, 99);
        assertEquals("5856010200000003020000000000010000000000", HEX.formatHex(Wire.encode(ok)));
        assertEquals(ok, Wire.decode(Wire.encode(ok)).orElseThrow());
        assertEquals(c, Wire.decode(Wire.encode(c)).orElseThrow());
    }

    @Test
    void malformedDatagramsAreNotMessages() {
        byte[] good = Wire.encode(new VrMessage.Prepare(1, 1, 5, 4, 1, 2, new byte[] {7, 7}));
        for (int cut = 0; cut < good.length; cut++) {
            byte[] truncated = java.util.Arrays.copyOf(good, cut);
            assertTrue(Wire.decode(truncated).isEmpty(), "truncated to " + cut);
        }
        byte[] longer = java.util.Arrays.copyOf(good, good.length + 1);
        assertTrue(Wire.decode(longer).isEmpty(), "trailing byte");
        for (int at : new int[] {0, 1, 2, 3, 8, 9, 10, 11}) {
            byte[] bad = good.clone();
            bad[at] ^= (byte) 0x40;
            assertTrue(Wire.decode(bad).isEmpty(), "corrupted header byte " + at);
        }
        byte[] negativeOp = good.clone();
        negativeOp[Wire.HEADER_BYTES] = (byte) 0x80;
        assertTrue(Wire.decode(negativeOp).isEmpty(), "op with the sign bit set");
    }

    @Test
    void randomBytesNeverThrow() {
        Random r = new Random(1);
        for (int i = 0; i < 100_000; i++) {
            byte[] b = new byte[r.nextInt(64)];
            r.nextBytes(b);
            if (b.length >= 3 && r.nextBoolean()) { // often a valid prefix, so the body checks run too
                b[0] = 0x58;
                b[1] = 0x56;
                b[2] = 1;
            }
            Wire.decode(b);
        }
    }

    @Test
    void largestRequestFitsOneDatagram() {
        byte[] req = new byte[Wire.MAX_REQUEST];
        byte[] encoded = Wire.encode(new VrMessage.Prepare(0, 0, 1, 0, 0, 0, req));
        assertEquals(1500 - 20 - 8, encoded.length);
        assertArrayEquals(req, ((VrMessage.Prepare) Wire.decode(encoded).orElseThrow()).request());
    }
}
