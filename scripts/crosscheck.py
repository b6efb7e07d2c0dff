#!/usr/bin/env python3
"""Black-box conformance check of a running PiSync server, built from proto/ alone.

Generates Python code from proto/pisync/v1/pisync.proto with protoc into a temporary directory,
talks to the server over TCP with google.protobuf and checks the contract of docs/protocol.md,
one PASS/FAIL line per check. Device ids get a random suffix, so the server may hold data.

    swift run pisync serve
    python3 scripts/crosscheck.py --server 127.0.0.1:7878
"""
import argparse, importlib, itertools, math, os, random, shutil, socket, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTO = "pisync/v1/pisync.proto"
RUN = "%08x" % random.getrandbits(32)
NOW = int(time.time() * 1000)
BASE = NOW - 3_600_000  # events are stamped an hour ago and later
YEAR_2000 = 946_684_800_000
SUCCESS, PARTIAL, FAILED = 1, 2, 3
NEXT_ID = itertools.count(1)
pb = None  # the generated module, set by load_protos()
ARGS = None  # parsed command line, set by main()
OPEN = []  # connections of the running check group
failures = 0


# ---------------------------------------------------------------- setup

def ensure_protobuf():
    """Imports google.protobuf, re-running under Debian's /usr/bin/python3 when it has it."""
    try:
        import google.protobuf  # noqa: F401
        return
    except ImportError:
        pass
    alt = "/usr/bin/python3"
    if (os.path.exists(alt) and os.path.realpath(alt) != os.path.realpath(sys.executable)
            and not os.environ.get("PISYNC_CROSSCHECK_REEXEC")):
        os.environ["PISYNC_CROSSCHECK_REEXEC"] = "1"
        print(f"note: no google.protobuf for {sys.executable}; using {alt}", file=sys.stderr)
        os.execv(alt, [alt, os.path.abspath(__file__)] + sys.argv[1:])
    die("google.protobuf is not installed (apt-get install python3-protobuf)")

def die(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)

def load_protos(outdir):
    global pb
    protoc = shutil.which("protoc")
    if not protoc:
        die("protoc not found (apt-get install protobuf-compiler)")
    done = subprocess.run([protoc, f"--python_out={outdir}", "-I", "proto", "proto/" + PROTO],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        die(f"protoc failed:\n{done.stderr}")
    for package in ("pisync", "pisync/v1"):  # regular packages, so no other "pisync" shadows them
        open(os.path.join(outdir, package, "__init__.py"), "w").close()
    sys.path.insert(0, outdir)
    pb = importlib.import_module("pisync.v1.pisync_pb2")


# ---------------------------------------------------------------- framing and connections

def encode_varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)

def decode_varint(buf):
    """Returns (value, bytes used), or None while buf holds only the start of a varint."""
    value = 0
    for i, byte in enumerate(buf[:10]):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, i + 1
    if len(buf) >= 10:
        raise ValueError("server sent a length varint longer than 10 bytes")
    return None

def frame(body):
    return encode_varint(len(body)) + body

class Closed(Exception):  # the server closed the connection
    pass

class Conn:
    def __init__(self):
        self.sock = socket.create_connection(ARGS.server, timeout=ARGS.timeout)
        self.buf = b""
        self.stash = []  # responses read while waiting for another one

    def send(self, req):
        self.sock.sendall(frame(req.SerializeToString()))

    def read_frame(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            head = decode_varint(self.buf)
            if head and len(self.buf) >= head[1] + head[0]:
                length, used = head
                body, self.buf = self.buf[used:used + length], self.buf[used + length:]
                return body
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no response within {timeout:.1f} s")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError(f"no response within {timeout:.1f} s") from None
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise Closed("server closed the connection")
            self.buf += chunk

    def wait(self, pred, timeout=None):
        """Returns the first response matching pred; keeps the others for later waits."""
        for i, resp in enumerate(self.stash):
            if pred(resp):
                return self.stash.pop(i)
        deadline = time.monotonic() + (ARGS.timeout if timeout is None else timeout)
        while True:
            resp = pb.Response.FromString(self.read_frame(deadline - time.monotonic()))
            if pred(resp):
                return resp
            self.stash.append(resp)

    def poll(self, pred, timeout):
        """Like wait, but returns None when nothing matching arrives in time."""
        try:
            return self.wait(pred, timeout)
        except TimeoutError:
            return None

    def call(self, name, msg):
        rid = next(NEXT_ID)
        self.send(request(rid, name, msg))
        return self.wait(lambda r: r.id == rid)

    def closes(self):
        """True when the server closes the connection, sending nothing more, within the timeout."""
        try:
            self.read_frame(ARGS.timeout)
        except Closed:
            return True
        except TimeoutError:
            pass
        return False

def connect():
    c = Conn()
    OPEN.append(c)
    return c


# ---------------------------------------------------------------- helpers

def request(rid, name, msg):
    return pb.Request(id=rid, **{name: msg})

def ev(ts, files=1, errors=0, speed=10.0, device="", status=0):
    return pb.SyncEvent(device_id=device, timestamp=ts, total_files_synced=files,
                        total_errors=errors, internet_speed=speed, sync_status=status)

def dev(name):
    return f"xc-{RUN}-{name}"

def record(c, events, device=""):
    return c.call("record_sync", pb.RecordSyncRequest(device_id=device, events=events))

def history(c, device, page=0, limit=0):
    return c.call("get_history", pb.GetHistoryRequest(device_id=device, page=page, limit=limit))

def failures_list(c, threshold=0, page=0, limit=0):
    return c.call("list_failures", pb.ListFailuresRequest(threshold=threshold, page=page, limit=limit))

def kind(resp):
    return resp.WhichOneof("result")

def show(msg, width=200):
    from google.protobuf import text_format
    text = text_format.MessageToString(msg, as_one_line=True) if msg is not None else "nothing"
    return text if len(text) <= width else text[:width] + "..."

def is_error(resp, code, field=None):
    return kind(resp) == "error" and resp.error.code == code and field in (None, resp.error.field)

def record_ok(resp, accepted, duplicates=0, rejected=0):
    r = resp.record_sync
    return kind(resp) == "record_sync" and (r.accepted, r.duplicates, len(r.rejected)) == (
        accepted, duplicates, rejected)

def must_record(c, events, device):
    """Records events the check needs as setup; a refusal aborts the check group."""
    r = record(c, events, device)
    if not record_ok(r, len(events)):
        raise AssertionError(f"setup record_sync for {device} refused: {show(r)}")

def ping_ok(c, name):
    r = c.call("ping", pb.PingRequest())
    check(name, kind(r) == "ping", show(r))

def check(name, ok, detail=""):
    global failures
    failures += 0 if ok else 1
    print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f": {detail}" if detail else ""), flush=True)


# ---------------------------------------------------------------- checks

def t_ping():
    r = connect().call("ping", pb.PingRequest())
    check("ping", kind(r) == "ping" and r.ping.version != "", show(r))

def t_record_roundtrip():
    c, d = connect(), dev("single")
    r = record(c, [ev(BASE, files=12, errors=0, speed=8.5, device=d, status=FAILED)])
    check("record one event", record_ok(r, 1), show(r))
    h = history(c, d)
    g = h.get_history
    e = g.events[0] if len(g.events) == 1 else pb.SyncEvent()
    ok = kind(h) == "get_history" and (g.total, g.page, g.limit) == (1, 1, 10) and (
        e.device_id, e.timestamp, e.total_files_synced, e.total_errors, e.internet_speed,
        e.sync_status) == (d, BASE, 12, 0, 8.5, SUCCESS)
    check("history round trip (page 1, limit 10 echoed; client's FAILED ignored, SUCCESS derived)",
          ok, show(h))

def t_batch_request_device():
    c, d = connect(), dev("batch")
    events = [ev(BASE, 5, 0, status=FAILED), ev(BASE + 1000, 5, 2, status=SUCCESS),
              ev(BASE + 2000, 0, 3, status=SUCCESS)]
    r = record(c, events, device=d)
    check("batch with request-level device_id and empty event device_ids", record_ok(r, 3), show(r))
    got = [(e.device_id, e.timestamp, e.sync_status) for e in history(c, d).get_history.events]
    want = [(d, BASE + 2000, FAILED), (d, BASE + 1000, PARTIAL), (d, BASE, SUCCESS)]
    check("derived FAILED/PARTIAL/SUCCESS; each event carries device_id", got == want, str(got))

def t_mismatch():
    c, d, other = connect(), dev("req"), dev("other")
    r = record(c, [ev(BASE), ev(BASE + 1, device=d), ev(BASE + 2, device=other)], device=d)
    rej = [(j.index, j.code, j.field) for j in r.record_sync.rejected]
    check("event naming another device rejected: index 2, code 3, field device_id",
          record_ok(r, 2, 0, 1) and rej == [(2, 3, "device_id")], show(r))
    r = history(c, other)
    check("mismatched event not stored for the other device", is_error(r, 5), show(r))

def t_invalid_fields():
    c, d = connect(), dev("inval")
    cases = [
        ("valid", ev(BASE, device=d), None),
        ("device_id with space and '!'", ev(BASE + 1, device="bad id!"), "device_id"),
        ("device_id empty, no request-level id", ev(BASE + 2), "device_id"),
        ("device_id of 129 characters", ev(BASE + 3, device="x" * 129), "device_id"),
        ("timestamp before 2000-01-01", ev(YEAR_2000 - 1, device=d), "timestamp"),
        ("timestamp 10 min in the future", ev(NOW + 600_000, device=d), "timestamp"),
        ("internet_speed negative", ev(BASE + 4, device=d, speed=-1.0), "internet_speed"),
        ("internet_speed NaN", ev(BASE + 5, device=d, speed=math.nan), "internet_speed"),
        ("internet_speed infinite", ev(BASE + 6, device=d, speed=math.inf), "internet_speed"),
        ("timestamp exactly 2000-01-01", ev(YEAR_2000, device=d), None),
        ("device_id of 128 characters", ev(BASE + 7, device=(dev("long") + "x" * 128)[:128]), None),
        ("internet_speed 0", ev(BASE + 8, device=d, speed=0.0), None),
    ]
    r = record(c, [e for _, e, _ in cases])
    valid = sum(1 for _, _, field in cases if field is None)
    check("mixed batch: valid events stored, invalid ones rejected",
          record_ok(r, valid, 0, len(cases) - valid), show(r))
    rej = {j.index: j for j in r.record_sync.rejected}
    for i, (name, _, field) in enumerate(cases):
        j = rej.get(i)
        if field is None:
            check(f"accepted: {name}", j is None, f"index {i}" + (f": {show(j)}" if j else ""))
        else:
            check(f"rejected: {name}", j is not None and (j.code, j.field) == (3, field) and j.message != "",
                  f"index {i}: {show(j)}")
    indexes = [j.index for j in r.record_sync.rejected]
    check("rejected events listed in index order", indexes == sorted(indexes), str(indexes))

def t_refused_requests():
    c, d = connect(), dev("allbad")
    r = record(c, [ev(YEAR_2000 - 1), ev(1000)], device=d)
    check("every event invalid -> error 3 field timestamp", is_error(r, 3, "timestamp"), show(r))
    r = record(c, [], device=d)
    check("no events -> error 3 field events", is_error(r, 3, "events"), show(r))
    r = record(c, [ev(BASE + i) for i in range(ARGS.max_batch + 1)], device=d)
    check(f"{ARGS.max_batch + 1} events, over the batch limit -> error 3 field events",
          is_error(r, 3, "events"), show(r))
    r = history(c, d)
    check("refused requests stored nothing (history NOT_FOUND)", is_error(r, 5), show(r))

def t_duplicates():
    c, d = connect(), dev("dup")
    r = record(c, [ev(BASE, files=1), ev(BASE + 1000, files=2), ev(BASE, files=99)], device=d)
    check("duplicate within a batch counted, not stored", record_ok(r, 2, 1), show(r))
    r = record(c, [ev(BASE + 1000, files=77, errors=5), ev(BASE + 2000, files=3)], device=d)
    check("duplicate across batches counted, not stored", record_ok(r, 1, 1), show(r))
    g = history(c, d).get_history
    got = [(e.timestamp - BASE, e.total_files_synced, e.sync_status) for e in g.events]
    check("first write wins", g.total == 3 and got == [(2000, 3, 1), (1000, 2, 1), (0, 1, 1)],
          f"total={g.total} (timestamp-base, files, status)={got}")

def t_paging():
    c, d = connect(), dev("page")
    stamps = [BASE + i * 1000 for i in range(25)]
    newer, older = stamps[12:], stamps[:12]
    random.shuffle(newer)
    random.shuffle(older)
    r1, r2 = record(c, [ev(t) for t in newer], device=d), record(c, [ev(t) for t in older], device=d)
    check("25 events recorded out of order", record_ok(r1, 13) and record_ok(r2, 12),
          f"{show(r1)} / {show(r2)}")
    want = sorted(stamps, reverse=True)
    pages = [history(c, d, p, 10).get_history for p in (1, 2, 3, 4)]
    got = [[e.timestamp for e in g.events] for g in pages]
    check("history page 1 holds the 10 newest, newest first", got[0] == want[:10]
          and (pages[0].total, pages[0].page, pages[0].limit) == (25, 1, 10), show(pages[0])[:120])
    check("pages 1-3 together are all 25 events newest first", got[0] + got[1] + got[2] == want,
          f"page sizes {[len(p) for p in got]}")
    check("page past the end is empty, not an error",
          got[3] == [] and (pages[3].total, pages[3].page) == (25, 4), show(pages[3]))
    r = history(c, d, 1, 101)
    check("history limit 101 -> error 3 field limit", is_error(r, 3, "limit"), show(r))
    g = history(c, d, 1, 100).get_history
    check("history limit 100 returns all 25", (len(g.events), g.limit) == (25, 100),
          f"{len(g.events)} events, limit {g.limit}")
    g = history(c, d, 0, 0).get_history
    check("history page 0 and limit 0 mean 1 and 10", (g.page, g.limit, len(g.events)) == (1, 10, 10),
          f"page={g.page} limit={g.limit} events={len(g.events)}")

def t_not_found():
    r = history(connect(), dev("ghost"))
    check("history of unknown device -> error 5 field device_id", is_error(r, 5, "device_id"), show(r))

def all_failures(c, threshold):
    devices, page = [], 1
    while True:
        r = failures_list(c, threshold, page, 100)
        if kind(r) != "list_failures":
            raise AssertionError(f"list_failures refused: {show(r)}")
        devices += r.list_failures.devices
        if len(r.list_failures.devices) < 100 or len(devices) >= r.list_failures.total or page >= 1000:
            return devices, r.list_failures
        page += 1

def t_list_failures():
    c, f1, f2, f3 = connect(), dev("fail3"), dev("fail5new"), dev("fail5old")
    must_record(c, [ev(BASE + 10_000, files=4)], f1)  # f1's newest event is a success, arriving
    must_record(c, [ev(BASE + i * 1000, files=0, errors=1) for i in range(3)], f1)  # before 3 failures
    must_record(c, [ev(BASE + 100_000 + i * 1000, files=0, errors=2) for i in range(5)], f2)
    must_record(c, [ev(BASE + 50_000 + i * 1000, files=0, errors=2) for i in range(5)], f3)
    listed, resp = all_failures(c, 2)
    check("list_failures threshold 2 echoes threshold and limit", (resp.threshold, resp.limit) == (2, 100)
          and resp.total >= 3, f"threshold={resp.threshold} limit={resp.limit} total={resp.total}")
    found = {d.device_id: d for d in listed}
    for name, device, want in [("3 failures then a newer success", f1, (3, 4, 0, BASE + 2000, BASE + 10_000)),
                               ("5 failures, never succeeded", f2, (5, 5, 5, BASE + 104_000, 0))]:
        got = found.get(device)
        fields = got is not None and (got.failed_syncs, got.total_syncs, got.consecutive_failures,
                          got.last_failure_timestamp, got.last_success_timestamp)
        check(f"listed over threshold 2: {name}", fields == want, show(got))
    order = [d.device_id for d in listed if d.device_id in (f1, f2, f3)]
    check("sorted by failed_syncs desc, then last_failure_timestamp desc", order == [f2, f3, f1],
          " ".join(o.rsplit("-", 1)[1] for o in order))
    keys = [(d.failed_syncs, d.last_failure_timestamp) for d in listed]
    check("whole listing in that order", all(a >= b for a, b in zip(keys, keys[1:])), f"{len(keys)} devices")
    listed, resp = all_failures(c, 0)
    ids = {d.device_id for d in listed}
    check("threshold 0 means 3: 3 failures not listed, 5 are", resp.threshold == 3 and f1 not in ids
          and f2 in ids, f"threshold={resp.threshold}")
    r = failures_list(c)
    g = r.list_failures
    check("list_failures defaults page 1, limit 10, threshold 3",
          kind(r) == "list_failures" and (g.page, g.limit, g.threshold) == (1, 10, 3), show(r)[:120])
    r = failures_list(c, 0, 1, 101)
    check("list_failures limit 101 -> error 3 field limit", is_error(r, 3, "limit"), show(r))

def t_subscribe():
    sub, rec, sid = connect(), connect(), next(NEXT_ID)
    sub.send(request(sid, "subscribe_failure_alerts", pb.SubscribeFailureAlertsRequest()))
    conf = sub.wait(lambda r: r.id == sid)
    s = conf.subscribe_failure_alerts
    check("subscription confirmed first, with buffer_size and alert_threshold", kind(conf)
          == "subscribe_failure_alerts" and s.buffer_size > 0 and s.alert_threshold > 0, show(conf))
    n, d = s.alert_threshold or 3, dev("alert")

    def alert_for(device):
        return lambda r: r.id == sid and kind(r) == "failure_alert" and r.failure_alert.device_id == device

    def fail_run(device, start):  # n failed syncs, one request each, on the other connection
        stamps = [start + i * 1000 for i in range(n)]
        for t in stamps:
            must_record(rec, [ev(t, files=0, errors=1)], device)
        return stamps

    stamps, t0 = fail_run(d, BASE), time.monotonic()
    a = sub.poll(alert_for(d), 1.0)
    check(f"alert within 1 s of {n} failures recorded on another connection", a is not None,
          f"{(time.monotonic() - t0) * 1000:.0f} ms")
    fa = a.failure_alert if a else pb.FailureAlert()
    check("alert fields", (fa.consecutive_failures, fa.first_failure_timestamp, fa.last_failure_timestamp)
          == (n, stamps[0], stamps[-1]), show(fa))
    ping_ok(sub, "subscribed connection still serves requests")
    must_record(rec, [ev(BASE + n * 1000, files=0, errors=1)], d)
    again = sub.poll(alert_for(d), 0.3)
    check("no second alert for the same streak (one more failure, 300 ms)", again is None, show(again))
    must_record(rec, [ev(BASE + (n + 1) * 1000, files=1, errors=1)], d)  # PARTIAL ends the streak
    rv = sub.poll(lambda r: r.id == sid and kind(r) == "recovered" and r.recovered.device_id == d, 1.0)
    fr = rv.recovered if rv else pb.DeviceRecovered()
    check("a partial sync after the alert sends recovered, next in the sequence",
          rv is not None and fr.sequence == fa.sequence + 1 and fr.recovered_timestamp == BASE + (n + 1) * 1000
          and fr.sync_status == pb.SYNC_STATUS_PARTIAL, show(rv))
    stamps = fail_run(d, BASE + (n + 2) * 1000)
    b = sub.poll(alert_for(d), 1.0)
    fb = b.failure_alert if b else pb.FailureAlert()
    check("new streak after a partial sync alerts again, with a higher sequence",
          b is not None and fb.sequence > fa.sequence and fb.first_failure_timestamp == stamps[0], show(b))
    cid = next(NEXT_ID)
    sub.send(request(cid, "cancel", pb.CancelRequest(subscription_id=sid)))
    end = sub.wait(lambda r: r.id == sid and kind(r) not in ("failure_alert", "recovered"))
    check("cancel ends the stream with error 1 on the subscription id", is_error(end, 1), show(end))
    r = sub.wait(lambda r: r.id == cid)
    check("cancel answered with CancelResponse on the cancel's id",
          kind(r) == "cancel" and r.cancel.subscription_id == sid, show(r))
    sub.stash = [r for r in sub.stash if r.id != sid]  # alerts that came before the end
    fail_run(dev("alert2"), BASE)
    late = sub.poll(lambda r: r.id == sid, 0.3)
    check("nothing on the subscription id after cancel (300 ms)", late is None, show(late))
    r = sub.call("cancel", pb.CancelRequest(subscription_id=(1 << 62) + random.getrandbits(32)))
    check("cancel of unknown subscription -> error 5 field subscription_id",
          is_error(r, 5, "subscription_id"), show(r))

def t_pipelining():
    c = connect()
    calls = {next(NEXT_ID): call for call in [
        ("ping", pb.PingRequest(), "ping"),
        ("record_sync", pb.RecordSyncRequest(device_id=dev("pipe"), events=[ev(BASE)]), "record_sync"),
        ("get_history", pb.GetHistoryRequest(device_id=dev("pipe-ghost")), "error"),
        ("list_failures", pb.ListFailuresRequest(), "list_failures"),
        ("ping", pb.PingRequest(), "ping"),
    ]}
    c.sock.sendall(b"".join(frame(request(rid, name, msg).SerializeToString())
                            for rid, (name, msg, _) in calls.items()))
    got = {rid: kind(c.wait(lambda r, rid=rid: r.id == rid)) for rid in calls}
    want = {rid: result for rid, (_, _, result) in calls.items()}
    check(f"pipelining: {len(calls)} requests sent at once, each answered on its id", got == want, str(got))

def t_unknown_call():
    c, rid = connect(), next(NEXT_ID)
    c.sock.sendall(frame(pb.Request(id=rid).SerializeToString() + b"\x9a\x06\x00"))  # field 99, empty
    r = c.wait(lambda r: r.id in (rid, 0))
    check("unknown call (field 99) -> error 12 with the request id", r.id == rid and is_error(r, 12), show(r))
    ping_ok(c, "connection open after unknown call")

def t_garbage():
    c = connect()
    c.sock.sendall(frame(b"\x12\x7f\x0a"))  # field 2 declared 127 bytes long, 1 present
    r = c.wait(lambda r: True)
    check("unparseable frame -> error 3 with id 0", r.id == 0 and is_error(r, 3), show(r))
    ping_ok(c, "connection open after unparseable frame")

def t_framing_limits():
    for what, data, code in [(f"declared length {ARGS.max_frame + 1}", encode_varint(ARGS.max_frame + 1), 8),
                             ("length varint over 10 bytes", b"\x80" * 11, 3)]:
        c = connect()
        c.sock.sendall(data)  # a length only; no body follows
        r = c.wait(lambda r: True)
        check(f"{what} -> error {code} with id 0", r.id == 0 and is_error(r, code), show(r))
        check(f"connection closed after {what}", c.closes())


# ---------------------------------------------------------------- main

def parse_server(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected host:port, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)

def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Exit status: "
                                 "0 every check passed, 1 a check failed, 2 could not run.")
    ap.add_argument("--server", type=parse_server, default="127.0.0.1:7878",
                    help="the PiSync server, host:port (default 127.0.0.1:7878)")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for a response (default 5)")
    ap.add_argument("--max-frame", type=int, default=1 << 20,
                    help="the server's max frame size in bytes (default 1048576)")
    ap.add_argument("--max-batch", type=int, default=1000,
                    help="the server's max events per RecordSync (default 1000)")
    ARGS = ap.parse_args()
    ensure_protobuf()
    with tempfile.TemporaryDirectory(prefix="pisync-crosscheck-") as tmp:
        load_protos(tmp)
    host, port = ARGS.server
    try:
        socket.create_connection(ARGS.server, timeout=ARGS.timeout).close()
    except OSError as e:
        die(f"cannot connect to a PiSync server at {host}:{port}: {e}\n"
            "start one with `swift run pisync serve`, or pass --server host:port")
    print(f"crosscheck of {host}:{port}, device ids xc-{RUN}-*", flush=True)
    for group in [f for name, f in globals().items() if name.startswith("t_")]:  # in file order
        try:
            group()
        except Exception as e:  # a broken group is one FAIL; the other groups still run
            check(f"{group.__name__[2:]} (aborted)", False, f"{type(e).__name__}: {e}")
        finally:
            for c in OPEN:
                c.sock.close()
            OPEN.clear()
    print(f"{'FAILED' if failures else 'OK'}: {failures} check(s) failed", flush=True)
    sys.exit(1 if failures else 0)

if __name__ == "__main__":
    main()
