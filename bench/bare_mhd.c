/*
 * bare_mhd: the ceiling of the HTTP layer for bench/run.sh.
 *
 * A minimal libmicrohttpd server that answers every GET with one fixed body of a given
 * size and the exposition Content-Type, so that wrk can measure what libmicrohttpd alone
 * does on this machine. It does no work per request beyond queueing a shared response.
 *
 * Usage: bare_mhd PORT BODY_BYTES [THREAD_POOL_SIZE]
 * Listens on 127.0.0.1:PORT until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

static struct MHD_Response *fixed_response;
static volatile sig_atomic_t stop_requested;

static void on_signal(int signo) {
    (void)signo;
    stop_requested = 1;
}

static MHD_Result_t answer(void *cls, struct MHD_Connection *connection, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **req_cls) {
    static int headers_seen;
    (void)cls; (void)url; (void)version; (void)upload_data; (void)upload_data_size;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return MHD_NO;
    /* Queueing on the first call (headers only) makes libmicrohttpd 0.9.75 close the
       connection after the reply; answering on the second call keeps it alive. */
    if (*req_cls != &headers_seen) {
        *req_cls = &headers_seen;
        return MHD_YES;
    }
    return MHD_queue_response(connection, MHD_HTTP_OK, fixed_response);
}

/* A body that looks like exposition text (lines of "# ..."), exactly `size` bytes long. */
static char *make_body(size_t size) {
    static const char line[] = "# bare_mhd fixed body of the same size as a real vcsa_exporter scrape\n";
    char *body = malloc(size ? size : 1);
    if (body == NULL) return NULL;
    for (size_t i = 0; i < size; i++) body[i] = line[i % (sizeof line - 1)];
    if (size > 0) body[size - 1] = '\n';
    return body;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s PORT BODY_BYTES [THREAD_POOL_SIZE]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    long size = atol(argv[2]);
    unsigned int pool = argc > 3 ? (unsigned int)atoi(argv[3]) : 1;
    if (port <= 0 || port > 65535 || size < 0) {
        fprintf(stderr, "bad PORT or BODY_BYTES\n");
        return 2;
    }

    char *body = make_body((size_t)size);
    if (body == NULL) return 1;
    fixed_response = MHD_create_response_from_buffer((size_t)size, body, MHD_RESPMEM_PERSISTENT);
    if (fixed_response == NULL) return 1;
    MHD_add_response_header(fixed_response, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8");

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)port, NULL, NULL,
        &answer, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
        MHD_OPTION_THREAD_POOL_SIZE, pool,
        MHD_OPTION_END);
    if (daemon == NULL) {
        fprintf(stderr, "bare_mhd: cannot listen on 127.0.0.1:%d\n", port);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    fprintf(stderr, "bare_mhd: 127.0.0.1:%d, %ld-byte body, %u thread(s)\n", port, size, pool);
    while (!stop_requested) pause();

    MHD_stop_daemon(daemon);
    MHD_destroy_response(fixed_response);
    free(body);
    return 0;
}
