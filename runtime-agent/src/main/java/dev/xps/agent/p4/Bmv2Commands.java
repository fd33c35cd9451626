package dev.xps.agent.p4;

import dev.xps.agent.AgentException;
import java.math.BigInteger;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The exact {@code simple_switch_CLI} command lines for each map operation, and the parsing of what
 * the CLI prints back. Syntax and output as behavioral-model's runtime CLI defines them
 * (p4lang/behavioral-model, {@code tools/runtime_CLI.py}: {@code do_table_add}, {@code do_table_modify},
 * {@code do_table_delete}, {@code do_table_dump_entry_from_key}, {@code do_register_read},
 * {@code do_register_write}, {@code do_counter_read}; see backends-p4/README.md, "Agent").
 *
 * <p>Keys and values come in the language's canonical layout (integers little-endian in their width,
 * bytes as they are) and become the numbers the CLI parses: table match fields and action parameters
 * in hex ({@code int(s, 0)} in the CLI, so {@code 0x...}), a {@code bytes[N]} key as its N bytes in
 * order as one number; register indexes and values, counter indexes and entry handles in decimal
 * ({@code int(s)} in the CLI).
 */
public final class Bmv2Commands {
    private Bmv2Commands() {}

    /** The largest value {@code register_write} can carry: the Thrift call takes an i64. */
    static final BigInteger MAX_REGISTER_WRITE = BigInteger.ONE.shiftLeft(63).subtract(BigInteger.ONE);

    // ------------------------------------------------------------------ canonical bytes to numbers

    /** A table's match key: exactly the key type's size ({@code bytes[N]}: N bytes, big-endian order). */
    static String matchKey(Bmv2Entries.MapDef map, byte[] key) {
        if (key.length != map.key().size()) {
            throw new IllegalArgumentException("map " + map.name() + ": a " + map.key() + " key is " + map.key().size()
                    + " bytes on BMv2 (a table key has one width), got " + key.length);
        }
        byte[] be = map.key().bytes() ? key : reverse(key);
        return "0x" + HexFormat.of().formatHex(be);
    }

    /** An action parameter (the value of a hash map's entry), from the canonical little-endian integer. */
    static String actionValue(Bmv2Entries.MapDef map, byte[] value) {
        checkValue(map, value);
        return "0x" + HexFormat.of().formatHex(reverse(value));
    }

    /** An array's index (its canonical little-endian key) in decimal; must be below the capacity. */
    static BigInteger index(Bmv2Entries.MapDef map, byte[] key) {
        if (key.length != map.key().size()) {
            throw new IllegalArgumentException("map " + map.name() + ": index is " + map.key().size() + " bytes, got "
                    + key.length);
        }
        BigInteger i = new BigInteger(1, reverse(key));
        if (i.compareTo(BigInteger.valueOf(map.capacity())) >= 0) {
            throw new IllegalArgumentException("map " + map.name() + ": index " + i + " is outside [0, "
                    + map.capacity() + ")");
        }
        return i;
    }

    private static void checkValue(Bmv2Entries.MapDef map, byte[] value) {
        if (map.value().bytes()) {
            throw new IllegalArgumentException("map " + map.name() + " has bytes values, which p4-bmv2 refuses");
        }
        if (value.length != map.value().size()) {
            throw new IllegalArgumentException("map " + map.name() + ": a " + map.value() + " value is "
                    + map.value().size() + " bytes, got " + value.length);
        }
    }

    static byte[] reverse(byte[] b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = b[b.length - 1 - i];
        }
        return r;
    }

    /** {@code v} (taken modulo 2^(8*width)) as {@code width} little-endian bytes. */
    static byte[] littleEndian(BigInteger v, int width) {
        byte[] out = new byte[width];
        for (int i = 0; i < width; i++) {
            out[i] = v.shiftRight(8 * i).byteValue();
        }
        return out;
    }

    // ------------------------------------------------------------------ command lines

    /** {@code table_add <table> <action> <match fields> => <action parameters>}. */
    public static String tableAdd(Bmv2Entries.Table t, Bmv2Entries.MapDef map, byte[] key, byte[] value) {
        return "table_add " + t.name() + " " + t.hitAction() + " " + matchKey(map, key) + " => "
                + actionValue(map, value);
    }

    /** {@code table_modify <table> <action> <entry handle> <action parameters>}. */
    public static String tableModify(Bmv2Entries.Table t, Bmv2Entries.MapDef map, long handle, byte[] value) {
        return "table_modify " + t.name() + " " + t.hitAction() + " " + handle + " " + actionValue(map, value);
    }

    /** {@code table_delete <table> <entry handle>}. */
    public static String tableDelete(Bmv2Entries.Table t, long handle) {
        return "table_delete " + t.name() + " " + handle;
    }

    /** {@code table_dump_entry_from_key <table> <match fields>}: the entry's handle and action data. */
    public static String tableDumpEntryFromKey(Bmv2Entries.Table t, Bmv2Entries.MapDef map, byte[] key) {
        return "table_dump_entry_from_key " + t.name() + " " + matchKey(map, key);
    }

    /** {@code register_write <register> <index> <value>} (decimal, at most 2^63 - 1). */
    public static String registerWrite(Bmv2Entries.MapDef map, byte[] key, byte[] value) {
        checkValue(map, value);
        BigInteger v = new BigInteger(1, reverse(value));
        if (v.compareTo(MAX_REGISTER_WRITE) > 0) {
            throw new IllegalArgumentException("map " + map.name() + ": value " + v + " is above 2^63 - 1, the largest "
                    + "register_write carries (its Thrift call takes an i64)");
        }
        return "register_write " + register(map) + " " + index(map, key) + " " + v;
    }

    /** {@code register_write <register> <index> 0}: an array's delete (its slot goes back to zero). */
    public static String registerClear(Bmv2Entries.MapDef map, byte[] key) {
        return "register_write " + register(map) + " " + index(map, key) + " 0";
    }

    /** {@code register_read <register> <index>}. */
    public static String registerRead(Bmv2Entries.MapDef map, byte[] key) {
        return "register_read " + register(map) + " " + index(map, key);
    }

    /** {@code counter_read <counter> <index>}: an indexed counter, or a direct one by entry handle. */
    public static String counterRead(String counter, long index) {
        return "counter_read " + counter + " " + index;
    }

    private static String register(Bmv2Entries.MapDef map) {
        return map.register().orElseThrow(() -> new IllegalArgumentException("map " + map.name() + " is not an array"));
    }

    // ------------------------------------------------------------------ what the CLI prints

    /** What the CLI prints for a command it refused ({@code handle_bad_input} and cmd.Cmd's default). */
    private static final Pattern FAILURE = Pattern.compile(
            "Invalid table operation \\((\\w+)\\)|Invalid counter operation \\((\\w+)\\)"
                    + "|Invalid register operation \\((\\w+)\\)|Invalid match key:.*|Invalid runtime data:.*"
                    + "|Error:.*|\\*\\*\\* Unknown syntax:.*");

    /** The CLI's complaint about one command, if it printed one. */
    public static Optional<String> failure(String output) {
        Matcher m = FAILURE.matcher(output);
        return m.find() ? Optional.of(m.group().strip()) : Optional.empty();
    }

    /** Whether a key query failed because the table has no entry for the key ({@code BAD_MATCH_KEY}). */
    static boolean noSuchEntry(String output) {
        return output.contains("Invalid table operation (BAD_MATCH_KEY)");
    }

    private static final Pattern ADDED = Pattern.compile("Entry has been added with handle (\\d+)");
    private static final Pattern DUMPED = Pattern.compile("Dumping entry (0x[0-9a-fA-F]+|\\d+)");
    private static final Pattern ACTION = Pattern.compile("Action entry: (\\S+) - ([0-9a-fA-F]*)");
    private static final Pattern COUNTER = Pattern.compile("\\S+\\[(\\d+)]= \\((\\d+) bytes, (\\d+) packets\\)");
    private static final Pattern REGISTER = Pattern.compile("\\S+\\[(\\d+)]=\\s*(-?\\d+)");

    /** The handle of a {@code table_add}. */
    public static long addedHandle(String output) {
        Matcher m = ADDED.matcher(output);
        if (!m.find()) {
            throw new AgentException("simple_switch_CLI did not report the new entry's handle:\n" + output);
        }
        return Long.parseLong(m.group(1));
    }

    /** The entry a {@code table_dump_entry_from_key} found: its handle and action data, or empty (no entry). */
    public record Dumped(long handle, String action, BigInteger data) {}

    public static Optional<Dumped> dumpedEntry(String output) {
        if (noSuchEntry(output)) {
            return Optional.empty();
        }
        Matcher h = DUMPED.matcher(output);
        Matcher a = ACTION.matcher(output);
        if (!h.find() || !a.find()) {
            throw new AgentException("cannot read the entry simple_switch_CLI dumped:\n" + output);
        }
        String handle = h.group(1);
        long n = handle.startsWith("0x") ? Long.parseLong(handle.substring(2), 16) : Long.parseLong(handle);
        String hex = a.group(2);
        return Optional.of(new Dumped(n, a.group(1), hex.isEmpty() ? BigInteger.ZERO : new BigInteger(hex, 16)));
    }

    /** The value {@code register_read} printed, as an unsigned number of the register's width. */
    public static BigInteger registerValue(String output, int valueBytes) {
        Matcher m = REGISTER.matcher(output);
        if (!m.find()) {
            throw new AgentException("cannot read the register value simple_switch_CLI printed:\n" + output);
        }
        BigInteger v = new BigInteger(m.group(2));  // an i64 in Thrift: negative above 2^63 - 1
        return v.signum() < 0 ? v.add(BigInteger.ONE.shiftLeft(64)).mod(BigInteger.ONE.shiftLeft(8 * valueBytes)) : v;
    }

    /** The packet count {@code counter_read} printed (hits: one packet per lookup that hit). */
    public static OptionalLong counterPackets(String output) {
        Matcher m = COUNTER.matcher(output);
        return m.find() ? OptionalLong.of(Long.parseLong(m.group(3))) : OptionalLong.empty();
    }

    /** Splits a list of lines for the CLI's stdin. */
    static String script(List<String> commands) {
        StringBuilder b = new StringBuilder();
        for (String c : commands) {
            if (c.indexOf('\n') >= 0 || c.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("a command with a line break: " + c);
            }
            b.append(c).append('\n');
        }
        return b.toString();
    }
}
