package dev.xps.compiler.ir;

import java.util.List;
import java.util.Optional;

/** Everything compiled from one .xps file. */
public record IrModule(String sourceFile, List<IrMap> maps, List<IrHandler> handlers,
                       List<IrEntryPoint> entryPoints, List<IrConsensus> consensus, List<IrTest> tests) {

    public Optional<IrMap> map(String name) {
        return maps.stream().filter(m -> m.name().equals(name)).findFirst();
    }

    public Optional<IrHandler> handler(String name) {
        return handlers.stream().filter(h -> h.name().equals(name)).findFirst();
    }

    /** The file name without directories and the .xps suffix: "samples/redis-get.xps" → "redis-get". */
    public String baseName() {
        String file = sourceFile.replace('\\', '/');
        String base = file.substring(file.lastIndexOf('/') + 1);
        return base.endsWith(".xps") ? base.substring(0, base.length() - 4) : base;
    }
}
