package dev.xps.agent.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A directory nginx serves from as root with one worker in the foreground: {@code index.html} ("hello from nginx\n")
 * and an {@code nginx.conf} keeping its pid, logs (access.log: which requests reached it) and temp files there.
 */
public final class NginxSite {
    private NginxSite() {}

    /** Writes the site into {@code www}, nginx listening on each of {@code listens} ("127.0.0.1:8080", "[::1]:8080"). */
    public static void write(Path www, String... listens) throws IOException {
        StringBuilder listen = new StringBuilder();
        for (String l : listens) {
            listen.append("listen ").append(l).append("; ");
        }
        Files.writeString(www.resolve("index.html"), "hello from nginx\n");
        Files.writeString(www.resolve("nginx.conf"), """
                user root;
                worker_processes 1;
                daemon off;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log;
                events { worker_connections 64; }
                http {
                  access_log %1$s/access.log;
                  client_body_temp_path %1$s/body;
                  proxy_temp_path %1$s/proxy;
                  fastcgi_temp_path %1$s/fastcgi;
                  uwsgi_temp_path %1$s/uwsgi;
                  scgi_temp_path %1$s/scgi;
                  server { %2$sroot %1$s; }
                }
                """.formatted(www, listen));
    }
}
