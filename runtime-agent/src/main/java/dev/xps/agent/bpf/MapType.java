package dev.xps.agent.bpf;

/** {@code enum bpf_map_type}: the constant's ordinal is the kernel's value. */
public enum MapType {
    UNSPEC, HASH, ARRAY, PROG_ARRAY, PERF_EVENT_ARRAY, PERCPU_HASH, PERCPU_ARRAY, STACK_TRACE, CGROUP_ARRAY,
    LRU_HASH, LRU_PERCPU_HASH, LPM_TRIE, ARRAY_OF_MAPS, HASH_OF_MAPS, DEVMAP, SOCKMAP, CPUMAP, XSKMAP, SOCKHASH,
    CGROUP_STORAGE, REUSEPORT_SOCKARRAY, PERCPU_CGROUP_STORAGE, QUEUE, STACK, SK_STORAGE, DEVMAP_HASH,
    STRUCT_OPS, RINGBUF, INODE_STORAGE, TASK_STORAGE, BLOOM_FILTER, USER_RINGBUF, CGRP_STORAGE, ARENA,
    /** A value this binding does not know (a newer kernel). */
    UNKNOWN;

    public static MapType of(int value) {
        return value >= 0 && value < UNKNOWN.ordinal() ? values()[value] : UNKNOWN;
    }

    /** Lookups return one value per possible CPU, each rounded up to 8 bytes. */
    public boolean isPerCpu() {
        return this == PERCPU_HASH || this == PERCPU_ARRAY || this == LRU_PERCPU_HASH
                || this == PERCPU_CGROUP_STORAGE;
    }

    /** Every index in {@code [0, max_entries)} exists; keys are 4-byte indices. */
    public boolean isArray() {
        return this == ARRAY || this == PERCPU_ARRAY || this == PROG_ARRAY || this == PERF_EVENT_ARRAY
                || this == CGROUP_ARRAY || this == ARRAY_OF_MAPS || this == DEVMAP || this == CPUMAP
                || this == XSKMAP || this == SOCKMAP;
    }
}
