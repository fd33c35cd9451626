package dev.xps.backend.ebpf;

import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.Protocol;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The shape of a module's kernel objects, and their names: which programs and maps there are, and
 * which handler sits in which tail-call slot. The C generator, the manifest and the test runner
 * all read it, so the three always agree.
 *
 * <p>Per entry point: a PROG_ARRAY of its handlers (one slot per distinct handler, in the order the
 * source first names them), a function that tail-calls a slot and returns to the segment walk, and
 * the programs of its protocol (TCP: sockops, sk_skb stream verdict, sk_msg; UDP: xdp). Each handler
 * is a program of its own, verified on its own, that the agent can replace by updating its slot.
 */
record Plan(IrModule module, List<MapPlan> maps, List<HandlerProgram> programs, List<EntryPlan> entries) {

    record MapPlan(IrMap map, String cName, String hitsName, String slotStruct) {}

    /** A handler compiled for one protocol's program type. */
    record HandlerProgram(IrHandler handler, Protocol protocol, String cName) {}

    record SlotPlan(int index, HandlerProgram program) {}

    record EntryPlan(IrEntryPoint entry, int index, String cName, List<SlotPlan> slots, String handlersArray,
                     String call, String run, String messageFn, String segmentFn, String resetFn, String socks,
                     String verdictProg, String sockopsProg, String egressProg, String xdpProg) {
        boolean tcp() {
            return entry.predicate().protocol() == Protocol.TCP;
        }

        Optional<SlotPlan> slotOf(IrHandler handler) {
            return slots.stream().filter(s -> s.program().handler().name().equals(handler.name())).findFirst();
        }

        /** The programs an agent attaches, in the order it should attach them. */
        List<String> attachedPrograms() {
            return tcp() ? List.of(sockopsProg, verdictProg, egressProg) : List.of(xdpProg);
        }
    }

    static Plan of(IrModule module) {
        CNames names = CNames.file();
        List<MapPlan> maps = new ArrayList<>();
        Map<IrMap, String> mapNames = new LinkedHashMap<>();
        for (IrMap m : module.maps()) {
            mapNames.put(m, names.user(m.name()));
        }
        // Handler programs, per protocol that reaches them, in the order entry points name them.
        Map<String, HandlerProgram> programs = new LinkedHashMap<>();
        Map<IrHandler, Protocol> firstProtocol = new LinkedHashMap<>();
        for (IrEntryPoint e : module.entryPoints()) {
            Protocol p = e.predicate().protocol();
            for (IrHandler h : handlersOf(e)) {
                String key = h.name() + "/" + p;
                if (programs.containsKey(key)) {
                    continue;
                }
                Protocol first = firstProtocol.putIfAbsent(h, p);
                String cName = first == null ? names.user(h.name())
                        : names.derived(h.name() + "_" + p.name().toLowerCase(java.util.Locale.ROOT));
                programs.put(key, new HandlerProgram(h, p, cName));
            }
        }
        for (IrMap m : module.maps()) {
            String c = mapNames.get(m);
            String hits = m.stats() ? names.derived(c + "_hits") : null;
            String slot = m.kind() == dev.xps.compiler.ir.MapKind.LOG ? c + "_slot" : null;
            maps.add(new MapPlan(m, c, hits, slot));
        }
        List<EntryPlan> entries = new ArrayList<>();
        int index = 0;
        for (IrEntryPoint e : module.entryPoints()) {
            Protocol p = e.predicate().protocol();
            String base = CNames.escape(e.name());
            List<SlotPlan> slots = new ArrayList<>();
            for (IrHandler h : handlersOf(e)) {
                slots.add(new SlotPlan(slots.size(), programs.get(h.name() + "/" + p)));
            }
            boolean tcp = p == Protocol.TCP;
            entries.add(new EntryPlan(e, index++, base, List.copyOf(slots),
                    names.derived(base + "_handlers"),
                    names.derived(base + "_call"),
                    names.derived(base + "_run"),
                    names.derived(base + "_message"),
                    names.derived(base + (tcp ? "_segment" : "_datagram")),
                    tcp ? names.derived(base + "_reset") : null,
                    tcp ? names.derived(base + "_socks") : null,
                    tcp ? names.derived(base + "_verdict") : null,
                    tcp ? names.derived(base + "_sockops") : null,
                    tcp ? names.derived(base + "_egress") : null,
                    tcp ? null : names.derived(base + "_xdp")));
        }
        return new Plan(module, List.copyOf(maps), List.copyOf(programs.values()), List.copyOf(entries));
    }

    /** The distinct handlers an entry point runs, in the order the source names them. */
    static List<IrHandler> handlersOf(IrEntryPoint e) {
        List<IrHandler> out = new ArrayList<>();
        switch (e) {
            case IrEntryPoint.Direct d -> out.add(d.handler());
            case IrEntryPoint.Dispatch d -> {
                for (IrEntryPoint.Arm a : d.arms()) {
                    if (a.target() instanceof IrEntryPoint.Target.ToHandler t) {
                        addOnce(out, t.handler());
                    }
                }
                if (d.fallback() instanceof IrEntryPoint.Target.ToHandler t) {
                    addOnce(out, t.handler());
                }
            }
        }
        return out;
    }

    private static void addOnce(List<IrHandler> handlers, IrHandler h) {
        if (handlers.stream().noneMatch(x -> x.name().equals(h.name()))) {
            handlers.add(h);
        }
    }

    MapPlan map(IrMap m) {
        return maps.stream().filter(p -> p.map().name().equals(m.name())).findFirst().orElseThrow();
    }

    boolean hasTcp() {
        return entries.stream().anyMatch(EntryPlan::tcp);
    }
}
