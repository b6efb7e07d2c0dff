#!/usr/bin/env python3
"""Counts the bytes PiSync puts on the wire, and the seed's HTTP/JSON API for the same event.

Every count is application bytes as each side writes them to its TCP socket: framing and
HTTP headers included, TCP/IP headers excluded. PiSync is measured against a running server
(`--server`); the HTTP/JSON baseline is a real HTTP/1.1 exchange with a local server that
answers `POST /api/sync-event` as the seed did (201 Created and the stored event as JSON).

    swift run pisync serve &
    python3 scripts/wire-bytes.py --server 127.0.0.1:7878 [--check]

With --check it exits 1 unless the single-event round trip is <= 48 bytes and a batch of
100 events costs <= 24 bytes per event (issue 3's targets).
"""
import argparse, http.server, json, os, socket, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crosscheck as cc  # protoc-generated messages and varint framing, shared with the conformance check

# The seed's example event, as its README posts it.
EXAMPLE = {"device_id": "pibook-001", "timestamp": "2026-11-28T08:00:00.000Z",
           "total_files_synced": 12, "total_errors": 0, "internet_speed": 8.5}
EXAMPLE_MS = 1795852800000  # the same instant in Unix milliseconds


class CountingSocket:
    """A socket that counts what each side sends."""
    def __init__(self, sock):
        self.sock, self.sent, self.received = sock, 0, 0

    def send_all(self, data):
        self.sock.sendall(data)
        self.sent += len(data)

    def read_frame(self):
        header = b""
        while True:
            byte = self.sock.recv(1)
            header += byte
            if byte[0] & 0x80 == 0:
                break
        length, _ = cc.decode_varint(header)
        body = b""
        while len(body) < length:
            body += self.sock.recv(length - len(body))
        self.received += len(header) + len(body)
        return body


def pisync_round_trip(server, events, device_level):
    """Bytes of one RecordSync request and its response."""
    sock = CountingSocket(socket.create_connection(server, timeout=5))
    request = cc.pb.Request(id=1)
    if device_level:
        request.record_sync.device_id = events[0]["device_id"]
    for event in events:
        request.record_sync.events.add(
            device_id="" if device_level else event["device_id"], timestamp=event["ms"],
            total_files_synced=event["total_files_synced"], total_errors=event["total_errors"],
            internet_speed=event["internet_speed"])
    sock.send_all(cc.frame(request.SerializeToString()))
    response = cc.pb.Response.FromString(sock.read_frame())
    sock.sock.close()
    if response.WhichOneof("result") != "record_sync":
        sys.exit(f"error: the server refused the request: {response}")
    return sock.sent, sock.received


class SeedHandler(http.server.BaseHTTPRequestHandler):
    """The seed's POST /api/sync-event: stores the event and answers 201 with it as JSON."""
    protocol_version = "HTTP/1.1"
    server_version = "Express"  # as the seed's stack announced itself; header sizes matter here
    sys_version = ""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = "success" if body["total_errors"] == 0 else ("partial" if body["total_files_synced"] else "failed")
        stored = {"id": 1, **body, "sync_status": status}
        payload = json.dumps({"message": "Sync event recorded", "data": stored}, separators=(",", ":")).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "keep-alive")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def http_round_trip():
    """Bytes of the seed's HTTP/JSON request and response for the example event, as curl sends it."""
    httpd = http.server.HTTPServer(("127.0.0.1", 0), SeedHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    body = json.dumps(EXAMPLE).encode()
    request = (f"POST /api/sync-event HTTP/1.1\r\nHost: 127.0.0.1:{httpd.server_port}\r\n"
               "User-Agent: curl/7.88.1\r\nAccept: */*\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    sock = socket.create_connection(("127.0.0.1", httpd.server_port), timeout=5)
    sock.sendall(request)
    raw = b""
    while b"\r\n\r\n" not in raw:
        raw += sock.recv(4096)
    head, _, rest = raw.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(rest) < length:
        rest += sock.recv(4096)
    sock.close()
    httpd.shutdown()
    return len(request), len(head) + 4 + len(rest)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", type=cc.parse_server, default=("127.0.0.1", 7878))
    ap.add_argument("--check", action="store_true", help="exit 1 unless issue 3's targets are met")
    args = ap.parse_args()
    cc.ensure_protobuf()
    with tempfile.TemporaryDirectory(prefix="pisync-wire-") as tmp:
        cc.load_protos(tmp)
    run = f"{int(time.time()) % 100000:05d}"
    single = dict(EXAMPLE, ms=EXAMPLE_MS)
    one = pisync_round_trip(args.server, [single], device_level=False)
    batch_events = [dict(EXAMPLE, device_id=f"pibook-b{run}", ms=EXAMPLE_MS + i * 60_000,
                         total_errors=i % 3, total_files_synced=12 - i % 5) for i in range(100)]
    hundred = pisync_round_trip(args.server, batch_events, device_level=True)
    seed = http_round_trip()

    rows = [("PiSync RecordSync, 1 event", one, 1), ("PiSync RecordSync, batch of 100, device at request level", hundred, 100),
            ("seed HTTP/JSON POST /api/sync-event, 1 event", seed, 1)]
    print("| exchange | client sends | server sends | total | per event |")
    print("|---|---|---|---|---|")
    for name, (sent, received), events in rows:
        print(f"| {name} | {sent} | {received} | {sent + received} | {(sent + received) / events:.1f} |")
    print(f"\nsingle event: PiSync is {(seed[0] + seed[1]) / sum(one):.1f}x smaller than HTTP/JSON")
    ok = sum(one) <= 48 and sum(hundred) / 100 <= 24
    if args.check and not ok:
        print("targets missed: single round trip <= 48 bytes, batch <= 24 bytes per event", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
