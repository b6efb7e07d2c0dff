#!/usr/bin/env bash
# Regenerates the checked-in Swift code from proto/ with Debian's protoc and a
# protoc-gen-swift built from swift-protobuf 1.39.0 (the version Package.swift pins).
#
#   scripts/generate-protos.sh           regenerate in place
#   scripts/generate-protos.sh --check   fail if the checked-in code differs from proto/
#
# PROTOC_GEN_SWIFT may name an existing plugin binary; otherwise it is built once into
# .build-protoc-gen-swift/ (about 70 s).
set -euo pipefail
cd "$(dirname "$0")/.."

version=1.39.0
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }

plugin=${PROTOC_GEN_SWIFT:-}
if [ -z "$plugin" ]; then
  src=.build-protoc-gen-swift/swift-protobuf
  plugin=$src/.build/release/protoc-gen-swift
  if [ ! -x "$plugin" ]; then
    rm -rf "$src"
    git clone -q --depth 1 --branch "$version" https://github.com/apple/swift-protobuf "$src"
    (cd "$src" && swift build -c release --product protoc-gen-swift >/dev/null)
  fi
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/PiSyncProtocol" "$out/PiSyncPersistence"
protoc --plugin=protoc-gen-swift="$plugin" -I proto \
  --swift_opt=Visibility=Public --swift_out="$out/PiSyncProtocol" proto/pisync/v1/pisync.proto
protoc --plugin=protoc-gen-swift="$plugin" -I proto \
  --swift_opt=Visibility=Internal --swift_out="$out/PiSyncPersistence" \
  proto/pisync/storage/v1/snapshot.proto proto/pisync/storage/v1/wal.proto \
  proto/pisync/storage/v1/archive.proto

declare -A targets=(
  ["$out/PiSyncProtocol/pisync/v1/pisync.pb.swift"]=Sources/PiSyncProtocol/Generated/pisync.pb.swift
  ["$out/PiSyncPersistence/pisync/storage/v1/snapshot.pb.swift"]=Sources/PiSyncPersistence/Generated/snapshot.pb.swift
  ["$out/PiSyncPersistence/pisync/storage/v1/wal.pb.swift"]=Sources/PiSyncPersistence/Generated/wal.pb.swift
  ["$out/PiSyncPersistence/pisync/storage/v1/archive.pb.swift"]=Sources/PiSyncPersistence/Generated/archive.pb.swift
)

if [ "${1:-}" = "--check" ]; then
  status=0
  for generated in "${!targets[@]}"; do
    if ! diff -u "${targets[$generated]}" "$generated"; then
      echo "drift: ${targets[$generated]} does not match proto/; run scripts/generate-protos.sh" >&2
      status=1
    fi
  done
  [ $status -eq 0 ] && echo "generated code matches proto/"
  exit $status
fi

for generated in "${!targets[@]}"; do
  mkdir -p "$(dirname "${targets[$generated]}")"
  cp "$generated" "${targets[$generated]}"
done
echo "regenerated: ${targets[*]}"
