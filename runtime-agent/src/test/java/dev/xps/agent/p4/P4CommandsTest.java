package dev.xps.agent.p4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.AgentException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The exact simple_switch_CLI command lines of every operation, against the entries files xpsc writes
 * for the samples that compile for p4-bmv2 ({@code udp-kv-fixed}: a hash map with bytes[16] keys and
 * stats; {@code timestamp-server}: no maps) and for {@code src/test/resources/p4/slots.xps} (an array
 * with stats, a hash map with two tables). The CLI's answers are canned in the formats behavioral-model's
 * runtime_CLI.py prints.
 */
class P4CommandsTest {
    static Bmv2Entries kvFixed;
    static Bmv2Entries timestamp;
    static Bmv2Entries slots;
    static Path kvFixedDir;

    @BeforeAll
    static void compile() throws IOException {
        kvFixedDir = P4Artifacts.sample("udp-kv-fixed");
        kvFixed = P4Artifacts.entries(kvFixedDir, "udp-kv-fixed");
        timestamp = P4Artifacts.entries(P4Artifacts.sample("timestamp-server"), "timestamp-server");
        slots = P4Artifacts.entries(P4Artifacts.program("slots"), "slots");
    }

    static final String T = "xps_ingress.h_get.kv_1";
    static final String A = "xps_ingress.h_get.kv_1_hit";
    static final byte[] KEY = "user:0000000042.".getBytes(StandardCharsets.US_ASCII);
    static final String KEY_HEX = "0x" + HexFormat.of().formatHex(KEY);
    /** u64 0x0102030405060708, canonical (little-endian). */
    static final byte[] VALUE = HexFormat.of().parseHex("0807060504030201");

    static String dumped(String table, long handle, String data) {
        return "Dumping entry 0x" + Long.toHexString(handle) + "\nMatch key:\n* " + table.substring(table.lastIndexOf('.') + 1)
                + "_key            : EXACT     " + "00" + "\nAction entry: " + table + "_hit - " + data + "\n";
    }

    static final String MISSING = "Invalid table operation (BAD_MATCH_KEY)\n";

    static String added(long handle) {
        return "Adding entry to exact match table " + T + "\nmatch key:           EXACT-75:73\naction:              " + A
                + "\nruntime data:        01:02:03:04:05:06:07:08\nEntry has been added with handle " + handle + "\n";
    }

    static byte[] u32(long v) {
        return new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)};
    }

    static byte[] u64(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return b;
    }

    // ------------------------------------------------------------------ the entries files

    @Test
    void entriesOfTheSamples() {
        Bmv2Entries.MapDef kv = kvFixed.map("kv");
        assertEquals("hash", kv.kind());
        assertEquals(new Bmv2Entries.Type(true, 16), kv.key());
        assertEquals(new Bmv2Entries.Type(false, 8), kv.value());
        assertEquals(65_536, kv.capacity());
        assertTrue(kv.stats());
        assertEquals(List.of(new Bmv2Entries.Table(T, "udp-kv-fixed.xps:20", 128, A, 64, Optional.of(T + "_hits"))),
                kv.tables());
        assertEquals(Map.of(), timestamp.maps());
        assertThrows(AgentException.class, () -> timestamp.map("kv"));
        Bmv2Entries.MapDef s = slots.map("slots");
        assertTrue(s.isArray());
        assertEquals(Optional.of("map_slots"), s.register());
        assertEquals(Optional.of("map_slots_hits"), s.registerHitCounter());
        assertEquals(2, slots.map("kv").tables().size());
    }

    /** The agent's commands start as the templates xpsc wrote into the entries file say. */
    @Test
    @SuppressWarnings("unchecked")
    void commandsFollowTheTemplatesInTheEntriesFile() throws IOException {
        Map<String, Object> root = (Map<String, Object>) dev.xps.agent.Json.parse(
                Files.readString(kvFixedDir.resolve("udp-kv-fixed.entries.json")));
        Map<String, Object> map = (Map<String, Object>) ((List<Object>) root.get("maps")).get(0);
        Map<String, Object> table = (Map<String, Object>) ((List<Object>) map.get("tables")).get(0);
        Map<String, Object> cli = (Map<String, Object>) table.get("cli");
        String put = (String) cli.get("put");
        String del = (String) cli.get("delete");
        Bmv2Entries.MapDef kv = kvFixed.map("kv");
        assertEquals(put.replace("<key>", KEY_HEX).replace("<value>", "0x0102030405060708"),
                Bmv2Commands.tableAdd(kv.tables().get(0), kv, KEY, VALUE));
        assertEquals(del.replace("<handle>", "7"), Bmv2Commands.tableDelete(kv.tables().get(0), 7));
    }

    // ------------------------------------------------------------------ hash maps: udp-kv-fixed

    @Test
    void putOfANewKeyAsksForItsHandleThenAdds() {
        RecordingCli cli = new RecordingCli().answer(MISSING).answer(added(0));
        new Bmv2Switch(kvFixed, cli).put("kv", KEY, VALUE);
        assertEquals(List.of(
                List.of("table_dump_entry_from_key " + T + " " + KEY_HEX),
                List.of("table_add " + T + " " + A + " " + KEY_HEX + " => 0x0102030405060708")), cli.batches);
        cli.assertAllAnswered();
    }

    @Test
    void putOfAnExistingKeyModifiesItsEntry() {
        RecordingCli cli = new RecordingCli().answer(dumped(T, 0x1000003, "0000000000000007"))
                .answer("Modifying entry 16777219 for exact match table " + T + "\n");
        new Bmv2Switch(kvFixed, cli).put("kv", KEY, VALUE);
        assertEquals(List.of("table_modify " + T + " " + A + " 16777219 0x0102030405060708"), cli.batches.get(1));
    }

    @Test
    void updateOfAMissingKeyIsRefusedWithoutWriting() {
        RecordingCli cli = new RecordingCli().answer(MISSING);
        assertThrows(Bmv2Switch.NoSuchEntry.class, () -> new Bmv2Switch(kvFixed, cli).update("kv", KEY, VALUE));
        assertEquals(1, cli.batches.size());
    }

    @Test
    void deleteUsesTheHandleAndSaysWhetherTheKeyWasThere() {
        RecordingCli cli = new RecordingCli().answer(dumped(T, 5, "0000000000000007"))
                .answer("Deleting entry 5 from " + T + "\n").answer(MISSING);
        Bmv2Switch sw = new Bmv2Switch(kvFixed, cli);
        assertTrue(sw.delete("kv", KEY));
        assertFalse(sw.delete("kv", KEY));
        assertEquals(List.of("table_delete " + T + " 5"), cli.batches.get(1));
        assertEquals(3, cli.batches.size());
    }

    @Test
    void getReadsTheActionData() {
        RecordingCli cli = new RecordingCli().answer(dumped(T, 5, "0102030405060708")).answer(MISSING);
        Bmv2Switch sw = new Bmv2Switch(kvFixed, cli);
        assertArrayEquals(VALUE, sw.get("kv", KEY).orElseThrow());
        assertTrue(sw.get("kv", KEY).isEmpty());
        assertEquals(List.of("table_dump_entry_from_key " + T + " " + KEY_HEX), cli.batches.get(0));
    }

    @Test
    void statsAreTheDirectCounterOfTheEntry() {
        RecordingCli cli = new RecordingCli().answer(dumped(T, 0x1000003, "0000000000000007"))
                .answer("this is the direct counter for table " + T + "\n" + T + "_hits[16777219]= (210 bytes, 3 packets)\n")
                .answer(MISSING);
        Bmv2Switch sw = new Bmv2Switch(kvFixed, cli);
        assertEquals(3, sw.getStats("kv", KEY));
        assertEquals(List.of("counter_read " + T + "_hits 16777219"), cli.batches.get(1));
        assertEquals(0, sw.getStats("kv", KEY), "no entry, no hits");
        assertEquals(3, cli.batches.size());
    }

    @Test
    void keysOfAnotherLengthAreRefusedBeforeTheSwitchIsAsked() {
        RecordingCli cli = new RecordingCli();
        Bmv2Switch sw = new Bmv2Switch(kvFixed, cli);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sw.put("kv", "short".getBytes(StandardCharsets.US_ASCII), VALUE));
        assertTrue(e.getMessage().contains("16 bytes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> sw.put("kv", KEY, new byte[4]));
        assertEquals(List.of(), cli.batches);
    }

    @Test
    void aRefusedCommandIsAnErrorNamingIt() {
        RecordingCli cli = new RecordingCli().answer(MISSING).answer("Invalid table operation (TABLE_FULL)\n");
        AgentException e = assertThrows(AgentException.class, () -> new Bmv2Switch(kvFixed, cli).put("kv", KEY, VALUE));
        assertTrue(e.getMessage().contains("table_add " + T) && e.getMessage().contains("TABLE_FULL"), e.getMessage());
    }

    @Test
    void aQueryFailingForAnotherReasonThanAMissingKeyIsAnError() {
        RecordingCli cli = new RecordingCli().answer("Error: Invalid table name (" + T + ")\n");
        assertThrows(AgentException.class, () -> new Bmv2Switch(kvFixed, cli).get("kv", KEY));
    }

    // ------------------------------------------------------------------ arrays and two tables: slots.xps

    @Test
    void arraysAreRegisters() {
        RecordingCli cli = new RecordingCli().answer("").answer("").answer("").answer("map_slots[2]= 7\n")
                .answer("map_slots[3]= -1\n");
        Bmv2Switch sw = new Bmv2Switch(slots, cli);
        sw.put("slots", u32(2), u64(7));
        sw.update("slots", u32(2), u64(9));
        assertTrue(sw.delete("slots", u32(2)));
        assertArrayEquals(u64(7), sw.get("slots", u32(2)).orElseThrow());
        assertArrayEquals(u64(-1), sw.get("slots", u32(3)).orElseThrow(), "an i64 below 0 is a u64 above 2^63");
        assertEquals(List.of(List.of("register_write map_slots 2 7"), List.of("register_write map_slots 2 9"),
                List.of("register_write map_slots 2 0"), List.of("register_read map_slots 2"),
                List.of("register_read map_slots 3")), cli.batches);
    }

    @Test
    void arrayStatsAreTheIndexedCounter() {
        RecordingCli cli = new RecordingCli().answer("map_slots_hits[2]= (120 bytes, 2 packets)\n");
        assertEquals(2, new Bmv2Switch(slots, cli).getStats("slots", u32(2)));
        assertEquals(List.of(List.of("counter_read map_slots_hits 2")), cli.batches);
    }

    @Test
    void arrayIndexesAndValuesTheCliCannotCarryAreRefused() {
        RecordingCli cli = new RecordingCli();
        Bmv2Switch sw = new Bmv2Switch(slots, cli);
        assertThrows(IllegalArgumentException.class, () -> sw.put("slots", u32(16), u64(1)), "capacity 16");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sw.put("slots", u32(1), u64(Long.MIN_VALUE)));
        assertTrue(e.getMessage().contains("2^63"), e.getMessage());
        assertEquals(List.of(), cli.batches);
    }

    static final String GET = "xps_ingress.h_get.kv_2";
    static final String SET = "xps_ingress.h_set.kv_1";

    @Test
    void aHashMapWithTwoTablesIsWrittenToBoth() {
        RecordingCli cli = new RecordingCli()
                .answer(MISSING, dumped(SET, 4, "00000001"))
                .answer(added(0), "Modifying entry 4 for exact match table " + SET + "\n");
        new Bmv2Switch(slots, cli).put("kv", u32(2), u32(5));
        assertEquals(List.of(
                List.of("table_dump_entry_from_key " + GET + " 0x00000002",
                        "table_dump_entry_from_key " + SET + " 0x00000002"),
                List.of("table_add " + GET + " " + GET + "_hit 0x00000002 => 0x00000005",
                        "table_modify " + SET + " " + SET + "_hit 4 0x00000005")), cli.batches);
    }

    @Test
    void putAllIsTwoBatches() {
        RecordingCli cli = new RecordingCli()
                .answer(MISSING, MISSING, MISSING, MISSING)
                .answer(added(0), added(0), added(1), added(1));
        new Bmv2Switch(slots, cli).putAll("kv", List.of(Map.entry(u32(1), u32(10)), Map.entry(u32(2), u32(20))));
        assertEquals(2, cli.batches.size());
        assertEquals(List.of("table_add " + GET + " " + GET + "_hit 0x00000001 => 0x0000000a",
                "table_add " + SET + " " + SET + "_hit 0x00000001 => 0x0000000a",
                "table_add " + GET + " " + GET + "_hit 0x00000002 => 0x00000014",
                "table_add " + SET + " " + SET + "_hit 0x00000002 => 0x00000014"), cli.batches.get(1));
    }

    @Test
    void updateNeedsTheEntryInEveryTable() {
        RecordingCli cli = new RecordingCli().answer(dumped(GET, 1, "00000001"), MISSING);
        Bmv2Switch.NoSuchEntry e = assertThrows(Bmv2Switch.NoSuchEntry.class,
                () -> new Bmv2Switch(slots, cli).update("kv", u32(2), u32(5)));
        assertTrue(e.getMessage().contains(SET), e.getMessage());
    }

    @Test
    void statsOfAHashMapSumItsTables() {
        RecordingCli cli = new RecordingCli()
                .answer(dumped(GET, 1, "00000005"), dumped(SET, 2, "00000005"))
                .answer(GET + "_hits[1]= (60 bytes, 4 packets)\n", SET + "_hits[2]= (60 bytes, 5 packets)\n");
        assertEquals(9, new Bmv2Switch(slots, cli).getStats("kv", u32(2)));
        assertEquals(List.of("counter_read " + GET + "_hits 1", "counter_read " + SET + "_hits 2"), cli.batches.get(1));
    }

    @Test
    void deleteRemovesTheEntryFromEveryTableThatHasIt() {
        RecordingCli cli = new RecordingCli().answer(dumped(GET, 1, "00000005"), dumped(SET, 2, "00000005"))
                .answer("Deleting entry 1 from " + GET + "\n", "Deleting entry 2 from " + SET + "\n");
        assertTrue(new Bmv2Switch(slots, cli).delete("kv", u32(2)));
        assertEquals(List.of("table_delete " + GET + " 1", "table_delete " + SET + " 2"), cli.batches.get(1));
    }
}
