package dev.xps.agent.testsupport;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A child-process TCP server for the sockmap test: joins the cgroup given as its argument <em>before</em>
 * creating its listening socket (the socket's cgroup is fixed at creation), listens on 127.0.0.1, prints
 * {@code PORT <n>}, and for each line {@code L} it receives prints {@code GOT L} and answers
 * {@code SERVER:L\n} — so the test can tell who answered and whether the server saw a request.
 */
public final class LineServer {
    private LineServer() {}

    public static void main(String[] args) throws Exception {
        JavaChild.exitWithParent(Duration.ofSeconds(120));
        Files.writeString(Path.of(args[0]).resolve("cgroup.procs"), Long.toString(ProcessHandle.current().pid()));
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            System.out.println("PORT " + server.getLocalPort());
            System.out.flush();
            while (true) {
                Socket s = server.accept();
                Thread.ofPlatform().daemon().start(() -> serve(s));
            }
        }
    }

    private static void serve(Socket s) {
        try (s; BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                StandardCharsets.US_ASCII)); OutputStream out = s.getOutputStream()) {
            for (String line; (line = in.readLine()) != null; ) {
                System.out.println("GOT " + line);
                System.out.flush();
                out.write(("SERVER:" + line + "\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (Exception e) {
            System.out.println("CONNECTION ERROR " + e);
        }
    }
}
