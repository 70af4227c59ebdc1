/* results.c -- atomic result folders and the gnuplot call; see results.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int results_begin(const char *final, char *tmp, size_t size) {
    if (results_mkdir_parent(final) != 0)
        return -1;
    int n = snprintf(tmp, size, "%s.partial-%ld", final, (long)getpid());
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    results_remove_tree(tmp);
    return mkdir(tmp, 0777);
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
    if (had_old && rename(final, old) != 0)
        return -1;
    if (rename(tmp, final) != 0) {
        int saved = errno;
        if (had_old)
            rename(old, final);
        errno = saved;
        return -1;
    }
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
