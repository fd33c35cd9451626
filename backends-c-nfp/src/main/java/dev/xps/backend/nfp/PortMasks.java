package dev.xps.backend.nfp;

import dev.xps.compiler.ir.PortRange;
import java.util.ArrayList;
import java.util.List;

/** A port range as P4 select keysets: exact values, or value-and-mask prefixes (BMv2 parsers match masks). */
final class PortMasks {
    private PortMasks() {}

    static List<String> keysets(PortRange range) {
        List<String> out = new ArrayList<>();
        if (range.isSingle()) {
            out.add(Integer.toString(range.low()));
            return out;
        }
        return keysets(range.low(), range.high());
    }

    /** The 16-bit values lo..hi as exact values and value-and-mask prefixes. */
    static List<String> keysets(long lo, long hi) {
        List<String> out = new ArrayList<>();
        while (lo <= hi) {
            int bits = 0;
            // the largest aligned block starting at lo that stays within hi
            while (bits < 16 && (lo & ((1L << (bits + 1)) - 1)) == 0 && lo + (1L << (bits + 1)) - 1 <= hi) {
                bits++;
            }
            long mask = 0xFFFF & ~((1L << bits) - 1);
            out.add(bits == 0 ? Long.toString(lo) : String.format("16w0x%04x &&& 16w0x%04x", lo, mask));
            lo += 1L << bits;
        }
        return out;
    }
}
