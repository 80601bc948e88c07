#!/usr/bin/env python3
"""A WAF-like transparent proxy in front of the metadata service: passes GET and HEAD unchanged, blocks every
other method (the misconfiguration of scenario 4). IMDSv2 tokens are only issued to PUT, so none gets through."""
import argparse
import http.client
import http.server

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}
ALLOWED = {"GET", "HEAD"}


def make_handler(upstream: str):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # noqa: D401 - one line per request on stderr
            print(f"waf {self.command} {self.path} " + (fmt % args), flush=True)

        def refuse(self):
            body = f"blocked by WAF: method {self.command} not allowed\n".encode()
            self.send_response(403)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Lab-Waf", "blocked")
            self.end_headers()
            self.wfile.write(body)

        def forward(self):
            if self.command not in ALLOWED:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.refuse()
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connection = http.client.HTTPConnection(upstream, 80, timeout=10)
            try:
                connection.request(self.command, self.path, headers=headers)
                response = connection.getresponse()
                body = response.read()
            except OSError as error:
                body = f"upstream unreachable: {error}\n".encode()
                self.send_response(502)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            finally:
                connection.close()
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = do_OPTIONS = forward

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", default="169.254.169.254")
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer((args.listen, args.port), make_handler(args.upstream))
    server.serve_forever()


if __name__ == "__main__":
    main()
