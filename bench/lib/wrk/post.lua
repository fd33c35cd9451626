-- wrk script for bench java-http/post: an empty-bodied POST, which samples/http-block.xps answers
-- with 405 in the fast path and HttpService answers with the same 405 in the baseline.
wrk.method = "POST"
wrk.body = ""
wrk.headers["Content-Length"] = "0"
