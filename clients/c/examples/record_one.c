/* Records one sync; prints the server's answer or its error. See README.md. */
#include <stdio.h>
#include "pisync.h"

int main(int argc, char **argv)
{
    pisync_client_options options = {0};
    pisync_client *client;
    pisync_event event;
    pisync_record_result result;
    pisync_error err;
    char text[512];

    options.server = argc > 1 ? argv[1] : "127.0.0.1:7878";
    options.token = argc > 2 ? argv[2] : NULL; /* `pisync token --device pibook-001` */
    options.connect_timeout_ms = 2000;
    options.io_timeout_ms = 5000;
    if (pisync_client_new(&options, &client, &err) != PISYNC_OK) return 2;
    pisync_event_init(&event, "pibook-001", pisync_now_ms(), 12, 0, 8.5f);
    if (pisync_record(client, &event, &result, &err) == PISYNC_OK)
        printf("accepted %u, duplicates %u\n", result.accepted, result.duplicates);
    else
        fprintf(stderr, "%s\n", pisync_error_format(&err, text, sizeof text));
    pisync_record_result_free(&result);
    pisync_client_free(client);
    return err.status == PISYNC_OK ? 0 : 1;
}
