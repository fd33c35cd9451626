package dev.xps.stack.sample;

import dev.xps.runtime.EntryPoint;
import dev.xps.runtime.MapStore;
import dev.xps.runtime.Protocol;
import dev.xps.runtime.XpsProgram;
import dev.xps.stack.Service;
import dev.xps.stack.XpsStack;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;

/**
 * Runs a sample service on the stack: {@code kv} (Redis protocol, {@link KvService}) or
 * {@code http} ({@link HttpService}) with a generated program loaded by class name.
 *
 * <pre>
 * java -cp runtime-stack.jar:lib/*:GENERATED dev.xps.stack.sample.ServerMain kv \
 *      --program xps.generated.RedisGet [--port 6379] [--bind 127.0.0.1] [--map cache] [--no-fast-path]
 * </pre>
 *
 * The handlers see the predicate's port whatever port the server listens on (a server on 7379
 * runs the {@code tcp port 6379} entry points). {@code --no-fast-path} is the benchmarks' baseline:
 * the same server and service, but every segment passes to the service without running a handler
 * ({@link NoFastPath}).
 */
public final class ServerMain {
    private ServerMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || !(args[0].equals("kv") || args[0].equals("http"))) {
            usage("first argument must be 'kv' or 'http'");
        }
        String kind = args[0];
        String programClass = null;
        String bind = "127.0.0.1";
        int port = -1;
        String mapName = "cache";
        boolean fastPath = true;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--no-fast-path")) {
                fastPath = false;
                continue;
            }
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--program" -> programClass = need(args[i], value);
                case "--port" -> port = Integer.parseInt(need(args[i], value));
                case "--bind" -> bind = need(args[i], value);
                case "--map" -> mapName = need(args[i], value);
                default -> usage("unknown option " + args[i]);
            }
            i++;
        }
        if (programClass == null) {
            usage("--program CLASS is required");
        }
        String className = programClass;
        Function<MapStore, XpsProgram> loaded = XpsStack.load(programClass, Thread.currentThread().getContextClassLoader());
        Function<MapStore, XpsProgram> factory = fastPath ? loaded : store -> new NoFastPath(loaded.apply(store));
        MapStore maps = new MapStore();
        Service service = kind.equals("kv") ? new KvService(maps, mapName) : new HttpService();
        XpsStack stack = XpsStack.builder(maps, factory).service(service).build();
        XpsProgram program = stack.program() instanceof NoFastPath off ? off.program() : stack.program();
        EntryPoint entry = program.entryPoints().stream()
                .filter(e -> e.predicate().protocol() == Protocol.TCP).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(className + " has no TCP entry point"));
        int logical = entry.predicate().dstPort().low();
        if (kind.equals("kv")) {
            stack.maps().get(mapName); // fail early when the program does not declare the map
        }
        InetSocketAddress at = stack.listenTcp(new InetSocketAddress(bind, port < 0 ? logical : port), logical);
        System.out.printf("xps-%s: %s (%s) on %s:%d, transport %s; handlers see port %d (entry '%s')%s%n", kind,
                stack.program().sourceFile(), programClass, at.getHostString(), at.getPort(),
                stack.isEpoll() ? "epoll" : "nio", logical, entry.name(),
                fastPath ? "" : "; fast path OFF (--no-fast-path: every segment goes to the service)");
        System.out.flush();
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stack.close();
            stop.countDown();
        }));
        stop.await();
    }

    private static String need(String option, String value) {
        if (value == null) {
            usage(option + " needs a value");
        }
        return value;
    }

    private static void usage(String problem) {
        System.err.println("xps-server: " + problem);
        System.err.println("usage: ServerMain kv|http --program CLASS [--port N] [--bind ADDR] [--map NAME] [--no-fast-path]");
        System.exit(2);
    }
}
