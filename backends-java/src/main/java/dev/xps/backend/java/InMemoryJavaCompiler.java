package dev.xps.backend.java;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Compiles generated Java in memory with the JDK's compiler and loads it in a fresh class loader
 * whose parent is the loader of the handler runtime, so the loaded program and its host share
 * {@link dev.xps.runtime.XpsProgram} and friends.
 */
final class InMemoryJavaCompiler {
    /** The classes, or the compiler's complaints. */
    sealed interface Result {
        /** {@code warnings}: javac's -Xlint warnings, one per line (generated code should have none). */
        record Loaded(ClassLoader loader, String warnings) implements Result {}

        record Failed(String diagnostics) implements Result {}
    }

    /** Why Java cannot be compiled here, if it cannot (a JRE has no compiler). */
    static Optional<String> unavailableReason() {
        if (ToolProvider.getSystemJavaCompiler() == null) {
            return Optional.of("no Java compiler in this runtime (java.compiler module missing: run on a JDK)");
        }
        if (runtimeClassPath().isEmpty()) {
            return Optional.of("cannot locate the handler-runtime classes to compile against");
        }
        return Optional.empty();
    }

    /** Compiles {@code sources} (fully qualified class name → source text). */
    static Result compile(Map<String, String> sources) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        Map<String, ByteArrayOutputStream> classes = new HashMap<>();
        try (StandardJavaFileManager standard = javac.getStandardFileManager(diagnostics, null, null);
             JavaFileManager files = new ForwardingJavaFileManager<>(standard) {
                 @Override
                 public JavaFileObject getJavaFileForOutput(Location location, String className, JavaFileObject.Kind kind,
                                                            FileObject sibling) {
                     return new SimpleJavaFileObject(URI.create("mem:///" + className.replace('.', '/') + kind.extension),
                             kind) {
                         @Override
                         public OutputStream openOutputStream() {
                             return classes.computeIfAbsent(className, n -> new ByteArrayOutputStream());
                         }
                     };
                 }
             }) {
            List<JavaFileObject> units = sources.entrySet().stream()
                    .map(e -> (JavaFileObject) new Source(e.getKey(), e.getValue()))
                    .toList();
            List<String> options = List.of("-classpath", runtimeClassPath().orElseThrow(), "-proc:none",
                    "-Xlint:all", "-encoding", "UTF-8");
            StringWriter output = new StringWriter();
            boolean ok = javac.getTask(output, files, diagnostics, options, null, units).call();
            if (!ok) {
                return new Result.Failed((render(diagnostics, Diagnostic.Kind.ERROR) + output).strip());
            }
            Map<String, byte[]> bytecode = new HashMap<>();
            classes.forEach((name, out) -> bytecode.put(name, out.toByteArray()));
            return new Result.Loaded(new MemoryClassLoader(bytecode, dev.xps.runtime.XpsProgram.class.getClassLoader()),
                    (render(diagnostics, Diagnostic.Kind.WARNING) + render(diagnostics, Diagnostic.Kind.MANDATORY_WARNING))
                            .strip());
        } catch (java.io.IOException e) {
            return new Result.Failed("cannot set up the Java compiler: " + e.getMessage());
        }
    }

    /** {@code RedisGet.java:12: cannot find symbol ...}, one per line. */
    private static String render(DiagnosticCollector<JavaFileObject> diagnostics, Diagnostic.Kind kind) {
        StringBuilder text = new StringBuilder();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() == kind) {
                String where = d.getSource() == null ? ""
                        : Path.of(d.getSource().toUri().getPath()).getFileName() + ":" + d.getLineNumber() + ": ";
                text.append(where).append(d.getMessage(java.util.Locale.ROOT)).append('\n');
            }
        }
        return text.toString();
    }

    /** Where the handler-runtime classes are: a directory (in the build) or a jar. */
    static Optional<String> runtimeClassPath() {
        CodeSource source = dev.xps.runtime.XpsProgram.class.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(Path.of(source.getLocation().toURI()).toString());
        } catch (URISyntaxException | IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            return Optional.empty();
        }
    }

    private static final class Source extends SimpleJavaFileObject {
        private final String text;

        Source(String className, String text) {
            super(URI.create("string:///" + className.replace('.', '/') + Kind.SOURCE.extension), Kind.SOURCE);
            this.text = text;
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return text;
        }
    }

    private static final class MemoryClassLoader extends ClassLoader {
        private final Map<String, byte[]> classes;

        MemoryClassLoader(Map<String, byte[]> classes, ClassLoader parent) {
            super("xps-generated", parent);
            this.classes = classes;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            byte[] bytes = classes.get(name);
            if (bytes == null) {
                throw new ClassNotFoundException(name);
            }
            return defineClass(name, bytes, 0, bytes.length);
        }
    }

    private InMemoryJavaCompiler() {}
}
