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
    @Test
    void stateTransferMessagesHaveTheDocumentedBytes() {
        var r = new VrMessage.StateRequest(3, 1, 500, 0x01020304, 2048);
        // header type 04 | applied u64 | nonce u32 | offset u32
        assertEquals("5856" + "01" + "04" + "00000003" + "01" + "000000"
                + "00000000000001f4" + "01020304" + "00000800", HEX.formatHex(Wire.encode(r)));
        assertEquals(r, Wire.decode(Wire.encode(r)).orElseThrow());
        var c = new VrMessage.StateChunk(3, 0, 499, 7, 10, 8, new byte[] {5, 6});
        // header type 05 | op u64 | nonce u32 | total u32 | offset u32 | length u16 | data
        assertEquals("5856" + "01" + "05" + "00000003" + "00" + "000000"
                + "00000000000001f3" + "00000007" + "0000000a" + "00000008" + "0002" + "0506",
                HEX.formatHex(Wire.encode(c)));
        assertEquals(c, Wire.decode(Wire.encode(c)).orElseThrow());
        byte[] full = Wire.encode(new VrMessage.StateChunk(0, 0, 1, 1, Wire.MAX_CHUNK, 0, new byte[Wire.MAX_CHUNK]));
        assertTrue(full.length <= 1500 - 20 - 8, "a full chunk fits one datagram");
    }

    @Test
    void malformedStateMessagesAreNotMessages() {
        byte[] req = Wire.encode(new VrMessage.StateRequest(1, 1, 5, 4, 0));
        for (int cut = 0; cut < req.length; cut++) {
            assertTrue(Wire.decode(java.util.Arrays.copyOf(req, cut)).isEmpty(), "request truncated to " + cut);
        }
        byte[] chunk = Wire.encode(new VrMessage.StateChunk(1, 1, 5, 4, 3, 1, new byte[] {1, 2}));
        for (int cut = 0; cut < chunk.length; cut++) {
            assertTrue(Wire.decode(java.util.Arrays.copyOf(chunk, cut)).isEmpty(), "chunk truncated to " + cut);
        }
        assertTrue(Wire.decode(java.util.Arrays.copyOf(chunk, chunk.length + 1)).isEmpty(), "trailing byte");
        byte[] beyond = chunk.clone();
        beyond[Wire.HEADER_BYTES + 8 + 4 + 3] = 2; // total 2 < offset 1 + length 2
        assertTrue(Wire.decode(beyond).isEmpty(), "chunk beyond the snapshot's end");
    }

    @Test
    void typesOneToThreeAreUnchangedAndUnknownTypesAreDropped() {
        byte[] commit = Wire.encode(new VrMessage.Commit(3, 0, 99));
        assertEquals("5856010300000003000000000000000000000063", HEX.formatHex(commit));
        byte[] unknown = commit.clone();
        unknown[3] = 11; // types 1-10 are taken (10: REJOIN)
        assertTrue(Wire.decode(unknown).isEmpty());
    }

    @Test
    void viewChangeMessagesHaveTheDocumentedBytes() {
        var d = new VrMessage.DoViewChange(4, 2, 3, 300, 290);
        // header type 06 (view = the proposed view) | latest normal view u32 | contiguous u64 | commit u64
        assertEquals("5856" + "01" + "06" + "00000004" + "02" + "000000" + "00000003"
                + "000000000000012c" + "0000000000000122", HEX.formatHex(Wire.encode(d)));
        assertEquals(d, Wire.decode(Wire.encode(d)).orElseThrow());
        var v = new VrMessage.StartView(4, 1, 2, 300, 299);
        // header type 07 | the adopted log's view u32 | contiguous u64 | commit u64
        assertEquals("5856" + "01" + "07" + "00000004" + "01" + "000000" + "00000002"
                + "000000000000012c" + "000000000000012b", HEX.formatHex(Wire.encode(v)));
        assertEquals(v, Wire.decode(Wire.encode(v)).orElseThrow());
        // the version before views in reports (16-byte body) and a negative view are not messages of ours
        assertTrue(Wire.decode(HEX.parseHex("5856" + "01" + "06" + "00000004" + "02" + "000000"
                + "000000000000012c" + "0000000000000122")).isEmpty());
        assertTrue(Wire.decode(HEX.parseHex("5856" + "01" + "07" + "00000004" + "01" + "000000" + "ffffffff"
                + "000000000000012c" + "000000000000012b")).isEmpty());
        var rejoin = new VrMessage.Rejoin(4, 2, 300);
        // header type 0a | contiguous u64
        assertEquals("5856" + "01" + "0a" + "00000004" + "02" + "000000" + "000000000000012c",
                HEX.formatHex(Wire.encode(rejoin)));
        assertEquals(rejoin, Wire.decode(Wire.encode(rejoin)).orElseThrow());
        var r = new VrMessage.LogRequest(4, 1, 10, 73);
        assertEquals("5856" + "01" + "08" + "00000004" + "01" + "000000"
                + "000000000000000a" + "0000000000000049", HEX.formatHex(Wire.encode(r)));
        assertEquals(r, Wire.decode(Wire.encode(r)).orElseThrow());
        var c = new VrMessage.LogCopy(4, 2, 11, 0x0a000064, 40000, new byte[] {1, 0, 0, 0, 7});
        // header type 09 | op u64 | client IPv4 | client port | length u16 | request
        assertEquals("5856" + "01" + "09" + "00000004" + "02" + "000000"
                + "000000000000000b" + "0a000064" + "9c40" + "0005" + "0100000007", HEX.formatHex(Wire.encode(c)));
        assertEquals(c, Wire.decode(Wire.encode(c)).orElseThrow());
        byte[] copy = Wire.encode(c);
        for (int cut = 0; cut < copy.length; cut++) {
            assertTrue(Wire.decode(java.util.Arrays.copyOf(copy, cut)).isEmpty(), "copy truncated to " + cut);
        }
        byte[] dvc = Wire.encode(d);
        assertTrue(Wire.decode(java.util.Arrays.copyOf(dvc, dvc.length + 1)).isEmpty(), "trailing byte");
    }
}
