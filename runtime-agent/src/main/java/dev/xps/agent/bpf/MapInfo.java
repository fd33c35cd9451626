package dev.xps.agent.bpf;

/**
 * What the kernel says about a map ({@code struct bpf_map_info}).
 *
 * @param type the map type ({@link MapType#UNKNOWN} for a type newer than this binding: see {@code typeValue})
 * @param typeValue the kernel's number for the type
 * @param id the kernel-wide map id (as {@code bpftool map} shows it)
 * @param keySize bytes per key
 * @param valueSize bytes per value as declared (per CPU, for per-CPU maps)
 * @param maxEntries capacity
 * @param flags {@code map_flags}
 * @param name the kernel's name (at most 15 characters)
 */
public record MapInfo(MapType type, int typeValue, int id, int keySize, int valueSize, int maxEntries, int flags,
                      String name) {
    // struct bpf_map_info offsets (linux/bpf.h; checked by StructLayoutTest)
    static final int SIZE = 88;
    static final int OFF_TYPE = 0;
    static final int OFF_ID = 4;
    static final int OFF_KEY_SIZE = 8;
    static final int OFF_VALUE_SIZE = 12;
    static final int OFF_MAX_ENTRIES = 16;
    static final int OFF_MAP_FLAGS = 20;
    static final int OFF_NAME = 24;
    static final int NAME_LEN = 16;
}
