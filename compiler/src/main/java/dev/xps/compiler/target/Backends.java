package dev.xps.compiler.target;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/** The backends on the class path, found with {@link ServiceLoader}. */
public final class Backends {
    private Backends() {}

    public static List<Backend> all() {
        List<Backend> out = new ArrayList<>();
        ServiceLoader.load(Backend.class, Backends.class.getClassLoader()).forEach(out::add);
        out.sort(Comparator.comparing(Backend::name));
        return List.copyOf(out);
    }

    public static Optional<Backend> named(String name) {
        return all().stream().filter(b -> b.name().equals(name)).findFirst();
    }
}
