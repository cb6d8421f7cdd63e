/* SPDX-License-Identifier: MIT */
/*
 * sandbox.c - the seccomp allow-list (see sandbox.h). The list covers the
 * event loop (epoll, timers through epoll_wait timeouts, signalfd reads),
 * host sockets of the forwarder and DNS resolver (socket limited to
 * AF_INET, AF_INET6 and AF_UNIX), the control API, memory management,
 * SIGHUP reload (re-reading the config file, reopening the log), the
 * resolv.conf watch (its inotify fd exists before; watches are added and
 * symlinks read at run time) and exit
 * (pid file and socket removal). Everything that only start-up needs
 * (setns, TAP ioctls on creation, bind of the API socket) happens before.
 */
#include "sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* clang says ASan is on with __has_feature, gcc with __SANITIZE_ADDRESS__ */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VG_CLANG_ASAN 1
#endif
#endif
#ifndef VG_CLANG_ASAN
#define VG_CLANG_ASAN 0
#endif

/* clang-format off */
static const char *const allowed[] = {
	/* loop, files, sockets */
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl", "epoll_create1",
	"read", "readv", "pread64", "write", "writev", "pwrite64", "close",
	"recvfrom", "recvmsg", "recvmmsg", "sendto", "sendmsg", "sendmmsg",
	"accept", "accept4", "connect", "bind", "listen", "shutdown",
	"getsockname", "getpeername", "setsockopt", "getsockopt", "socketpair",
	"fcntl", "ioctl", "poll", "ppoll", "select", "pselect6", "pipe2", "splice",
	"eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime",
	"openat", "open", "fstat", "newfstatat", "statx", "lseek", "lstat", "stat",
	"unlink", "unlinkat", "rename", "renameat", "renameat2", "chmod", "fchmod",
	"umask", "dup", "dup2", "dup3", "fsync", "fdatasync", "ftruncate",
	/* following the resolv.conf (cmd/dnsup.c) */
	"inotify_add_watch", "inotify_rm_watch", "readlink", "readlinkat",
	/* memory, time, process */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	"clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep",
	"clock_nanosleep", "getrandom", "getpid", "gettid", "getuid", "geteuid",
	"getgid", "getegid", "uname", "sysinfo", "prlimit64", "getrlimit",
	"rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "sigaltstack", "tgkill",
	"futex", "sched_yield", "restart_syscall", "exit", "exit_group",
	"set_robust_list", "rseq",
};
/* clang-format on */

/*
 * Sanitizer builds (VGATE_SANITIZE): LeakSanitizer stops the process at exit
 * from a helper thread that ptraces it, and the sanitizers read /proc; allow
 * what that needs so the sanitizer runs of the e2e suite can use --sandbox.
 * Release builds never get these.
 */
#if defined(__SANITIZE_ADDRESS__) || VG_CLANG_ASAN
/* clang-format off */
static const char *const allowed_sanitizer[] = {
	"clone", "clone3", "ptrace", "wait4", "waitid", "prctl", "sched_getaffinity",
	"getppid", "sigaltstack", "readlink", "readlinkat", "getdents", "getdents64",
	"mincore", "kill", "tkill", "process_vm_readv",
};
/* clang-format on */
#endif

static int allow_names(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && !rc; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	return rc;
}

int vg_sandbox_enter(char *err, size_t errlen)
{
	static const int domains[] = {AF_INET, AF_INET6, AF_UNIX};
	scmp_filter_ctx ctx;
	size_t i;
	int rc = 0;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(err, errlen, "--sandbox: seccomp_init failed");
		return -1;
	}
	rc = allow_names(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]));
#if defined(__SANITIZE_ADDRESS__) || VG_CLANG_ASAN
	if (!rc)
		rc = allow_names(ctx, allowed_sanitizer,
				 sizeof(allowed_sanitizer) / sizeof(allowed_sanitizer[0]));
#endif
	for (i = 0; i < sizeof(domains) / sizeof(domains[0]) && !rc; i++) {
		/* SCMP_A0() leaves datum_b out, which clang warns about */
		struct scmp_arg_cmp first_arg = { .arg = 0,
						  .op = SCMP_CMP_EQ,
						  .datum_a = (scmp_datum_t)domains[i],
						  .datum_b = 0 };

		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, first_arg);
	}
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc) {
		snprintf(err, errlen, "--sandbox: cannot install the seccomp filter: %s",
			 strerror(-rc));
		return -1;
	}
	return 0;
}
