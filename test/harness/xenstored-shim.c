/*
 * LD_PRELOAD shim that lets the stock C xenstored (Xen 4.17) run on a host
 * without a hypervisor, for tests. Build:
 *   gcc -shared -fPIC -o xenstored-shim.so xenstored-shim.c -ldl
 * Env: XENSTORED_SHIM_DIR = directory holding "xsd_port" (text "1") and
 * "xsd_kva" (a zeroed 4096-byte page); opens of /proc/xen/xsd_port and
 * /proc/xen/xsd_kva are redirected there (dom0's event channel and ring page).
 * No Xen headers needed: handles are opaque, and only the leading fields of
 * xc_dominfo_t (domid, ssidref, flag bits, shutdown_reason) are written.
 * Optional XENSTORED_SHIM_PARENT=<pid>: die with that parent (PR_SET_PDEATHSIG),
 * so a test runner killed with SIGKILL never leaves a daemon behind.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

static int dummy_handle;          /* non-NULL opaque handle for every library */
static int evtchn_pipe[2] = {-1, -1};
static unsigned int next_port = 10;

__attribute__((constructor)) static void shim_init(void) {
    const char *parent = getenv("XENSTORED_SHIM_PARENT");
    if (!parent) return;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != (pid_t)atol(parent)) _exit(1); /* parent already gone */
}

/* ---- libxenctrl ---- */
void *xc_interface_open(void *logger, void *dombuild_logger, unsigned flags) { return &dummy_handle; }
int xc_interface_close(void *xch) { return 0; }
/* Every domid is alive: one record for first_domid, all flags clear. */
int xc_domain_getinfo(void *xch, uint32_t first_domid, unsigned max_doms, void *info) {
    if (max_doms == 0) return 0;
    memset(info, 0, 16);
    memcpy(info, &first_domid, sizeof first_domid);
    return 1;
}

/* ---- libxenevtchn: an fd that never becomes readable ---- */
void *xenevtchn_open(void *logger, unsigned flags) {
    if (evtchn_pipe[0] < 0 && pipe(evtchn_pipe) != 0) return NULL;
    return &dummy_handle;
}
void *xenevtchn_fdopen(void *logger, int fd, unsigned flags) { return xenevtchn_open(logger, flags); }
int xenevtchn_fd(void *xce) { return evtchn_pipe[0]; }
int xenevtchn_notify(void *xce, uint32_t port) { return 0; }
int xenevtchn_bind_virq(void *xce, unsigned virq) { return (int)next_port++; }
int xenevtchn_bind_interdomain(void *xce, uint32_t domid, uint32_t remote) { return (int)next_port++; }
int xenevtchn_unbind(void *xce, uint32_t port) { return 0; }
int xenevtchn_pending(void *xce) { return -1; }
int xenevtchn_unmask(void *xce, uint32_t port) { return 0; }

/* ---- libxengnttab: grant maps are private zeroed pages ---- */
void *xengnttab_open(void *logger, unsigned flags) { return &dummy_handle; }
int xengnttab_close(void *xgt) { return 0; }
int xengnttab_set_max_grants(void *xgt, uint32_t count) { return 0; }
void *xengnttab_map_grant_ref(void *xgt, uint32_t domid, uint32_t ref, int prot) {
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}
int xengnttab_unmap(void *xgt, void *start, uint32_t count) { return munmap(start, 4096UL * count); }

/* ---- /proc/xen redirection ---- */
static const char *redirect(const char *path, char *buf, size_t n) {
    const char *dir = getenv("XENSTORED_SHIM_DIR");
    if (!dir || !path || strncmp(path, "/proc/xen/", 10) != 0) return path;
    if (strcmp(path + 10, "xsd_port") && strcmp(path + 10, "xsd_kva")) return path;
    snprintf(buf, n, "%s/%s", dir, path + 10);
    return buf;
}

#define OPEN_WRAPPER(name, proto_args, call_args, lookup)                      \
    int name proto_args {                                                      \
        char buf[4096];                                                        \
        mode_t mode = 0;                                                       \
        if (flags & (O_CREAT | O_TMPFILE)) {                                   \
            va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); \
        }                                                                      \
        static int (*real) lookup;                                             \
        if (!real) real = (int (*) lookup)dlsym(RTLD_NEXT, #name);             \
        path = redirect(path, buf, sizeof buf);                                \
        return real call_args;                                                 \
    }

OPEN_WRAPPER(open, (const char *path, int flags, ...), (path, flags, mode), (const char *, int, ...))
OPEN_WRAPPER(open64, (const char *path, int flags, ...), (path, flags, mode), (const char *, int, ...))
OPEN_WRAPPER(openat, (int dirfd, const char *path, int flags, ...), (dirfd, path, flags, mode), (int, const char *, int, ...))
OPEN_WRAPPER(openat64, (int dirfd, const char *path, int flags, ...), (dirfd, path, flags, mode), (int, const char *, int, ...))
