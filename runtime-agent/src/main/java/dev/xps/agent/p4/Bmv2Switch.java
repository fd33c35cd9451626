package dev.xps.agent.p4;

import dev.xps.agent.AgentException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The data of one p4-bmv2 program on a running {@code simple_switch}: its maps' entries and hit
 * counters, behind the same put / update / delete / get / stats shape as the kernel maps' API
 * ({@link dev.xps.agent.Context}). Keys and values are canonical (integers little-endian in their
 * width, bytes as they are). What sits where comes from {@code <base>.entries.json}:
 *
 * <ul>
 *   <li>a hash map is one exact-match table per lookup site, all holding the same entries; a write
 *       goes to every table, a read asks the first;
 *   <li>an array is a register; its delete writes 0, as the language's array delete does;
 *   <li>{@code with stats}: a hash map's hits are the sum, over its tables, of the packet count of
 *       the entry's direct counter; an array's are its indexed counter's packet count.
 * </ul>
 *
 * <p>Every operation is one or two batches of {@code simple_switch_CLI} commands ({@link SwitchCli}):
 * the entries' handles are first asked for by key ({@code table_dump_entry_from_key}), then the
 * writes use them. Nothing is cached between operations, so another client's changes are seen. A
 * batch is not atomic: the CLI goes on after a command it refuses, so the others have been applied;
 * the exception names the first refused command.
 */
public final class Bmv2Switch {
    private final Bmv2Entries entries;
    private final SwitchCli cli;

    public Bmv2Switch(Bmv2Entries entries, SwitchCli cli) {
        this.entries = entries;
        this.cli = cli;
    }

    /** The program described by {@code entriesJson}, on the switch whose Thrift server is on {@code thriftPort}. */
    public static Bmv2Switch open(Path entriesJson, int thriftPort) {
        return new Bmv2Switch(Bmv2Entries.read(entriesJson), new SimpleSwitchCli(thriftPort));
    }

    public Bmv2Entries entries() {
        return entries;
    }

    /** {@code update} of a key the map does not hold. */
    public static final class NoSuchEntry extends AgentException {
        public NoSuchEntry(String message) {
            super(message);
        }
    }

    // ------------------------------------------------------------------ writes

    /** Creates or replaces {@code map[key] = value}. */
    public void put(String map, byte[] key, byte[] value) {
        putAll(map, List.of(Map.entry(key, value)));
    }

    /** Creates or replaces many entries: two CLI batches, whatever their number. */
    public void putAll(String map, List<Map.Entry<byte[], byte[]>> kvs) {
        Bmv2Entries.MapDef d = entries.map(map);
        List<String> writes = new ArrayList<>();
        if (d.isArray()) {
            for (var kv : kvs) {
                writes.add(Bmv2Commands.registerWrite(d, kv.getKey(), kv.getValue()));
            }
        } else {
            for (var kv : kvs) {  // refuse what the tables cannot hold before asking the switch anything
                Bmv2Commands.matchKey(d, kv.getKey());
                Bmv2Commands.actionValue(d, kv.getValue());
            }
            List<List<Optional<Bmv2Commands.Dumped>>> found = lookUp(d, kvs.stream().map(Map.Entry::getKey).toList());
            for (int k = 0; k < kvs.size(); k++) {
                for (int t = 0; t < d.tables().size(); t++) {
                    Bmv2Entries.Table table = d.tables().get(t);
                    Optional<Bmv2Commands.Dumped> entry = found.get(k).get(t);
                    writes.add(entry.isPresent()
                            ? Bmv2Commands.tableModify(table, d, entry.get().handle(), kvs.get(k).getValue())
                            : Bmv2Commands.tableAdd(table, d, kvs.get(k).getKey(), kvs.get(k).getValue()));
                }
            }
        }
        List<String> out = run(writes);
        for (int i = 0; i < writes.size(); i++) {
            if (writes.get(i).startsWith("table_add ")) {
                Bmv2Commands.addedHandle(out.get(i));
            }
        }
    }

    /** Replaces an existing entry only ({@link NoSuchEntry} if a table lacks it; arrays always hold every index). */
    public void update(String map, byte[] key, byte[] value) {
        Bmv2Entries.MapDef d = entries.map(map);
        if (d.isArray()) {
            run(List.of(Bmv2Commands.registerWrite(d, key, value)));
            return;
        }
        Bmv2Commands.actionValue(d, value);
        List<Optional<Bmv2Commands.Dumped>> found = lookUp(d, List.of(key)).get(0);
        List<String> writes = new ArrayList<>();
        for (int t = 0; t < d.tables().size(); t++) {
            Optional<Bmv2Commands.Dumped> entry = found.get(t);
            if (entry.isEmpty()) {
                throw new NoSuchEntry("map " + map + ": no entry for the key in table " + d.tables().get(t).name());
            }
            writes.add(Bmv2Commands.tableModify(d.tables().get(t), d, entry.get().handle(), value));
        }
        run(writes);
    }

    /** Deletes {@code map[key]} from every table (an array slot is set to 0); true if it was there. */
    public boolean delete(String map, byte[] key) {
        Bmv2Entries.MapDef d = entries.map(map);
        if (d.isArray()) {
            run(List.of(Bmv2Commands.registerClear(d, key)));
            return true;
        }
        List<Optional<Bmv2Commands.Dumped>> found = lookUp(d, List.of(key)).get(0);
        List<String> deletes = new ArrayList<>();
        for (int t = 0; t < d.tables().size(); t++) {
            if (found.get(t).isPresent()) {
                deletes.add(Bmv2Commands.tableDelete(d.tables().get(t), found.get(t).get().handle()));
            }
        }
        if (deletes.isEmpty()) {
            return false;
        }
        run(deletes);
        return true;
    }

    // ------------------------------------------------------------------ reads

    /** The value of {@code map[key]}: from the first table of a hash map, from the register of an array. */
    public Optional<byte[]> get(String map, byte[] key) {
        Bmv2Entries.MapDef d = entries.map(map);
        if (d.isArray()) {
            String out = run(List.of(Bmv2Commands.registerRead(d, key))).get(0);
            return Optional.of(Bmv2Commands.littleEndian(Bmv2Commands.registerValue(out, d.value().size()),
                    d.value().size()));
        }
        Bmv2Entries.Table first = tables(d).get(0);
        String out = runAllowingMissing(List.of(Bmv2Commands.tableDumpEntryFromKey(first, d, key))).get(0);
        return Bmv2Commands.dumpedEntry(out).map(e -> Bmv2Commands.littleEndian(e.data(), d.value().size()));
    }

    /** Lookups of {@code key} that hit in {@code map} (declared {@code with stats}); 0 if none or no entry. */
    public long getStats(String map, byte[] key) {
        Bmv2Entries.MapDef d = entries.map(map);
        if (!d.stats()) {
            throw new IllegalArgumentException("map " + map + " is not declared 'with stats'");
        }
        List<String> reads = new ArrayList<>();
        if (d.isArray()) {
            String counter = d.registerHitCounter().orElseThrow(() -> new AgentException(entries.source()
                    + ": array " + map + " has stats but no hit counter"));
            reads.add(Bmv2Commands.counterRead(counter, Bmv2Commands.index(d, key).longValueExact()));
        } else {
            List<Optional<Bmv2Commands.Dumped>> found = lookUp(d, List.of(key)).get(0);
            for (int t = 0; t < d.tables().size(); t++) {
                Bmv2Entries.Table table = d.tables().get(t);
                if (found.get(t).isPresent()) {
                    String counter = table.hitCounter().orElseThrow(() -> new AgentException(entries.source()
                            + ": table " + table.name() + " of map " + map + " has no hit counter"));
                    reads.add(Bmv2Commands.counterRead(counter, found.get(t).get().handle()));
                }
            }
        }
        if (reads.isEmpty()) {
            return 0;
        }
        long sum = 0;
        List<String> out = run(reads);
        for (int i = 0; i < reads.size(); i++) {
            OptionalLong n = Bmv2Commands.counterPackets(out.get(i));
            if (n.isEmpty()) {
                throw new AgentException("cannot read the counter simple_switch_CLI printed for '" + reads.get(i)
                        + "':\n" + out.get(i));
            }
            sum += n.getAsLong();
        }
        return sum;
    }

    // ------------------------------------------------------------------ plumbing

    private List<Bmv2Entries.Table> tables(Bmv2Entries.MapDef d) {
        if (d.tables().isEmpty()) {
            throw new AgentException("map " + d.name() + " has no table on BMv2: no handler of " + entries.source()
                    + " looks it up, so the switch holds none of its entries");
        }
        return d.tables();
    }

    /** For each key, for each table of {@code d}: the entry the switch holds, if any (one batch). */
    private List<List<Optional<Bmv2Commands.Dumped>>> lookUp(Bmv2Entries.MapDef d, List<byte[]> keys) {
        List<Bmv2Entries.Table> tables = tables(d);
        List<String> queries = new ArrayList<>();
        for (byte[] key : keys) {
            for (Bmv2Entries.Table t : tables) {
                queries.add(Bmv2Commands.tableDumpEntryFromKey(t, d, key));
            }
        }
        List<String> out = runAllowingMissing(queries);
        List<List<Optional<Bmv2Commands.Dumped>>> result = new ArrayList<>();
        for (int k = 0; k < keys.size(); k++) {
            List<Optional<Bmv2Commands.Dumped>> perTable = new ArrayList<>();
            for (int t = 0; t < tables.size(); t++) {
                perTable.add(Bmv2Commands.dumpedEntry(out.get(k * tables.size() + t)));
            }
            result.add(perTable);
        }
        return result;
    }

    /** Runs a batch; any command the CLI refused is an error naming it. */
    private List<String> run(List<String> commands) {
        List<String> out = cli.run(commands);
        check(commands, out, false);
        return out;
    }

    /** Runs key queries: "no entry for this key" is an answer, any other complaint an error. */
    private List<String> runAllowingMissing(List<String> commands) {
        List<String> out = cli.run(commands);
        check(commands, out, true);
        return out;
    }

    private static void check(List<String> commands, List<String> out, boolean missingIsAnAnswer) {
        if (out.size() != commands.size()) {
            throw new AgentException("simple_switch_CLI answered " + out.size() + " of " + commands.size() + " commands");
        }
        for (int i = 0; i < commands.size(); i++) {
            if (missingIsAnAnswer && Bmv2Commands.noSuchEntry(out.get(i))) {
                continue;
            }
            Optional<String> failure = Bmv2Commands.failure(out.get(i));
            if (failure.isPresent()) {
                throw new AgentException("simple_switch_CLI refused '" + commands.get(i) + "': " + failure.get()
                        + (commands.size() > 1 ? " (the other " + (commands.size() - 1) + " command"
                        + (commands.size() == 2 ? " of the batch was" : "s of the batch were") + " run)" : ""));
            }
        }
    }
}
