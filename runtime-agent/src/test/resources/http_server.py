# A minimal HTTP/1.0 server for AgentResetTest: answers every request 200 and closes.
# It retries a blocking recv that fails with EAGAIN: when a sk_skb verdict drops a segment, the kernel wakes the
# socket's reader and a blocking recv returns EAGAIN (tcp_bpf_recvmsg); Python's socket file (http.server) takes
# that for end-of-file and closes the connection, racing the agent's destroy (the client then sees a FIN).
import socket, sys, threading, time

def serve(c):
    data = b""
    deadline = time.time() + 10
    try:
        while b"\r\n\r\n" not in data and time.time() < deadline:
            try:
                chunk = c.recv(4096)
            except BlockingIOError:
                time.sleep(0.01)
                continue
            if not chunk:
                return
            data += chunk
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    except OSError:
        pass
    finally:
        c.close()

# argv: PORT [BIND]; BIND "::" makes a dual-stack AF_INET6 listener (IPv4 clients appear v4-mapped)
bind = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
l = socket.socket(socket.AF_INET6 if ":" in bind else socket.AF_INET)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if ":" in bind:
    l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
l.bind((bind, int(sys.argv[1])))
l.listen(64)
while True:
    conn, _ = l.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
