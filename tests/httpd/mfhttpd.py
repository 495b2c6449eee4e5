#!/usr/bin/env python3
"""Scripted loopback HTTP(S) server for modelfuse's tests.

Standard library only. Listens on 127.0.0.1 only, on ports the kernel picks:
"plain" (http), "other" (http, a second origin) and, with --tls-dir, "tls"
(https with a test CA generated there by the openssl command). Prints one
line "plain=PORT other=PORT [tls=PORT]" on stdout once it is ready.

Behaviour comes from a JSON script file, re-read whenever it changes (the
per-path counters start again then). Keys are "LISTENER /path" or "/path"
(the path without its query, or with it for an exact match); the value is
one response or a list of them, consumed one per request, the last one
repeating. A response may give:
  status          HTTP status (200)
  headers         {"Name": "value"} sent as they are
  body            text; body_repeat: ["text", N] for N copies; body_file: a path
  delay           seconds to wait before answering
  drip            seconds between single bytes of the body (a slow drip)
  cut             send only this many body bytes, then close (Content-Length
                  still announces them all)
  content_length  announce this length whatever the body is
  reset           close the connection with a TCP reset instead of answering
  raw             send this text as the whole response (status line, headers
                  and all, nothing added), then close: broken HTTP
  gzip            compress the body and send it with Content-Encoding: gzip
  not_modified    answer 304 when If-None-Match matches the ETag header or
                  If-Modified-Since matches Last-Modified
Text in bodies and header values may name "{plain}", "{other}" and "{tls}":
the ports. Unknown paths get 404.

Every request is appended to the --log file as one JSON line: listener,
method, path, headers (names lowercased). The server exits after --idle
seconds without a request, after --max-requests requests, or on SIGTERM.
"""

import argparse
import gzip
import json
import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"script": {}, "stamp": None, "counters": {}, "requests": 0, "last": time.monotonic()}
PORTS = {}


def load_script(path):
    """Re-read the script when the file changed; returns it."""
    try:
        st = os.stat(path)
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    except OSError:
        return {}
    if stamp != STATE["stamp"]:
        try:
            with open(path, encoding="utf-8") as f:
                STATE["script"] = json.load(f, strict=False)
        except (OSError, ValueError) as e:
            sys.stderr.write("mfhttpd: bad script %s: %s\n" % (path, e))
            STATE["script"] = {}
        STATE["stamp"] = stamp
        STATE["counters"] = {}
    return STATE["script"]


def fill(text):
    for name, port in PORTS.items():
        text = text.replace("{%s}" % name, str(port))
    return text


def pick_response(listener, path):
    script = load_script(ARGS.script)
    bare = path.split("?", 1)[0]
    for key in ("%s %s" % (listener, path), path, "%s %s" % (listener, bare), bare):
        if key in script:
            entry = script[key]
            if not isinstance(entry, list):
                return entry
            n = STATE["counters"].get(key, 0)
            STATE["counters"][key] = n + 1
            return entry[min(n, len(entry) - 1)] if entry else {"status": 404}
    return {"status": 404, "body": "no such path in the script\n"}


def response_body(resp):
    if "body_file" in resp:
        base = os.path.dirname(os.path.abspath(ARGS.script))
        with open(os.path.join(base, resp["body_file"]), "rb") as f:
            return f.read()
    if "body_repeat" in resp:
        text, count = resp["body_repeat"]
        return fill(text).encode() * int(count)
    return fill(resp.get("body", "")).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mfhttpd"
    sys_version = ""

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
        super().setup()

    def log_message(self, fmt, *args):  # quiet: the JSON log is what tests read
        pass

    def do_GET(self):
        listener = self.server.listener_name
        with LOCK:
            STATE["requests"] += 1
            STATE["last"] = time.monotonic()
            entry = {
                "listener": listener,
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }
            with open(ARGS.log, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
            resp = pick_response(listener, self.path)
            over = STATE["requests"] >= ARGS.max_requests
        try:
            self.answer(resp)
        finally:
            if over:
                os._exit(0)

    do_HEAD = do_GET

    def answer(self, resp):
        if resp.get("delay"):
            time.sleep(float(resp["delay"]))
        if resp.get("reset"):
            # SO_LINGER with a zero timeout: close() sends RST.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if "raw" in resp:
            self.wfile.write(fill(resp["raw"]).encode("utf-8", "surrogateescape"))
            self.wfile.flush()
            self.close_connection = True
            return
        headers = {k: fill(str(v)) for k, v in resp.get("headers", {}).items()}
        status = int(resp.get("status", 200))
        body = response_body(resp)
        if resp.get("gzip"):
            body = gzip.compress(body, compresslevel=9)
            headers["Content-Encoding"] = "gzip"
        if resp.get("not_modified"):
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if (inm is not None and inm == headers.get("ETag")) or (
                    ims is not None and ims == headers.get("Last-Modified")):
                status, body = 304, b""
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        length = resp.get("content_length", len(body))
        if status != 304:
            self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command == "HEAD" or status == 304:
            return
        if "cut" in resp:
            body = body[:int(resp["cut"])]
        if resp.get("drip"):
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(float(resp["drip"]))
        else:
            self.wfile.write(body)
        self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        # A client that gives up (timeouts, refused certificates) is normal here.
        pass


def make_certificates(folder):
    """A CA and a server certificate for 127.0.0.1, made with openssl."""
    ca, key, cert = (os.path.join(folder, n) for n in ("ca.pem", "server.key", "server.pem"))
    if all(os.path.exists(p) for p in (ca, key, cert)):
        return cert, key
    os.makedirs(folder, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *a: subprocess.run(["openssl", *a], check=True, cwd=folder,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem.tmp", "-days", "2",
        "-subj", "/CN=modelfuse test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", "server.key.tmp", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(folder, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem.tmp", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
    os.rename(os.path.join(folder, "server.key.tmp"), key)
    os.rename(os.path.join(folder, "ca.pem.tmp"), ca)
    return cert, key


def serve(server):
    try:
        server.serve_forever(poll_interval=0.1)
    except Exception:  # noqa: BLE001 -- a dying listener must not hang the others
        os._exit(1)


def main():
    global ARGS
    p = argparse.ArgumentParser(description="scripted loopback HTTP(S) server for tests")
    p.add_argument("--script", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--tls-dir")
    p.add_argument("--idle", type=float, default=60)
    p.add_argument("--max-requests", type=int, default=10000)
    ARGS = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    servers = []
    for name in ("plain", "other"):
        s = Server(("127.0.0.1", 0), Handler)
        s.listener_name = name
        servers.append(s)
    if ARGS.tls_dir:
        cert, key = make_certificates(ARGS.tls_dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        s = Server(("127.0.0.1", 0), Handler)
        s.socket = ctx.wrap_socket(s.socket, server_side=True, do_handshake_on_connect=False)
        s.listener_name = "tls"
        servers.append(s)
    for s in servers:
        PORTS[s.listener_name] = s.server_address[1]
        threading.Thread(target=serve, args=(s,), daemon=True).start()
    sys.stdout.write(" ".join("%s=%d" % kv for kv in PORTS.items()) + "\n")
    sys.stdout.flush()

    while True:
        time.sleep(0.2)
        with LOCK:
            idle = time.monotonic() - STATE["last"]
        if idle > ARGS.idle:
            os._exit(0)


if __name__ == "__main__":
    main()
