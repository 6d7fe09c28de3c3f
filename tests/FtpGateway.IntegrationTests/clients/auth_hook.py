"""The obvious minimal authentication hook, written with Python's http.server (a bridge to PAM or LDAP starts
like this): it reads the body by its Content-Length. Logs in "py-cam" with password "py-pw"; refuses the rest.
Run with Debian's /usr/bin/python3.

usage: auth_hook.py PORT
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        if body.get("user") == "py-cam" and body.get("password") == "py-pw":
            answer = json.dumps({"root": "/py/{user}", "permissions": "WriteOnly"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        else:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(sys.argv[1])), Hook).serve_forever()
