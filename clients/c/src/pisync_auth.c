/*
 * pisync_auth.c - the client's token: keeping it, and presenting it in an Authenticate
 * request as the first request of every connection.
 *
 * Authenticate is sent and answered before anything else goes out on a new connection, so
 * a refused token fails the connect itself, with the server's error (code 16
 * UNAUTHENTICATED, field "token"), and no other request was sent under it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pisync_internal.h"

/* Far above a real token (about 100 characters); a file read by mistake is refused. */
#define MAX_TOKEN_LENGTH 4096

/* Overwrites the token before it goes back to the allocator. The volatile pointer keeps
   the compiler from dropping stores to memory that is freed next. */
static void wipe(char *text)
{
    volatile char *p = text;

    while (*p != '\0')
        *p++ = '\0';
}

void pisync_forget_token(pisync_client *c)
{
    if (c->token == NULL)
        return;
    wipe(c->token);
    free(c->token);
    c->token = NULL;
}

pisync_status pisync_set_token(pisync_client *c, const char *token, pisync_error *err)
{
    size_t len;
    size_t i;

    pisync_forget_token(c);
    if (token == NULL || token[0] == '\0')
        return pisync_ok(err);
    len = strlen(token);
    if (len > MAX_TOKEN_LENGTH)
        return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0,
                           "the token is %zu bytes long; a token is at most %d", len,
                           MAX_TOKEN_LENGTH);
    /* Tokens are printable ASCII (pisync1.KEY_ID.ROLE.NAME.MAC). Whitespace inside one is
       a file that holds something else; it is not echoed, as it may be a secret. */
    for (i = 0; i < len; i++) {
        if ((unsigned char)token[i] <= ' ' || (unsigned char)token[i] >= 0x7f)
            return pisync_fail(err, PISYNC_ERR_ARGUMENT, 0,
                               "the token has a space, control or non-ASCII character at "
                               "position %zu: it is not a pisync token", i);
    }
    c->token = malloc(len + 1);
    if (c->token == NULL)
        return pisync_fail(err, PISYNC_ERR_NOMEM, ENOMEM, "out of memory");
    memcpy(c->token, token, len + 1);
    return pisync_ok(err);
}

static void remember_answer(pisync_client *c, const Pisync__V1__AuthenticateResponse *answer)
{
    memset(&c->auth, 0, sizeof c->auth);
    c->auth.authenticated = 1;
    c->auth.auth_required = answer->auth_required != 0;
    pisync_copy_string(c->auth.role, sizeof c->auth.role, answer->role);
    pisync_copy_string(c->auth.name, sizeof c->auth.name, answer->name);
}

pisync_status pisync_authenticate(pisync_client *c, pisync_error *err)
{
    Pisync__V1__AuthenticateRequest authenticate = PISYNC__V1__AUTHENTICATE_REQUEST__INIT;
    Pisync__V1__Request request = PISYNC__V1__REQUEST__INIT;
    Pisync__V1__Response *response = NULL;
    pisync_error failure;
    uint64_t id;
    pisync_status rc;

    memset(&c->auth, 0, sizeof c->auth);
    if (c->token == NULL)
        return pisync_ok(err);
    authenticate.token = c->token;
    request.call_case = PISYNC__V1__REQUEST__CALL_AUTHENTICATE;
    request.authenticate = &authenticate;
    rc = pisync_send_request_now(c, &request, &id, &failure);
    if (rc == PISYNC_OK)
        rc = pisync_wait_response(c, id, PISYNC__V1__RESPONSE__RESULT_AUTHENTICATE, &response,
                                  &failure);
    if (rc != PISYNC_OK) {
        /* A refused token: the server closes the connection soon anyway, and nothing else
           may be sent on it. */
        pisync_connection_failed(c, &failure);
        if (err != NULL)
            *err = failure;
        return rc;
    }
    remember_answer(c, response->authenticate);
    pisync__v1__response__free_unpacked(response, NULL);
    return pisync_ok(err);
}

void pisync_get_auth_info(const pisync_client *c, pisync_auth_info *info)
{
    if (c->fd >= 0)
        *info = c->auth;
    else
        memset(info, 0, sizeof *info);
}
