/*
 * Safety of the agent socket, shared by the agent and its clients: the directory holding the
 * socket must be a real directory (never a symbolic link) of this user with mode 0700 or
 * stricter, and the process listening must run as this user (SO_PEERCRED). Failures are
 * AGENT_SOCKET_UNSAFE.
 */
#ifndef GOSTSIGN_AGENT_SOCKET_SAFETY_H
#define GOSTSIGN_AGENT_SOCKET_SAFETY_H

#include <stddef.h>

#include "gost.h"

/* The directory part of a socket path ("." when there is none); 0 on success. */
int agent_socket_dir_of(const char *path, char *dir, size_t cap);

/*
 * Checks the socket directory with lstat. A missing directory is AGENT_UNAVAILABLE with errno
 * ENOENT (nobody listens yet); a symlink, a non-directory, another owner or any group/other
 * permission bit is AGENT_SOCKET_UNSAFE (errno EPERM).
 */
gs_code agent_socket_dir_check(const char *dir, gs_status *st);

/* Checks that the peer of a connected socket fd runs as this user; AGENT_SOCKET_UNSAFE if not. */
gs_code agent_socket_peer_check(int fd, const char *path, gs_status *st);

#endif
