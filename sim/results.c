/* results.c -- atomic result folders that never touch what shardsim did not write,
 * their clean-up on signals, and the gnuplot call; see results.h. */
#define _GNU_SOURCE /* syscall(SYS_getdents64): the signal handler's directory walk */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/results.h"

#define GNUPLOT_TIMEOUT_S 60

const char *results_data_dir(void) {
    const char *env = getenv("SHARDSIM_DATA_DIR");
    return env && *env ? env : SHARDSIM_SOURCE_DIR;
}

int results_mkdir_p(const char *path) {
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int results_mkdir_parent(const char *path) {
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf)
        return 0;
    *slash = '\0';
    return results_mkdir_p(buf);
}

/* 1 if dir is a folder that carries RESULTS_MARK. */
static int is_marked(const char *dir) {
    char mark[PATH_MAX];
    struct stat st;
    snprintf(mark, sizeof mark, "%s/" RESULTS_MARK, dir);
    return lstat(mark, &st) == 0 && S_ISREG(st.st_mode);
}

/* 1 if dir is a folder with no entries. */
static int is_empty_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

int results_check_out(const char *final, int force, char *err, size_t errlen) {
    struct stat st;
    if (lstat(final, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    if (S_ISLNK(st.st_mode))
        snprintf(err, errlen, "is a symbolic link; give a new folder's path");
    else if (!S_ISDIR(st.st_mode))
        snprintf(err, errlen, "exists and is not a folder; give a new folder's path");
    else if (is_empty_dir(final))
        return 0;
    else if (!is_marked(final))
        snprintf(err, errlen,
                 "is not empty and is not a shardsim result folder; nothing was "
                 "written (give a new or empty folder)");
    else if (force)
        return 0;
    else
        snprintf(err, errlen, "holds an earlier shardsim result; add --force to replace it");
    return -1;
}

static int write_mark(const char *dir) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/" RESULTS_MARK, dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int bad = fputs("a shardsim result folder: shardsim may replace it with --force\n", f) < 0;
    return (fclose(f) != 0 || bad) ? -1 : 0;
}

/* Delete FINAL.partial-PID and FINAL.old-PID folders whose process is gone (a run
 * killed by SIGKILL or a power cut), if they are shardsim's. */
static void remove_stale(const char *final) {
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", final);
    char *slash = strrchr(parent, '/');
    const char *base = slash ? slash + 1 : final;
    if (slash)
        *slash = '\0';
    DIR *d = opendir(slash ? (parent[0] ? parent : "/") : ".");
    if (!d)
        return;
    size_t blen = strlen(base);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *rest = e->d_name + blen;
        if (strncmp(e->d_name, base, blen) != 0 ||
            (strncmp(rest, ".partial-", 9) != 0 && strncmp(rest, ".old-", 5) != 0))
            continue;
        const char *digits = strchr(rest + 1, '-') + 1;
        char *end;
        long pid = strtol(digits, &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", slash ? (parent[0] ? parent : "") : ".", e->d_name);
        if (is_marked(path))
            results_remove_tree(path);
    }
    closedir(d);
}

/* What the signal handler cleans up: the one temporary folder being written and the
 * worker processes writing into it. Process-wide by nature (a signal is), so these
 * are the CLI's only mutable globals. */
static char guarded_tmp[PATH_MAX];
static volatile sig_atomic_t guarded_set;
static pid_t guarded_children[256];
static volatile sig_atomic_t guarded_child_count;
static pid_t guarded_owner;

int results_begin(const char *final, char *tmp, size_t size) {
    if (results_mkdir_parent(final) != 0)
        return -1;
    int n = snprintf(tmp, size, "%s.partial-%ld", final, (long)getpid());
    if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof guarded_tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    remove_stale(final);
    if (is_marked(tmp))
        results_remove_tree(tmp);
    if (mkdir(tmp, 0777) != 0)
        return -1;
    guarded_set = 0;
    memcpy(guarded_tmp, tmp, (size_t)n + 1);
    guarded_owner = getpid();
    guarded_set = 1;
    if (write_mark(tmp) != 0) {
        results_abort(tmp);
        return -1;
    }
    return 0;
}

void results_abort(const char *tmp) {
    if (is_marked(tmp))
        results_remove_tree(tmp);
    guarded_set = 0;
}

void results_track_child(long pid) {
    if (pid == 0) {
        guarded_child_count = 0;
        return;
    }
    if (guarded_child_count < (sig_atomic_t)(sizeof guarded_children / sizeof guarded_children[0]))
        guarded_children[guarded_child_count++] = (pid_t)pid;
}

/* rm -rf of name under dirfd with async-signal-safe calls only (openat, getdents64,
 * unlinkat): what the signal handler may do. */
static void remove_tree_at(int dirfd, const char *name, int depth) {
    if (unlinkat(dirfd, name, 0) == 0 || depth > 16)
        return;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0)
        return;
    char buf[4096];
    long n;
    for (int pass = 0; pass < 8 && (n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0; pass++) {
        for (long off = 0; off < n;) {
            struct {
                uint64_t ino;
                int64_t off;
                unsigned short reclen;
                unsigned char type;
                char name[];
            } *e = (void *)(buf + off);
            if (strcmp(e->name, ".") != 0 && strcmp(e->name, "..") != 0)
                remove_tree_at(fd, e->name, depth + 1);
            off += e->reclen;
        }
        lseek(fd, 0, SEEK_SET); /* entries removed: read again until only . and .. are left */
        if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0)
            break;
    }
    close(fd);
    unlinkat(dirfd, name, AT_REMOVEDIR);
}

static void on_signal(int sig) {
    if (getpid() == guarded_owner) {
        for (sig_atomic_t i = 0; i < guarded_child_count; i++) {
            kill(guarded_children[i], SIGKILL);
            waitpid(guarded_children[i], NULL, 0);
        }
        if (guarded_set)
            remove_tree_at(AT_FDCWD, guarded_tmp, 0);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void results_guard_signals(void) {
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&sa.sa_mask, sigs[i]);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

int results_remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char child[PATH_MAX];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        rc |= results_remove_tree(child);
    }
    closedir(d);
    return rmdir(path) | rc;
}

int results_replace_dir(const char *tmp, const char *final) {
    char old[PATH_MAX];
    snprintf(old, sizeof old, "%s.old-%ld", final, (long)getpid());
    struct stat st;
    int had_old = lstat(final, &st) == 0;
    if (had_old && S_ISDIR(st.st_mode) && is_empty_dir(final)) {
        if (rmdir(final) != 0)
            return -1;
        had_old = 0;
    } else if (had_old && !(S_ISDIR(st.st_mode) && is_marked(final))) {
        errno = EEXIST; /* not ours: never deleted, never replaced */
        return -1;
    }
    if (had_old && rename(final, old) != 0)
        return -1;
    if (rename(tmp, final) != 0) {
        int saved = errno;
        if (had_old)
            rename(old, final);
        errno = saved;
        return -1;
    }
    guarded_set = 0;
    if (had_old)
        results_remove_tree(old);
    return 0;
}

int results_link_latest(const char *dir, const char *final) {
    const char *base = strrchr(final, '/');
    base = base ? base + 1 : final;
    char tmp[PATH_MAX], link[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.latest-%ld", dir, (long)getpid());
    snprintf(link, sizeof link, "%s/latest", dir);
    unlink(tmp);
    if (symlink(base, tmp) != 0)
        return -1;
    return rename(tmp, link);
}

int results_copy_file_to(const char *path, FILE *out) {
    FILE *in = fopen(path, "rb");
    if (!in)
        return -1;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) {
            fclose(in);
            return -1;
        }
    fclose(in);
    return 0;
}

int results_gnuplot(const char *script, const char *vars) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/results/%s", results_data_dir(), script);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
            if (!getenv("SHARDSIM_GNUPLOT_VERBOSE"))
                dup2(null, STDERR_FILENO);
        }
        alarm(GNUPLOT_TIMEOUT_S); /* survives exec: a hung gnuplot is killed */
        execlp("gnuplot", "gnuplot", "-e", vars, path, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        fprintf(stderr, "shardsim: warning: gnuplot not found: no plots (install gnuplot-nox)\n");
        return -1;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
