#!/usr/bin/env bash
# Builds a libFuzzer target and runs it for a bounded time; fails on any crash (issue 8).
#
#   scripts/fuzz.sh swift [SECONDS]   the server's frame decoding and request dispatch (Fuzz/)
#   scripts/fuzz.sh c [SECONDS]       the C client: response handling, then spool replay
#                                     (clients/c/fuzz/), SECONDS each
#
# SECONDS defaults to 60. Each run first replays the committed crash inputs (Fuzz/Regressions/
# and clients/c/fuzz/regressions/), then fuzzes from seeds generated afresh from the golden
# vectors (clients/testdata/golden/) plus the corpus kept from earlier runs on this machine
# (FUZZ_CORPUS_DIR, default .build/fuzz-corpus/; never committed). A crash leaves its input in
# .build/fuzz-artifacts/ and fails the script: minimize it, fix the bug, add a regression test
# and copy the input into the regressions folder.
#
# FUZZ_CONFIG=release builds the Swift target optimized: ten times the inputs per second,
# without NIO's debug-only assertions (the default, debug, has them). FUZZ_ARGS adds libFuzzer
# flags (say, -jobs=2 or -dict=...). libFuzzer's stats are printed at the end:
# `stat::number_of_executed_units` is the number of inputs run.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:-}
seconds=${2:-60}
root=$PWD
corpus_root=${FUZZ_CORPUS_DIR:-$root/.build/fuzz-corpus}
artifacts=$root/.build/fuzz-artifacts
golden=$root/clients/testdata/golden
mkdir -p "$artifacts"

# Runs libFuzzer binary $1 on corpus $2 (seeds in $3) for $seconds, after the inputs in $4;
# its output goes to .build/fuzz-artifacts/NAME.log, and all but the progress lines to stdout.
run_fuzzer() {
  local binary=$1 corpus=$2 seeds=$3 regressions=$4
  local name status=0
  name=$(basename "$binary")
  mkdir -p "$corpus"
  if compgen -G "$regressions/*" >/dev/null; then
    echo "--- $name: replaying $(ls "$regressions" | wc -l) regression inputs"
    "$binary" -runs=1 "$regressions"/* >"$artifacts/$name-regressions.log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
      cat "$artifacts/$name-regressions.log"
      echo "FAILED: $name crashes on a regression input" >&2
      exit 1
    fi
  fi
  echo "--- $name: fuzzing for ${seconds} s"
  # -timeout: an input that takes 10 s is a hang. -max_len: a connection's or a spool's worth.
  # shellcheck disable=SC2086
  "$binary" -max_total_time="$seconds" -timeout=10 -max_len=4096 -rss_limit_mb=3072 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" ${FUZZ_ARGS:-} "$corpus" "$seeds" \
    >"$artifacts/$name.log" 2>&1 || status=$?
  grep -v -e '^#[0-9]' -e '^"' -e '^###### ' -e '^INFO: ' "$artifacts/$name.log" || true
  if [ "$status" -ne 0 ]; then
    echo "FAILED: $name exited $status; the input is in $artifacts/" >&2
    exit 1
  fi
}

case "$target" in
  swift)
    # swiftc honours only its last -sanitize= flag, and `--sanitize=fuzzer --sanitize=address`
    # passes two, in an order that changes from one invocation to the next: the build gets
    # either coverage or ASan, never both (and rebuilds everything when the order flips). So
    # SwiftPM is told about the fuzzer (it links libFuzzer's main) and every Swift module gets
    # one -sanitize=fuzzer,address after it; C modules get ASan through -Xcc. Every module is
    # instrumented, NIO, swift-protobuf and BoringSSL included.
    config=${FUZZ_CONFIG:-debug}
    (cd Fuzz && swift build -c "$config" --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address)
    seeds=$(mktemp -d)
    trap 'rm -rf "$seeds"' EXIT
    PISYNC_FUZZ_WRITE_SEEDS=$seeds PISYNC_FUZZ_GOLDEN=$golden "Fuzz/.build/$config/ServerFuzzer"
    # A small quarantine: the Swift code is memory-safe, and the default 256 MB one halves the
    # speed and holds RSS at 600 MB. No Swift backtrace on a crash: its stack walk trips ASan,
    # whose report then hides the failed precondition's; libFuzzer prints the stack anyway.
    ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16} SWIFT_BACKTRACE=enable=no \
      run_fuzzer "$root/Fuzz/.build/$config/ServerFuzzer" "$corpus_root/swift" "$seeds" "$root/Fuzz/Regressions"
    ;;
  c)
    make -C clients/c fuzz
    for name in response spool; do
      binary=$root/clients/c/build/fuzz/fuzz-$name
      seeds=$(mktemp -d)
      PISYNC_FUZZ_WRITE_SEEDS=$seeds PISYNC_FUZZ_GOLDEN=$golden "$binary"
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_fuzzer "$binary" "$corpus_root/c-$name" "$seeds" "$root/clients/c/fuzz/regressions/$name"
      rm -rf "$seeds"
    done
    ;;
  *)
    echo "usage: scripts/fuzz.sh swift|c [SECONDS]" >&2
    exit 2
    ;;
esac
echo "no crash"
