#!/usr/bin/env python3
"""A web app with a server-side request forgery hole (scenario 5): GET /fetch?url=URL fetches any URL from the
instance and returns the upstream status and body. It only ever sends GET without custom headers, so under
http-tokens required the metadata service answers it 401."""
import argparse
import http.server
import urllib.error
import urllib.parse
import urllib.request


# No proxy from the environment: the app fetches exactly what it is told, from the instance itself.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        print("ssrf " + (fmt % args), flush=True)

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parsed = urllib.parse.urlsplit(self.path)
        if parsed.path != "/fetch":
            self.reply(200, b"try /fetch?url=http://example/\n")
            return
        url = urllib.parse.parse_qs(parsed.query).get("url", [""])[0]
        try:
            with OPENER.open(url, timeout=10) as response:
                self.reply(response.status, response.read())
        except urllib.error.HTTPError as error:
            self.reply(error.code, error.read())
        except (OSError, ValueError) as error:
            self.reply(502, f"fetch failed: {error}\n".encode())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    http.server.ThreadingHTTPServer((args.listen, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
