package dev.xps.compiler.diag;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders diagnostics the way compilers users know do:
 * <pre>
 * redis.xps:12:9: error: unknown map 'cahce'
 *     value = lookup cahce[key] else pass;
 *                    ^^^^^
 * </pre>
 */
public final class DiagnosticPrinter {
    private final Map<String, SourceFile> sources;
    /** Each file split into lines once: splitting per diagnostic is quadratic on big files. */
    private final Map<String, List<String>> lines = new HashMap<>();

    public DiagnosticPrinter(Map<String, SourceFile> sources) {
        this.sources = sources;
    }

    public String render(Diagnostic d) {
        StringBuilder out = new StringBuilder(d.headline()).append('\n');
        String line = line(d.location());
        if (!line.isBlank()) {
            // Long lines (minified garbage) are cut so one diagnostic stays one screen.
            String shown = line.length() > 200 ? line.substring(0, 200) + "..." : line;
            // Tabs and stray CRs as one space each, so the caret below stays aligned and the line stays one line.
            out.append("    ").append(shown.replace('\t', ' ').replace('\r', ' ')).append('\n');
            int col = Math.max(1, d.location().column());
            if (col <= shown.length() + 1) {
                int width = Math.max(1, Math.min(d.length(), shown.length() + 1 - col));
                out.append("    ").append(" ".repeat(col - 1)).append("^".repeat(width)).append('\n');
            }
        }
        return out.toString();
    }

    /** The source line a location is on, or "" when the file or the line is unknown. */
    private String line(SourceLocation at) {
        SourceFile file = sources.get(at.file());
        if (file == null || at.line() < 1) {
            return "";
        }
        List<String> all = lines.computeIfAbsent(at.file(), f -> file.lines());
        return at.line() <= all.size() ? all.get(at.line() - 1) : "";
    }

    public String renderAll(Diagnostics diagnostics) {
        StringBuilder out = new StringBuilder();
        for (Diagnostic d : diagnostics.sorted()) {
            out.append(render(d));
        }
        if (diagnostics.suppressedErrors() > 0) {
            out.append("(").append(diagnostics.suppressedErrors()).append(" more errors not shown)\n");
        }
        return out.toString();
    }
}
