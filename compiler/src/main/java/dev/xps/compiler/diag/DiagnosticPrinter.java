package dev.xps.compiler.diag;

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

    public DiagnosticPrinter(Map<String, SourceFile> sources) {
        this.sources = sources;
    }

    public String render(Diagnostic d) {
        StringBuilder out = new StringBuilder(d.headline()).append('\n');
        SourceFile file = sources.get(d.location().file());
        if (file != null && d.location().line() > 0 && !file.line(d.location().line()).isBlank()) {
            String line = file.line(d.location().line());
            // Long lines (minified garbage) are cut so one diagnostic stays one screen.
            String shown = line.length() > 200 ? line.substring(0, 200) + "..." : line;
            out.append("    ").append(shown.replace('\t', ' ')).append('\n');
            int col = Math.max(1, d.location().column());
            if (col <= shown.length() + 1) {
                int width = Math.max(1, Math.min(d.length(), shown.length() + 1 - col));
                out.append("    ").append(" ".repeat(col - 1)).append("^".repeat(width)).append('\n');
            }
        }
        return out.toString();
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
