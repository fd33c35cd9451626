package dev.xps.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reset from the kernel reaches the client with nothing but {@code bin/xps load}: loading a context with TCP
 * entry points starts the resident reset server, a PUT to the service behind samples/http-block.xps is cut off
 * with an RST (ECONNRESET at the client), {@code status} shows the server, and unloading the last context stops
 * it and leaves no program or map of the context behind.
 */
class ResetServerIT {
    private static final Path ROOT = Path.of(System.getProperty("xps.root.dir", "..")).toAbsolutePath().normalize();

    private record Result(int exit, String output) {}

    /** A line server that survives the EAGAIN a dropped segment gives a blocking reader (runtime-agent/README.md). */
    private static final String SERVER = """
            import socket, sys, threading, time
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", int(sys.argv[1])))
            s.listen(64)
            def serve(c):
                try:
                    while True:
                        try:
                            d = c.recv(4096)
                        except BlockingIOError:
                            time.sleep(0.01)
                            continue
                        if not d:
                            break
                        if d.startswith(b"GET"):
                            c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
                except OSError:
                    pass
                finally:
                    c.close()
            while True:
                c, _ = s.accept()
                threading.Thread(target=serve, args=(c,), daemon=True).start()
            """;

    @Test
    void loadStartsTheResetServerAndTheLastUnloadStopsIt(@TempDir Path tmp) throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 6);
        Path pins = Path.of("/sys/fs/bpf/xpsit-" + id);
        Path cgroup = Path.of("/sys/fs/cgroup/unified/xpsit-" + id);
        Path state = tmp.resolve("state");
        int port = freePort();
        Files.createDirectories(cgroup);
        Process server = null;
        try {
            Path source = tmp.resolve("http-block.xps");
            Files.writeString(source, Files.readString(ROOT.resolve("samples/http-block.xps"))
                    .replace("tcp port 80 ", "tcp port " + port + " "));
            Result compiled = run(List.of(ROOT.resolve("bin/xpsc").toString(), "compile", source.toString(),
                    "--target", "ebpf", "-o", tmp.toString()));
            assertEquals(0, compiled.exit(), compiled.output());

            Result load = xps(pins, state, "load", "http", tmp.resolve("ebpf/http-block").toString(),
                    "--cgroup", cgroup.toString());
            assertEquals(0, load.exit(), load.output());
            Matcher m = Pattern.compile("reset server, pid (\\d+)").matcher(load.output());
            assertTrue(m.find(), load.output());
            long pid = Long.parseLong(m.group(1));
            assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the reset server runs");

            Path script = tmp.resolve("server.py");
            Files.writeString(script, SERVER);
            server = new ProcessBuilder("sh", "-c", "echo $$ > " + cgroup.resolve("cgroup.procs") + " && exec python3 "
                    + script + " " + port).redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("server.log").toFile()).start();
            assertTrue(waitForPort(port), "the service did not start");

            // GET passes to the service; PUT is reset by the kernel and the reset server
            try (Socket s = connect(port)) {
                s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertTrue(readSome(s.getInputStream()).startsWith("HTTP/1.1 200 OK"));
            }
            try (Socket s = connect(port)) {
                s.getOutputStream().write("PUT / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                SocketException e = assertThrows(SocketException.class, () -> readSome(s.getInputStream()));
                assertTrue(e.getMessage().toLowerCase().contains("reset"), e.toString());
            }

            Result status = xps(pins, state, "status");
            assertTrue(status.output().contains("reset server: running, pid " + pid), status.output());

            Result unload = xps(pins, state, "unload", "http");
            assertEquals(0, unload.exit(), unload.output());
            assertFalse(unload.output().contains("still holds"), unload.output());
            assertTrue(ProcessHandle.of(pid).map(h -> {
                try {
                    h.onExit().get(10, TimeUnit.SECONDS);
                    return true;
                } catch (Exception e) {
                    return false;
                }
            }).orElse(true), "the reset server stops once no context is left");
            String log = Files.readString(state.resolve("serve.log"));
            assertTrue(log.contains("http: reset 127.0.0.1:" + port), log);
            assertTrue(log.contains("no contexts left"), log);
            Result after = xps(pins, state, "status");
            assertTrue(after.output().contains("reset server: not running"), after.output());
        } finally {
            if (server != null) {
                server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            if (Files.exists(pins.resolve("http"))) {
                xps(pins, state, "unload", "http");
            }
            Files.deleteIfExists(pins);
            Files.deleteIfExists(cgroup);
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        s.setSoTimeout(5_000);
        return s;
    }

    private static String readSome(InputStream in) throws IOException {
        byte[] b = new byte[4096];
        int n = in.read(b);
        return n < 0 ? "" : new String(b, 0, n, StandardCharsets.US_ASCII);
    }

    private static boolean waitForPort(int port) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        return false;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static Result xps(Path pins, Path state, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ROOT.resolve("bin/xps").toString(), "--pin-root", pins.toString(),
                "--state-root", state.toString()));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    private static Result run(List<String> command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("XPS_NO_BUILD", "1");
        pb.environment().put("XPSC_NO_BUILD", "1");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "did not finish: " + command);
        return new Result(p.exitValue(), out);
    }
}
