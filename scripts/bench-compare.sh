#!/usr/bin/env bash
# Same-run comparison: PiSync, a varint-framed SwiftNIO echo and Redis, driven by one load
# generator (`pisync-bench load`) with the same connections, depth and request sizes, round
# after round, each server started fresh. Prints the median of the rounds per system and the
# ratios between them. See docs/performance.md for what the ratios mean.
#
#   scripts/bench-compare.sh                          # fsync interval, 8 conns x 16, 3 rounds
#   FSYNC=always scripts/bench-compare.sh             # Redis then runs appendfsync always
#   BATCH=100 DEPTH=4 SYSTEMS="echo pisync" scripts/bench-compare.sh
#   BATCH=100 DEPTH=4 PER_EVENT_DEVICES=1 SYSTEMS="echo pisync" scripts/bench-compare.sh
#   SYSTEMS="pisync pisync-auth pisync-tls pisync-tls-auth" scripts/bench-compare.sh  # what auth and TLS cost
#
# Settings (environment): FSYNC (always|interval|never), CONNS, DEPTH, BATCH,
# PER_EVENT_DEVICES (0|1), DURATION and WARMUP (seconds), ROUNDS, SYSTEMS (any of echo pisync
# redis pisync-auth pisync-tls pisync-tls-auth pisync-admin: PiSync with auth on, the load authenticating each
# connection with an operator token, and/or TLS with the test certificates of Tests/Fixtures/tls,
# or with the admin HTTP port on, so that its metrics are recorded), BIN (a directory holding pisync and pisync-bench; default: build release into
# .build/release), PORT (first of three ports), KEEP (1 keeps the scratch directory).
set -euo pipefail
cd "$(dirname "$0")/.."

FSYNC=${FSYNC:-interval}
CONNS=${CONNS:-8}
DEPTH=${DEPTH:-16}
BATCH=${BATCH:-1}
PER_EVENT_DEVICES=${PER_EVENT_DEVICES:-0}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-3}
SYSTEMS=${SYSTEMS:-"echo pisync redis"}
PORT=${PORT:-27878}

case "$FSYNC" in
  always) redis_fsync=always ;;
  interval) redis_fsync=everysec ;;
  never) redis_fsync=no ;;
  *) echo "FSYNC must be always, interval or never, not '$FSYNC'" >&2; exit 2 ;;
esac

if [[ -z "${BIN:-}" ]]; then
  swift build -c release --product pisync >&2
  swift build -c release --product pisync-bench >&2
  BIN=.build/release
fi
if [[ " $SYSTEMS " == *" redis "* ]] && ! command -v redis-server >/dev/null; then
  echo "redis-server not found (apt-get install redis-server); leaving Redis out" >&2
  SYSTEMS=${SYSTEMS//redis/}
fi

scratch=$(mktemp -d)
server=""
cleanup() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [[ "${KEEP:-0}" == 1 ]] || rm -rf "$scratch"
}
trap cleanup EXIT

wait_for_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on port $1; server log:" >&2
  cat "$scratch"/*.log >&2 || true
  exit 1
}

start() {  # system port data-dir
  case "$1" in
    echo)
      "$BIN/pisync-bench" echo-server --port "$2" >"$scratch/echo.log" 2>&1 & ;;
    pisync*)
      extra=()
      [[ "$1" == *auth* ]] && extra+=(--auth-secret-file "$scratch/secret")
      [[ "$1" == *tls* ]] && extra+=(--tls-cert "$tls_dir/server.pem" --tls-key "$tls_dir/server.key")
      [[ "$1" == *admin* ]] && extra+=(--admin-port 0)
      "$BIN/pisync" serve --port "$2" --data-dir "$3" --fsync "$FSYNC" --log-level warning ${extra[@]+"${extra[@]}"} \
        >"$scratch/$1.log" 2>&1 & ;;
    redis)
      redis-server --port "$2" --dir "$3" --save '' --appendonly yes --appendfsync "$redis_fsync" \
        --logfile "$scratch/redis.log" & ;;
  esac
  server=$!
  wait_for_port "$2"
}

tls_dir=Tests/Fixtures/tls
printf 'bench %s\n' "$(head -c 32 /dev/urandom | base64)" >"$scratch/secret"
chmod 600 "$scratch/secret"
"$BIN/pisync" token --operator bench --auth-secret-file "$scratch/secret" >"$scratch/operator.token"

load_flags=(--connections "$CONNS" --depth "$DEPTH" --batch "$BATCH" --seconds "$DURATION" --warmup "$WARMUP")
[[ "$PER_EVENT_DEVICES" == 1 ]] && load_flags+=(--per-event-devices)

echo "# $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# fsync=$FSYNC (redis appendfsync $redis_fsync) conns=$CONNS depth=$DEPTH batch=$BATCH per_event_devices=$PER_EVENT_DEVICES duration=${DURATION}s rounds=$ROUNDS"
results="$scratch/results"
: >"$results"
for round in $(seq 1 "$ROUNDS"); do
  offset=0
  for system in $SYSTEMS; do
    port=$((PORT + offset)); offset=$((offset + 1))
    data="$scratch/data-$system-$round"
    mkdir -p "$data"
    start "$system" "$port" "$data"
    flags=(--wire varint)
    [[ "$system" == redis ]] && flags=(--wire resp)
    [[ "$system" == pisync* ]] && flags+=(--check-acks)
    [[ "$system" == *auth* ]] && flags+=(--token-file "$scratch/operator.token")
    [[ "$system" == *tls* ]] && flags+=(--tls-ca "$tls_dir/ca.pem")
    line=$("$BIN/pisync-bench" load --port "$port" "${flags[@]}" "${load_flags[@]}")
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
    echo "round $round $system $line"
    echo "$system $line" >>"$results"
  done
done

python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    system, *pairs = line.split()
    values = dict(pair.split("=") for pair in pairs)
    rows.setdefault(system, []).append({k: float(v) for k, v in values.items()})
median = {s: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for s, runs in rows.items()}
print("\n| system | req/s | events/s | p50 µs | p99 µs | vs echo (req/s) | vs redis (req/s) | vs pisync (req/s) |")
print("|---|---|---|---|---|---|---|---|")
for system, m in median.items():
    ratio = lambda base: f"{m['rps'] / median[base]['rps']:.2f}" if base in median else "-"
    print(f"| {system} | {m['rps']:.0f} | {m['eps']:.0f} | {m['p50_us']:.1f} | {m['p99_us']:.1f} | {ratio('echo')} | {ratio('redis')} | {ratio('pisync')} |")
bad = sum(r.get("unexpected", 0) for s, runs in rows.items() if s.startswith("pisync") for r in runs)
if bad:
    print(f"\nFAILED: {bad:.0f} PiSync answers were not clean acknowledgements (errors, rejections or duplicates)")
    sys.exit(1)
PY
