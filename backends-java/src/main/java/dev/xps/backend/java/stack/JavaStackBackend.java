package dev.xps.backend.java.stack;

import dev.xps.backend.java.JavaBackend;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.Capabilities;
import dev.xps.compiler.target.GeneratedFile;
import java.util.List;
import java.util.Optional;

/**
 * {@code --target java-stack}: the Java backend's code hosted by the user-space stack
 * ({@code runtime-stack}, Netty). It generates exactly what {@code java} generates; what differs
 * is how its tests run: through real loopback sockets on a running stack ({@link StackTestRunner}).
 */
public final class JavaStackBackend implements Backend {
    private final JavaBackend java = new JavaBackend();

    @Override
    public String name() {
        return "java-stack";
    }

    @Override
    public String description() {
        return "the java target's code on the user-space stack (runtime-stack, Netty epoll); tests run over loopback sockets";
    }

    @Override
    public Capabilities capabilities() {
        return java.capabilities();
    }

    @Override
    public List<GeneratedFile> generate(IrModule module, Diagnostics diagnostics) {
        return java.generate(module, diagnostics);
    }

    @Override
    public Optional<TestRunner> testRunner() {
        return Optional.of(new StackTestRunner());
    }
}
