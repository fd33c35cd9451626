-- wrk script for bench kernel-nginx/post: an empty-bodied POST that asks to close the connection,
-- so nginx (baseline) closes after its 405 exactly as the kernel's 405 (`Connection: close`) does.
wrk.method = "POST"
wrk.body = ""
wrk.headers["Content-Length"] = "0"
wrk.headers["Connection"] = "close"
