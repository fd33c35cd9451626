package dev.xps.backend.ebpf;

import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.ir.MapKind;
import java.util.Arrays;

/**
 * How a value of the language's canonical layout (docs/language.md, "Maps": integers
 * little-endian in their declared width, bytes as they are) is laid out in a kernel map, both
 * ways. The manifest describes the same thing for the agent (docs/ebpf-target.md).
 *
 * <ul>
 *   <li>{@code u8 u16 u32 u64}: the integer, little-endian, in its width ({@code __u8} ...).
 *   <li>{@code bytes[N]}: {@code struct xps_bytes_C { __u32 len; __u8 data[C]; }} with
 *       C = N rounded up to a multiple of 8; len is the length, data holds the bytes and zeroes
 *       after them (keys must be zero-padded, or equal keys would not match).
 *   <li>array index: always {@code __u32} (BPF array keys are 4 bytes), the index zero-extended.
 *   <li>log: {@code struct <map>_slot { __u64 seq; <entry> entry; }}; slot 0's seq counts the
 *       appends made (it can pass the capacity: readers clamp), slot i (i from 1) holds entry i
 *       and its seq is i once the entry is complete, 0 before.
 * </ul>
 */
final class KernelLayout {
    private KernelLayout() {}

    /** The low {@code width} bytes of {@code value}, little-endian (the canonical integer layout). */
    static byte[] encodeInt(long value, int width) {
        byte[] out = new byte[width];
        for (int i = 0; i < width; i++) {
            out[i] = (byte) (value >>> (8 * i));
        }
        return out;
    }

    /** A little-endian unsigned integer of 1 to 8 bytes. */
    static long decodeInt(byte[] bytes) {
        long v = 0;
        for (int i = Math.min(8, bytes.length) - 1; i >= 0; i--) {
            v = (v << 8) | (bytes[i] & 0xFF);
        }
        return v;
    }

    /** The capacity of the data array of a bytes[N] value: N rounded up to a multiple of 8. */
    static int bytesCap(int maxLength) {
        return Math.max(8, (maxLength + 7) & ~7);
    }

    /** The C type of a value of {@code type} in a map. */
    static String cType(IrType type) {
        return switch (type) {
            case IrType.Int i -> "__u" + i.bits();
            case IrType.Bytes b -> "struct xps_bytes_" + bytesCap(b.maxLength());
            case IrType.Bool b -> "int";
        };
    }

    static int size(IrType type) {
        return switch (type) {
            case IrType.Int i -> i.byteWidth();
            case IrType.Bytes b -> 4 + bytesCap(b.maxLength());
            case IrType.Bool b -> 4;
        };
    }

    /** Kernel key size of {@code map}. */
    static int keySize(IrMap map) {
        return map.kind() == MapKind.HASH ? size(map.keyType()) : 4;
    }

    static String keyCType(IrMap map) {
        return map.kind() == MapKind.HASH ? cType(map.keyType()) : "__u32";
    }

    /** Kernel value size of {@code map} (a log's slot struct for logs). */
    static int valueSize(IrMap map) {
        if (map.kind() != MapKind.LOG) {
            return size(map.valueType());
        }
        int entryOffset = 8;
        int end = entryOffset + size(map.valueType());
        return (end + 7) & ~7;
    }

    /** Byte offset of the entry in a log slot. */
    static int logEntryOffset() {
        return 8;
    }

    /** max_entries of the kernel map: a log has one more slot (slot 0, its head). */
    static long maxEntries(IrMap map) {
        return map.kind() == MapKind.LOG ? map.capacity() + 1 : map.capacity();
    }

    /** A canonical key of {@code map} in the kernel layout. */
    static byte[] kernelKey(IrMap map, byte[] canonical) {
        if (map.kind() == MapKind.HASH) {
            return kernelValue(map.keyType(), canonical);
        }
        return encodeInt(decodeInt(canonical), 4);
    }

    /** A canonical value of {@code type} in the kernel layout. */
    static byte[] kernelValue(IrType type, byte[] canonical) {
        return switch (type) {
            case IrType.Int i -> Arrays.copyOf(canonical, i.byteWidth());
            case IrType.Bytes b -> {
                byte[] out = new byte[size(type)];
                byte[] len = encodeInt(canonical.length, 4);
                System.arraycopy(len, 0, out, 0, 4);
                System.arraycopy(canonical, 0, out, 4, canonical.length);
                yield out;
            }
            case IrType.Bool b -> throw new IllegalArgumentException("a map cannot hold bool");
        };
    }

    /** A kernel value of {@code type} in the canonical layout. */
    static byte[] canonicalValue(IrType type, byte[] kernel) {
        return switch (type) {
            case IrType.Int i -> Arrays.copyOf(kernel, i.byteWidth());
            case IrType.Bytes b -> {
                long len = decodeInt(Arrays.copyOf(kernel, 4));
                if (len > b.maxLength() || 4 + len > kernel.length) {
                    throw new IllegalArgumentException("bytes value of length " + len + " in a bytes["
                            + b.maxLength() + "] slot");
                }
                yield Arrays.copyOfRange(kernel, 4, 4 + (int) len);
            }
            case IrType.Bool b -> throw new IllegalArgumentException("a map cannot hold bool");
        };
    }

    /** A log slot (kernel value) holding entry {@code index} with {@code canonical} contents. */
    static byte[] logSlot(IrMap log, long index, byte[] canonical) {
        byte[] out = new byte[valueSize(log)];
        System.arraycopy(encodeInt(index, 8), 0, out, 0, 8);
        byte[] entry = kernelValue(log.valueType(), canonical);
        System.arraycopy(entry, 0, out, logEntryOffset(), entry.length);
        return out;
    }
}
