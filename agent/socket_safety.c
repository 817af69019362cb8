/*
 * Who may stand behind the agent socket: the checks the clients and the agent share, so a local
 * user who controls a shared $XDG_RUNTIME_DIR cannot pose as the agent or make it chmod a
 * directory of theirs.
 */
#include "socket_safety.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* The socket's directory is what guards it; both ends need the same rule to find it. */
int agent_socket_dir_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    int n;
    if (!slash)
        n = snprintf(dir, cap, ".");
    else if (slash == path)
        n = snprintf(dir, cap, "/");
    else
        n = snprintf(dir, cap, "%.*s", (int)(slash - path), path);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Names what is wrong with a directory's lstat result, or NULL when it is safe. */
static const char *dir_problem(const struct stat *sb)
{
    if (S_ISLNK(sb->st_mode))
        return "is a symbolic link";
    if (!S_ISDIR(sb->st_mode))
        return "is not a directory";
    if (sb->st_uid != geteuid())
        return "belongs to another user";
    if ((sb->st_mode & 0077) != 0)
        return "can be opened by other users (mode must be 0700)";
    return NULL;
}

/* A real directory of ours that nobody else may enter: only then is a socket in it ours. */
gs_code agent_socket_dir_check(const char *dir, gs_status *st)
{
    struct stat sb;
    if (lstat(dir, &sb) != 0) {
        int saved = errno;
        gs_fail(st, GS_ERR_AGENT_UNAVAILABLE, "%s: %s", dir, strerror(saved));
        errno = saved;
        return st->code;
    }
    const char *problem = dir_problem(&sb);
    if (!problem)
        return GS_ERR_OK;
    gs_fail(st, GS_ERR_AGENT_SOCKET_UNSAFE,
            "the agent socket directory %s %s (owner uid %u, mode %04o)", dir, problem,
            (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777));
    errno = EPERM;
    return st->code;
}

/* SO_PEERCRED tells who called listen(): anyone else must not see our requests. */
gs_code agent_socket_peer_check(int fd, const char *path, gs_status *st)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        int saved = errno;
        gs_fail(st, GS_ERR_AGENT_SOCKET_UNSAFE, "%s: cannot tell who listens: %s", path,
                strerror(saved));
        errno = EPERM;
        return st->code;
    }
    if (cred.uid == geteuid())
        return GS_ERR_OK;
    gs_fail(st, GS_ERR_AGENT_SOCKET_UNSAFE,
            "%s is served by uid %u (pid %ld), not by this user (uid %u)", path, (unsigned)cred.uid,
            (long)cred.pid, (unsigned)geteuid());
    errno = EPERM;
    return st->code;
}
