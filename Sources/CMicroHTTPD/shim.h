#ifndef VCSA_CMICROHTTPD_SHIM_H
#define VCSA_CMICROHTTPD_SHIM_H
// Swift cannot call C variadic functions: these static inline wrappers give
// libmicrohttpd's variadic entry points fixed signatures. Nothing else lives here.
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>

/// MHD_start_daemon with a completion callback and an MHD_OPTION_END-terminated option array.
static inline struct MHD_Daemon *vcsa_mhd_start_daemon(unsigned int flags, uint16_t port,
                                                       MHD_AccessHandlerCallback handler, void *handler_cls,
                                                       MHD_RequestCompletedCallback completed, void *completed_cls,
                                                       struct MHD_OptionItem *options) {
    return MHD_start_daemon(flags, port, NULL, NULL, handler, handler_cls,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls,
                            MHD_OPTION_ARRAY, options,
                            MHD_OPTION_END);
}

/// The port a daemon is bound to (useful when it was asked for port 0).
static inline uint16_t vcsa_mhd_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

/// The peer's socket address, or NULL.
static inline const struct sockaddr *vcsa_mhd_client_address(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return info ? info->client_addr : NULL;
}

/// The connection's GnuTLS session (a gnutls_session_t), or NULL for plain HTTP.
static inline void *vcsa_mhd_tls_session(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    return info ? info->tls_session : NULL;
}

#endif
