# A local stand-in for the upstream test's endpoint: accepts POSTs, reads
# the body, answers 200. Prints its port, then serves until killed.
import http.server
import sys


class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        left = int(self.headers.get("Content-Length", "0"))
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            left -= len(chunk)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
print(srv.server_address[1], flush=True)
sys.stdout.close()
srv.serve_forever()
