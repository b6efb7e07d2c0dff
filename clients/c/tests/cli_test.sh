#!/bin/sh
# cli_test.sh - pisync-device end to end: its exit codes and output.
#
#   PISYNC_DEVICE_BIN=build/san/pisync-device [PISYNC_SERVER_BIN=/path/to/pisync] sh tests/cli_test.sh
#
# The offline part always runs. The part against a real server needs PISYNC_SERVER_BIN;
# without it that part is skipped, unless CI=true, where that is a failure.
set -u

BIN=${PISYNC_DEVICE_BIN:?set PISYNC_DEVICE_BIN to the pisync-device binary}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pisync-cli-test-XXXXXX")
SERVER_PIDS=
passed=0
failed=0

cleanup() {
    for pid in $SERVER_PIDS; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# start_server NAME [SERVE OPTIONS...]: starts the server in $WORK/NAME and sets ADDRESS
# (empty, with a failure counted, when it does not start).
start_server() {
    dir=$WORK/$1
    shift
    mkdir "$dir"
    (cd "$dir" && exec "$PISYNC_SERVER_BIN" serve --host 127.0.0.1 --port 0 \
        --data-dir "$dir" "$@" >"$dir/log" 2>&1) &
    SERVER_PIDS="$SERVER_PIDS $!"
    ADDRESS=
    tries=0
    while [ -z "$ADDRESS" ] && [ $tries -lt 200 ]; do
        ADDRESS=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$dir/log" | head -n 1)
        [ -z "$ADDRESS" ] && sleep 0.1
        tries=$((tries + 1))
    done
    if [ -z "$ADDRESS" ]; then
        failed=$((failed + 1))
        echo "FAIL cli: the server did not start"
        cat "$dir/log"
    fi
}

# pass DESCRIPTION, fail MESSAGE: count and print a check's result; fail also shows the
# last command's output.
pass() {
    passed=$((passed + 1))
    echo "PASS cli: $1"
}
fail() {
    failed=$((failed + 1))
    echo "FAIL cli: $1"
    sed 's/^/    /' "$WORK/out" "$WORK/err"
}

# expect CODE DESCRIPTION COMMAND...: runs the command, checks its exit code.
# Its output is left in $WORK/out and $WORK/err for follow-up checks.
expect() {
    code=$1
    what=$2
    shift 2
    "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    if [ "$rc" -eq "$code" ]; then
        pass "$what"
    else
        fail "$what: exit $rc, expected $code"
    fi
}

# output_has TEXT DESCRIPTION: checks the last command's stdout+stderr.
output_has() {
    if grep -q -- "$1" "$WORK/out" "$WORK/err"; then
        pass "$2"
    else
        fail "$2: no '$1' in the output"
    fi
}

NOW_MS=$(($(date +%s) * 1000))
T1=$((NOW_MS - 3600000))
T2=$((T1 + 1000))
T3=$((T1 + 2000))

# A port where nothing listens (tcpmux, never served on test machines).
NOWHERE=127.0.0.1:1
SPOOL=$WORK/events.spool

# ---- usage (2) ----
expect 2 "no command" "$BIN"
expect 0 "--help" "$BIN" --help
output_has "exit codes" "--help lists the exit codes"
expect 2 "unknown command" "$BIN" frobnicate
expect 2 "send without --device" "$BIN" send --files 1 --errors 0 --speed 1
expect 2 "bad device id" "$BIN" send --device 'no spaces' --files 1 --errors 0 --speed 1
expect 2 "negative speed" "$BIN" send --device d1 --files 1 --errors 0 --speed -1
expect 2 "files not a number" "$BIN" send --device d1 --files x --errors 0 --speed 1
expect 2 "bad server address" "$BIN" ping --server nohostport
expect 2 "unknown option" "$BIN" ping --colour

# ---- offline (3) and the spool ----
expect 3 "send while unreachable, no spool" \
    "$BIN" send --server $NOWHERE --device cli-dev --files 1 --errors 0 --speed 1 --timestamp $T1
expect 3 "send while unreachable spools the event" \
    "$BIN" send --server $NOWHERE --device cli-dev --files 1 --errors 0 --speed 1 \
    --timestamp $T1 --spool "$SPOOL"
output_has "spooled" "send --spool says it spooled"
expect 3 "second spooled event, with retries" \
    "$BIN" send --server $NOWHERE --retries 2 --device cli-dev --files 0 --errors 2 --speed 0.5 \
    --timestamp $T2 --spool="$SPOOL"
expect 0 "status" "$BIN" status --spool "$SPOOL"
output_has "pending 2" "status shows 2 pending"
expect 3 "flush while unreachable keeps the events" "$BIN" flush --server $NOWHERE --spool "$SPOOL"
expect 0 "status after failed flush" "$BIN" status --spool "$SPOOL"
output_has "pending 2" "both events still spooled"
expect 0 "flush of an empty spool needs no server" \
    "$BIN" flush --server $NOWHERE --spool "$WORK/empty.spool"
expect 4 "unwritable spool" \
    "$BIN" send --server $NOWHERE --device cli-dev --files 1 --errors 0 --speed 1 \
    --spool "$WORK/no/such/dir/spool"
printf 'not a spool\n' >"$WORK/foreign"
expect 4 "a file that is not a spool" "$BIN" status --spool "$WORK/foreign"

# ---- token files (checked before anything is sent) ----
expect 2 "a token file that does not exist" "$BIN" ping --server $NOWHERE --token-file "$WORK/none"
output_has "cannot read the token file" "the missing token file is named"
printf '  \n' >"$WORK/empty.token"
expect 2 "an empty token file" "$BIN" ping --server $NOWHERE --token-file "$WORK/empty.token"
output_has "is empty" "the empty token file is reported"
printf 'two words\n' >"$WORK/odd.token"
expect 2 "a token file holding something else" \
    env PISYNC_TOKEN_FILE="$WORK/odd.token" "$BIN" ping --server $NOWHERE
output_has "not a pisync token" "PISYNC_TOKEN_FILE is read too"

# ---- TLS options (PISYNC_TEST_CERTS is set by make test TLS=1) ----
if [ -n "${PISYNC_TEST_CERTS:-}" ]; then
    expect 2 "a CA file that does not exist" \
        "$BIN" ping --server $NOWHERE --tls-ca "$WORK/none.pem"
    output_has "cannot load the CA file" "the missing CA file is named"
else
    expect 2 "TLS from a build without it" "$BIN" ping --server $NOWHERE --tls
    output_has "make TLS=1" "the build without TLS says how to get it"
fi
expect 2 "--tls-key without --tls-cert" "$BIN" ping --server $NOWHERE --tls-key "$WORK/k.pem"
expect 2 "--tls takes no value" "$BIN" ping --server $NOWHERE --tls=yes

# ---- against a real server ----
if [ -z "${PISYNC_SERVER_BIN:-}" ]; then
    if [ "${CI:-}" = "true" ]; then
        failed=$((failed + 1))
        echo "FAIL cli: PISYNC_SERVER_BIN is not set, and CI=true requires the server tests"
    else
        echo "SKIP cli: server tests (PISYNC_SERVER_BIN is not set)"
    fi
else
    start_server server
    if [ -n "$ADDRESS" ]; then
        export PISYNC_SERVER="$ADDRESS"
        expect 0 "ping" "$BIN" ping
        output_has "up" "ping prints the server's version and uptime"
        expect 0 "send" "$BIN" send --device cli-dev --files 12 --errors 0 --speed 8.5 --timestamp $T3
        output_has "accepted" "send reports accepted"
        expect 0 "send the same event again" \
            "$BIN" send --device cli-dev --files 12 --errors 0 --speed 8.5 --timestamp $T3 \
            --spool "$SPOOL"
        output_has "duplicate" "a resend is a duplicate"
        expect 1 "a timestamp before 2000 is rejected" \
            "$BIN" send --device cli-dev --files 1 --errors 0 --speed 1 --timestamp 946684799999 \
            --spool "$SPOOL"
        output_has "INVALID_ARGUMENT (3) \[timestamp\]" "the rejection shows code and field"
        expect 0 "flush" "$BIN" flush --spool "$SPOOL"
        output_has "2 accepted" "flush sent the 2 spooled events"
        output_has "0 pending" "flush emptied the spool"
        expect 0 "flush again is a no-op" "$BIN" flush --spool "$SPOOL"
        output_has "flushed 0 batches" "nothing left to send"
        expect 0 "history" "$BIN" history --device cli-dev --limit 5
        output_has "3 events" "history holds the 3 events exactly once"
        output_has "partial\|failed" "history shows derived statuses"
        expect 1 "history --limit 101" "$BIN" history --device cli-dev --limit 101
        output_has "INVALID_ARGUMENT (3) \[limit\]" "the limit error shows code and field"
        expect 1 "history of an unknown device" "$BIN" history --device cli-nobody
        output_has "NOT_FOUND (5) \[device_id\]" "not found shows code and field"
        if [ -n "${PISYNC_TEST_CERTS:-}" ]; then
            expect 1 "TLS to a plain server" \
                "$BIN" send --tls-ca "$PISYNC_TEST_CERTS/ca.pem" --device cli-dev --files 1 \
                --errors 0 --speed 1 --spool "$WORK/tls.spool"
            output_has "is the server serving TLS" "the TLS failure is explained"
            output_has "event spooled" "the event is kept for a working setup"
        fi
    fi

    # ---- a server with auth on ----
    mkdir "$WORK/auth"
    (umask 077 && printf 'k1 cli-test-secret-0123456789abcdef0123456789abcdef\n' \
        >"$WORK/auth/secret")
    "$PISYNC_SERVER_BIN" token --device cli-auth-dev --auth-secret-file "$WORK/auth/secret" \
        >"$WORK/auth/device.token"
    # A broken MAC: one character in its middle changed (all its 6 bits count there).
    awk '{ c = substr($0, length - 9, 1); r = (c == "A") ? "g" : "A"
           print substr($0, 1, length - 10) r substr($0, length - 8) }' \
        "$WORK/auth/device.token" >"$WORK/auth/bad.token"
    AUTH_SPOOL=$WORK/auth/events.spool
    start_server auth-server --auth-secret-file "$WORK/auth/secret"
    if [ -n "$ADDRESS" ]; then
        export PISYNC_SERVER="$ADDRESS"
        expect 1 "ping without a token" "$BIN" ping
        output_has "auth on: give --token-file" "the missing token is explained"
        expect 0 "ping with --token-file" "$BIN" ping --token-file "$WORK/auth/device.token"
        output_has "authenticated as device cli-auth-dev" "ping names the token's device"
        expect 0 "send with PISYNC_TOKEN_FILE" env PISYNC_TOKEN_FILE="$WORK/auth/device.token" \
            "$BIN" send --device cli-auth-dev --files 1 --errors 0 --speed 1 --timestamp $T1
        output_has "accepted" "the authenticated send is accepted"
        expect 1 "send for another device" "$BIN" send --token-file "$WORK/auth/device.token" \
            --device cli-other --files 1 --errors 0 --speed 1 --timestamp $T1
        output_has "PERMISSION_DENIED (7) \[device_id\]" "the other device is denied"
        expect 1 "send with a refused token spools the event" "$BIN" send \
            --token-file "$WORK/auth/bad.token" --retries 2 --device cli-auth-dev --files 2 \
            --errors 0 --speed 1 --timestamp $T2 --spool "$AUTH_SPOOL"
        output_has "UNAUTHENTICATED (16) \[token\]" "the refusal shows code and field"
        output_has "event spooled" "the event is kept for a good token"
        expect 0 "flush with the good token" \
            "$BIN" flush --token-file "$WORK/auth/device.token" --spool "$AUTH_SPOOL"
        output_has "1 accepted" "the spooled event is delivered"
    fi

    # ---- a server with TLS and client certificates (make test TLS=1) ----
    if [ -n "${PISYNC_TEST_CERTS:-}" ]; then
        C=$PISYNC_TEST_CERTS
        start_server tls-server --tls-cert "$C/server.pem" --tls-key "$C/server.key" \
            --tls-client-ca "$C/ca.pem"
        if [ -n "$ADDRESS" ]; then
            export PISYNC_SERVER="$ADDRESS"
            expect 0 "send over mutual TLS" "$BIN" send --tls-ca "$C/ca.pem" \
                --tls-cert "$C/client.pem" --tls-key "$C/client.key" --device c-tls-device \
                --files 1 --errors 0 --speed 1 --timestamp $T1
            output_has "accepted" "the certificate's device records its event"
            expect 0 "ping by name, TLS from PISYNC_TLS_*" env PISYNC_TLS_CA="$C/ca.pem" \
                PISYNC_TLS_CERT="$C/client.pem" PISYNC_TLS_KEY="$C/client.key" \
                "$BIN" ping --server "localhost:${ADDRESS##*:}"
            expect 1 "TLS without a certificate or a token" "$BIN" ping --tls-ca "$C/ca.pem"
            output_has "auth on: give --token-file" "the missing identity is explained"
            expect 1 "a CA that did not sign the server's certificate" \
                "$BIN" ping --tls-ca "$C/other-ca.pem"
            output_has "does not verify" "the verification failure is explained"
        fi
    fi
fi

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
