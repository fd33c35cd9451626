package dev.xps.agent.bpf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.xps.agent.testsupport.Sh;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The binding writes and reads C structures by offset. This compiles a C program against the installed
 * kernel UAPI and libbpf headers that prints every offset and size the binding relies on, and compares.
 */
class StructLayoutTest {
    private static final String PROGRAM = """
            #include <stdio.h>
            #include <stddef.h>
            #include <linux/bpf.h>
            #include <bpf/libbpf.h>
            #include <bpf/bpf.h>
            #define O(s, f) printf("%s.%s=%zu\\n", #s, #f, offsetof(struct s, f))
            #define S(s) printf("sizeof.%s=%zu\\n", #s, sizeof(struct s))
            int main(void) {
                S(bpf_map_info); O(bpf_map_info, type); O(bpf_map_info, id); O(bpf_map_info, key_size);
                O(bpf_map_info, value_size); O(bpf_map_info, max_entries); O(bpf_map_info, map_flags);
                O(bpf_map_info, name);
                S(bpf_prog_info); O(bpf_prog_info, type); O(bpf_prog_info, id); O(bpf_prog_info, tag);
                O(bpf_prog_info, nr_map_ids); O(bpf_prog_info, name); O(bpf_prog_info, run_time_ns);
                O(bpf_prog_info, run_cnt); O(bpf_prog_info, recursion_misses); O(bpf_prog_info, verified_insns);
                S(bpf_link_info); O(bpf_link_info, type); O(bpf_link_info, id); O(bpf_link_info, prog_id);
                O(bpf_link_info, cgroup.cgroup_id); O(bpf_link_info, cgroup.attach_type); O(bpf_link_info, xdp.ifindex);
                S(bpf_object_open_opts); O(bpf_object_open_opts, object_name); O(bpf_object_open_opts, pin_root_path);
                S(bpf_map_batch_opts); O(bpf_map_batch_opts, elem_flags);
                S(bpf_link_create_opts); O(bpf_link_create_opts, flags);
                S(bpf_link_update_opts); O(bpf_link_update_opts, flags); O(bpf_link_update_opts, old_prog_fd);
                S(bpf_xdp_attach_opts);
                S(bpf_xdp_query_opts); O(bpf_xdp_query_opts, prog_id); O(bpf_xdp_query_opts, drv_prog_id);
                O(bpf_xdp_query_opts, hw_prog_id); O(bpf_xdp_query_opts, skb_prog_id); O(bpf_xdp_query_opts, attach_mode);
                S(bpf_test_run_opts); O(bpf_test_run_opts, data_in); O(bpf_test_run_opts, data_out);
                O(bpf_test_run_opts, data_size_in); O(bpf_test_run_opts, data_size_out); O(bpf_test_run_opts, retval);
                O(bpf_test_run_opts, repeat); O(bpf_test_run_opts, duration);
                S(ring_buffer_opts);
                return 0;
            }
            """;

    @Test
    void javaOffsetsMatchTheInstalledHeaders(@TempDir Path dir) throws Exception {
        Path src = Files.writeString(dir.resolve("layout.c"), PROGRAM);
        Path exe = dir.resolve("layout");
        var cc = Sh.run(Duration.ofSeconds(60), "clang", "-o", exe.toString(), src.toString());
        assertEquals(0, cc.exitCode(), "compiling the layout probe (needs clang and libbpf-dev):\n" + cc.output());
        var run = Sh.run(Duration.ofSeconds(10), exe.toString());
        Map<String, Integer> c = new HashMap<>();
        run.output().lines().forEach(l -> c.put(l.substring(0, l.indexOf('=')),
                Integer.parseInt(l.substring(l.indexOf('=') + 1))));

        assertEquals(c.get("sizeof.bpf_map_info"), MapInfo.SIZE);
        assertEquals(c.get("bpf_map_info.type"), MapInfo.OFF_TYPE);
        assertEquals(c.get("bpf_map_info.id"), MapInfo.OFF_ID);
        assertEquals(c.get("bpf_map_info.key_size"), MapInfo.OFF_KEY_SIZE);
        assertEquals(c.get("bpf_map_info.value_size"), MapInfo.OFF_VALUE_SIZE);
        assertEquals(c.get("bpf_map_info.max_entries"), MapInfo.OFF_MAX_ENTRIES);
        assertEquals(c.get("bpf_map_info.map_flags"), MapInfo.OFF_MAP_FLAGS);
        assertEquals(c.get("bpf_map_info.name"), MapInfo.OFF_NAME);

        assertEquals(c.get("sizeof.bpf_prog_info"), ProgramInfo.SIZE);
        assertEquals(c.get("bpf_prog_info.type"), ProgramInfo.OFF_TYPE);
        assertEquals(c.get("bpf_prog_info.id"), ProgramInfo.OFF_ID);
        assertEquals(c.get("bpf_prog_info.tag"), ProgramInfo.OFF_TAG);
        assertEquals(c.get("bpf_prog_info.nr_map_ids"), ProgramInfo.OFF_NR_MAP_IDS);
        assertEquals(c.get("bpf_prog_info.name"), ProgramInfo.OFF_NAME);
        assertEquals(c.get("bpf_prog_info.run_time_ns"), ProgramInfo.OFF_RUN_TIME_NS);
        assertEquals(c.get("bpf_prog_info.run_cnt"), ProgramInfo.OFF_RUN_CNT);
        assertEquals(c.get("bpf_prog_info.recursion_misses"), ProgramInfo.OFF_RECURSION_MISSES);
        assertEquals(c.get("bpf_prog_info.verified_insns"), ProgramInfo.OFF_VERIFIED_INSNS);

        assertEquals(c.get("sizeof.bpf_link_info"), LinkInfo.SIZE);
        assertEquals(c.get("bpf_link_info.type"), LinkInfo.OFF_TYPE);
        assertEquals(c.get("bpf_link_info.id"), LinkInfo.OFF_ID);
        assertEquals(c.get("bpf_link_info.prog_id"), LinkInfo.OFF_PROG_ID);
        assertEquals(c.get("bpf_link_info.cgroup.cgroup_id"), LinkInfo.OFF_UNION);
        assertEquals(c.get("bpf_link_info.cgroup.attach_type"), LinkInfo.OFF_CGROUP_ATTACH_TYPE);
        assertEquals(c.get("bpf_link_info.xdp.ifindex"), LinkInfo.OFF_UNION);

        assertEquals(c.get("sizeof.bpf_object_open_opts"), BpfObject.OPEN_OPTS_SIZE);
        assertEquals(c.get("bpf_object_open_opts.object_name"), BpfObject.OPEN_OPTS_OBJECT_NAME);
        assertEquals(c.get("bpf_object_open_opts.pin_root_path"), BpfObject.OPEN_OPTS_PIN_ROOT_PATH);
        assertEquals(c.get("sizeof.bpf_map_batch_opts"), BpfMap.BATCH_OPTS_SIZE);
        assertEquals(8, c.get("bpf_map_batch_opts.elem_flags"));
        assertEquals(c.get("sizeof.bpf_link_create_opts"), BpfProgram.LINK_CREATE_OPTS_SIZE);
        assertEquals(8, c.get("bpf_link_create_opts.flags"));
        assertEquals(c.get("sizeof.bpf_link_update_opts"), BpfLink.UPDATE_OPTS_SIZE);
        assertEquals(8, c.get("bpf_link_update_opts.flags"));
        assertEquals(12, c.get("bpf_link_update_opts.old_prog_fd"));
        assertEquals(c.get("sizeof.bpf_xdp_attach_opts"), BpfProgram.XDP_ATTACH_OPTS_SIZE);
        assertEquals(c.get("sizeof.bpf_xdp_query_opts"), BpfProgram.XDP_QUERY_OPTS_SIZE);
        assertEquals(8, c.get("bpf_xdp_query_opts.prog_id"));
        assertEquals(12, c.get("bpf_xdp_query_opts.drv_prog_id"));
        assertEquals(16, c.get("bpf_xdp_query_opts.hw_prog_id"));
        assertEquals(20, c.get("bpf_xdp_query_opts.skb_prog_id"));
        assertEquals(24, c.get("bpf_xdp_query_opts.attach_mode"));
        assertEquals(c.get("sizeof.bpf_test_run_opts"), BpfProgram.TEST_RUN_OPTS_SIZE);
        assertEquals(8, c.get("bpf_test_run_opts.data_in"));
        assertEquals(16, c.get("bpf_test_run_opts.data_out"));
        assertEquals(24, c.get("bpf_test_run_opts.data_size_in"));
        assertEquals(28, c.get("bpf_test_run_opts.data_size_out"));
        assertEquals(56, c.get("bpf_test_run_opts.retval"));
        assertEquals(60, c.get("bpf_test_run_opts.repeat"));
        assertEquals(64, c.get("bpf_test_run_opts.duration"));
        assertEquals(8, c.get("sizeof.ring_buffer_opts"));
    }
}
