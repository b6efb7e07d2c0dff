/*
 * pisync-device - report syncs to a PiSync server from a device, with an offline spool.
 *
 *   pisync-device send    --device ID --files N --errors N --speed MBPS [--timestamp MS]
 *                         [--spool PATH] [--spool-max N]
 *   pisync-device flush   --spool PATH [--spool-max N]
 *   pisync-device history --device ID [--page N] [--limit N]
 *   pisync-device ping
 *   pisync-device status  --spool PATH
 *
 * Common options: --server HOST:PORT (default $PISYNC_SERVER, else 127.0.0.1:7878),
 * --timeout MS (connect and response timeout, default 5000), --retries N (extra attempts
 * with exponential backoff on connection failures and UNAVAILABLE, default 0),
 * --token-file PATH (default $PISYNC_TOKEN_FILE: the token sent in Authenticate),
 * --tls, --tls-ca PATH, --tls-server-name NAME, --tls-cert PATH, --tls-key PATH.
 *
 * Exit codes (see usage() and README.md): 0 ok, 1 the server refused, 2 usage,
 * 3 server unreachable (with --spool: the event was spooled), 4 local I/O error.
 *
 * This file holds usage() and main(), which picks the command; pisync_device.h lists the
 * files that hold the rest.
 */
#include <stdio.h>
#include <string.h>

#include "pisync_device.h"

static void usage(FILE *out)
{
    fputs("usage: pisync-device COMMAND [options]\n"
          "\n"
          "commands:\n"
          "  send     --device ID --files N --errors N --speed MBPS [--timestamp MS]\n"
          "           [--spool PATH] [--spool-max N]\n"
          "           record one sync; timestamp defaults to now (Unix ms). With --spool,\n"
          "           an event that cannot be delivered now is appended to the spool.\n"
          "  flush    --spool PATH [--spool-max N]\n"
          "           send the spooled events in batches; delete them once answered\n"
          "  history  --device ID [--page N] [--limit N]\n"
          "           print a device's events, newest first\n"
          "  ping     check that the server answers\n"
          "  status   --spool PATH\n"
          "           print the spool's pending events and counters\n"
          "  archive  --file PATH [--device ID]\n"
          "           print the events of a server archive file (DATA_DIR/archive/DAY.pisync)\n"
          "\n"
          "common options:\n"
          "  --server HOST:PORT  server address (default $PISYNC_SERVER, else 127.0.0.1:7878)\n"
          "  --timeout MS        connect and response timeout (default 5000)\n"
          "  --retries N         extra attempts with backoff when unreachable (default 0)\n"
          "  --token-file PATH   token to authenticate with, from `pisync token --device ID`\n"
          "                      (default $PISYNC_TOKEN_FILE); needed when the server has\n"
          "                      auth on\n"
          "  --tls               connect with TLS (default $PISYNC_TLS=true), verifying the\n"
          "                      server's certificate against the system's CAs (needs a build\n"
          "                      with make TLS=1)\n"
          "  --tls-ca PATH       ... against the CA certificates in PATH instead; implies\n"
          "                      --tls (default $PISYNC_TLS_CA)\n"
          "  --tls-server-name NAME  the name the certificate must carry (default: the host)\n"
          "  --tls-cert PATH     client certificate for mutual TLS; implies --tls (default\n"
          "                      $PISYNC_TLS_CERT)\n"
          "  --tls-key PATH      its private key (default $PISYNC_TLS_KEY, else in the\n"
          "                      --tls-cert file)\n"
          "\n"
          "exit codes:\n"
          "  0  ok\n"
          "  1  the server refused the request or rejected the event (code, field and\n"
          "     message are printed); retrying unchanged fails again. A refused token\n"
          "     (UNAUTHENTICATED) or one for another device (PERMISSION_DENIED) is no\n"
          "     verdict on the event: send --spool keeps it in the spool. So is a TLS\n"
          "     failure (the certificate does not verify, the server does not speak TLS)\n"
          "  2  usage error\n"
          "  3  server unreachable or unavailable: nothing was recorded; try again later.\n"
          "     send --spool: the event is safe in the spool. flush: events remain spooled\n"
          "  4  local I/O error (the spool could not be opened, read or written)\n",
          out);
}

int main(int argc, char **argv)
{
    arguments args;
    int rc;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                      strcmp(argv[1], "help") == 0)) {
        usage(stdout);
        return EXIT_OK;
    }
    if ((rc = parse_arguments(argc, argv, &args)) != EXIT_OK)
        return rc;
    if (strcmp(args.command, "send") == 0)
        return command_send(&args);
    if (strcmp(args.command, "flush") == 0)
        return command_flush(&args);
    if (strcmp(args.command, "history") == 0)
        return command_history(&args);
    if (strcmp(args.command, "ping") == 0)
        return command_ping(&args);
    if (strcmp(args.command, "status") == 0)
        return command_status(&args);
    if (strcmp(args.command, "archive") == 0)
        return command_archive(&args);
    return usage_error("unknown command '%s'", args.command);
}
