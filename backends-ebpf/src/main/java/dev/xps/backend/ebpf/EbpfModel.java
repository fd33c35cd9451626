package dev.xps.backend.ebpf;

import java.util.List;

/**
 * What the templates in {@code ebpf.stg} render: plain records of strings, numbers and lists,
 * computed by {@link CGenerator}. (A record's components are read through {@link RecordAdaptor}.)
 */
final class EbpfModel {
    private EbpfModel() {}

    record File(String source, String base, List<String> summary, int window, String windowNote, int response,
                int entryCount, int maxBytes, List<Integer> bytesCaps, List<DataMap> maps, boolean tcp, List<Vars> vars,
                List<Constant> constants, List<Handler> handlers, List<Entry> entries) {}

    record DataMap(String declaration, String location, String cName, String bpfType, boolean noPrealloc,
                   long maxEntries, String keyType, String valueType, String slotStruct, String entryType,
                   String hitsName, String hitsBpfType) {}

    record Vars(String handler, String structName, List<String> fields) {}

    record Constant(String cName, int cap, int length, String literal) {}

    record Handler(String title, String location, String section, String cName, String ctxDecl, String ctxName,
                   String loadBytes, int reads, List<String> declarations, List<String> pointers, List<String> body,
                   boolean decodes, String onMalformed) {}

    record Entry(String name, String title, String location, int index, boolean tcp, String ctxType, String ctxName,
                 String loadBytes, String handlers, int slotCount, List<Slot> slots, String call, String run,
                 String messageFn, String segmentFn, String message, String socks, String resetFn,
                 String verdictProg, String sockopsProg, String egressProg, String xdpProg, String opsPredicate,
                 String udpPredicate, String directHandler) {}

    record Slot(int index, String program, String handler) {}

    record Dispatch(int offset, int length, boolean integer, int bigEndian, List<Arm> arms, String fallback,
                    String fallbackLocation) {}

    record Arm(String test, String action, String location) {}
}
