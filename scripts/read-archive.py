#!/usr/bin/env python3
"""Reads PiSync archive files (DATA_DIR/archive/YYYY-MM-DD.pisync) with google.protobuf.

Each file: a 16-byte header (b"PISYNCAR", format version UInt32 LE = 1, 4 zero bytes), then
records (body length UInt32 LE, CRC-32 of the body UInt32 LE, body); each body decodes as a
pisync.v1.SyncEvent (see docs/operations.md, "Retention and archiving"). The Python code for
the message is generated from proto/ with protoc into a temporary directory.

    python3 scripts/read-archive.py pisync-data/archive/*.pisync [--device ID]   # needs python3-protobuf, protoc

Prints one JSON object per event (proto field names, every field). A record cut short at the
end of a file (a pass being written) ends that file; a damaged record is an error (exit 1).
"""
import argparse, importlib, json, os, shutil, struct, subprocess, sys, tempfile, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAGIC = b"PISYNCAR"
STATUS = {0: "SYNC_STATUS_UNSPECIFIED", 1: "SYNC_STATUS_SUCCESS", 2: "SYNC_STATUS_PARTIAL", 3: "SYNC_STATUS_FAILED"}


def die(message, code=2):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def ensure_protobuf():
    try:
        import google.protobuf  # noqa: F401
    except ImportError:
        die(f"google.protobuf is not installed for {sys.executable} "
            "(apt-get install python3-protobuf, then run it with /usr/bin/python3)")


def load_sync_event(outdir):
    protoc = shutil.which("protoc") or die("protoc not found (apt-get install protobuf-compiler)")
    done = subprocess.run([protoc, f"--python_out={outdir}", "-I", "proto", "proto/pisync/v1/pisync.proto"],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        die(f"protoc failed:\n{done.stderr}")
    for package in ("pisync", "pisync/v1"):
        open(os.path.join(outdir, package, "__init__.py"), "w").close()
    sys.path.insert(0, outdir)
    return importlib.import_module("pisync.v1.pisync_pb2").SyncEvent


def read_file(path, sync_event):
    """Yields the events of one archive file; raises ValueError naming the offset on damage."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 16:
        return  # being created
    if data[:8] != MAGIC:
        raise ValueError(f"{path} at offset 0: missing PISYNCAR header")
    version = struct.unpack_from("<I", data, 8)[0]
    if version != 1:
        raise ValueError(f"{path} at offset 8: format version {version} is not one this reader knows")
    offset = 16
    while offset < len(data):
        if len(data) - offset < 8:
            return  # cut short
        length, crc = struct.unpack_from("<II", data, offset)
        body = data[offset + 8:offset + 8 + length]
        if len(body) < length:
            return  # cut short
        if zlib.crc32(body) & 0xFFFFFFFF != crc:
            raise ValueError(f"{path} at offset {offset}: record checksum mismatch")
        event = sync_event()
        event.ParseFromString(body)
        yield event
        offset += 8 + length


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", help="archive files")
    parser.add_argument("--device", help="only this device's events")
    args = parser.parse_args()
    ensure_protobuf()
    with tempfile.TemporaryDirectory() as outdir:
        sync_event = load_sync_event(outdir)
        try:
            for path in args.files:
                for event in read_file(path, sync_event):
                    if args.device and event.device_id != args.device:
                        continue
                    print(json.dumps({
                        "device_id": event.device_id, "timestamp": event.timestamp,
                        "total_files_synced": event.total_files_synced, "total_errors": event.total_errors,
                        "internet_speed": event.internet_speed, "sync_status": STATUS.get(event.sync_status, str(event.sync_status)),
                    }, sort_keys=True))
        except (OSError, ValueError) as error:
            die(str(error), 1)


if __name__ == "__main__":
    main()
