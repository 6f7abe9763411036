/*
 * berth-helper: the few host operations Node cannot do, as subcommands of one small program.
 *
 *   attach [--no-stdin] <socket>   relay stdio to/from conmon's SOCK_SEQPACKET attach socket
 *   pty-exec [--size RxC] [--] <runtime> <args...>
 *                                  run `<runtime> ... exec --console-socket P ...`, relay the pty;
 *                                  with `exec --detach` (runc needs it for a console socket) wait
 *                                  as subreaper for the process named by its --pid-file
 *   whiteouts <root>               stdin lines "w <rel>" / "o <rel>": overlay whiteouts, opaque dirs
 *   lock <file>                    flock the file until stdin reaches EOF
 *   resolve [--no-follow] <root> <path>
 *                                  print the host path of <path> resolved with <root> as "/"
 *   seccomp-bpf                    stdin: an OCI seccomp profile as lines; stdout: the BPF crun would
 *                                  build for it (native/seccomp-bpf.c)
 *   path-stat, tar-out, tar-in, walk
 *                                  container filesystem access chrooted into a rootfs (native/archive.c)
 *
 * Exit codes: 0 ok, 1 error, 2 not found, 3 locked by another process, 4 unsafe path refused.
 * For pty-exec: the exit code of the runtime (128+signal when it was killed).
 * Every error is one line on stderr starting with "berth-helper: ".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#include "helper.h"

#define IOBUF 8192

void die(int code, const char *fmt, ...)
{
	va_list ap;
	fputs("berth-helper: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static int fd_is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

/* Writes all of buf; returns 0, or -1 with errno set (EPIPE when the reader went away). */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = {.fd = fd, .events = POLLOUT};
				poll(&p, 1, -1);
				continue;
			}
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---------- attach ---------- */

/* Connects to a unix socket whose path may be longer than sun_path, via /proc/self/fd/N/<base>. */
static int connect_seqpacket(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), dirfd = -1;
	if (fd < 0)
		die(EXIT_ERR, "attach %s: socket: %s", path, strerror(errno));
	if (strlen(path) < sizeof(addr.sun_path)) {
		strcpy(addr.sun_path, path);
	} else {
		char *dir = strdup(path), *slash = strrchr(dir, '/');
		if (slash == NULL)
			die(EXIT_ERR, "attach %s: socket name too long", path);
		*slash = '\0';
		dirfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			die(errno == ENOENT ? EXIT_NOTFOUND : EXIT_ERR, "attach %s: %s", path, strerror(errno));
		int n = snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s", dirfd, slash + 1);
		if (n < 0 || (size_t)n >= sizeof(addr.sun_path))
			die(EXIT_ERR, "attach %s: socket name too long", path);
		free(dir);
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		/* A missing socket and a stale one (conmon gone) both mean: nobody to attach to. */
		int code = (errno == ENOENT || errno == ECONNREFUSED) ? EXIT_NOTFOUND : EXIT_ERR;
		die(code, "attach %s: %s", path, strerror(errno));
	}
	if (dirfd >= 0)
		close(dirfd);
	return fd;
}

/* Tells the parent (if it gave us fd 3) that we are connected, then closes fd 3. */
static void signal_ready(void)
{
	if (fd_is_open(3)) {
		if (write_all(3, "ok\n", 3) < 0 && errno != EPIPE)
			die(EXIT_ERR, "write ready fd: %s", strerror(errno));
		close(3);
	}
}

static int cmd_attach(int argc, char **argv)
{
	int use_stdin = 1, i = 0;
	if (i < argc && strcmp(argv[i], "--no-stdin") == 0)
		use_stdin = 0, i++;
	if (argc - i != 1)
		die(EXIT_ERR, "usage: attach [--no-stdin] <socket-path>");
	int sock = connect_seqpacket(argv[i]);
	signal_ready();

	/* conmon packets: one byte naming the pipe (2 stdout, 3 stderr), then the data (<= 8192). */
	static char in[IOBUF], out[65536];
	ssize_t pending = 0; /* stdin bytes read but not yet sent: sends never block output relaying */
	int stdin_open = use_stdin, resets = 0;
	for (;;) {
		struct pollfd p[2] = {{.fd = sock, .events = POLLIN}, {.fd = -1}};
		if (pending > 0)
			p[0].events |= POLLOUT;
		else if (stdin_open)
			p[1] = (struct pollfd){.fd = 0, .events = POLLIN};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_ERR, "attach: poll: %s", strerror(errno));
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(sock, out, sizeof(out), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno == EPIPE))
				return 0; /* conmon closed: the container exited */
			/* conmon closed while our stdin was unread: the kernel reports ECONNRESET once, before
			 * the output still queued for us (the container's last words). Read on to the end. */
			if (n < 0 && errno == ECONNRESET && ++resets < 64)
				continue;
			if (n < 0 && errno == ECONNRESET)
				return 0;
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				die(EXIT_ERR, "attach: recv: %s", strerror(errno));
			if (n > 1 && (out[0] == 2 || out[0] == 3)) {
				if (write_all(out[0] == 2 ? 1 : 2, out + 1, (size_t)n - 1) < 0) {
					if (errno == EPIPE)
						return 0; /* our reader went away: nothing left to do */
					die(EXIT_ERR, "attach: write: %s", strerror(errno));
				}
			}
		}
		if (pending > 0 && (p[0].revents & POLLOUT)) {
			ssize_t n = send(sock, in, (size_t)pending, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n >= 0)
				pending = 0;
			else if (errno == EPIPE || errno == ECONNRESET)
				pending = 0, stdin_open = 0; /* conmon stopped reading; output may still come */
			else if (errno != EAGAIN && errno != EINTR)
				die(EXIT_ERR, "attach: send: %s", strerror(errno));
			if (pending == 0 && !stdin_open && use_stdin)
				shutdown(sock, SHUT_WR);
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(0, in, sizeof(in));
			if (n > 0) {
				pending = n;
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				/* EOF on stdin: conmon closes the container's stdin when it sees ours end. */
				stdin_open = 0;
				shutdown(sock, SHUT_WR);
			}
		}
	}
}

/* ---------- pty-exec ---------- */

static char pty_dir[64];
static char pty_sock[96];
static void pty_cleanup(void)
{
	if (pty_sock[0])
		unlink(pty_sock), pty_sock[0] = '\0';
	if (pty_dir[0])
		rmdir(pty_dir), pty_dir[0] = '\0';
}

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

/* Receives one fd sent with SCM_RIGHTS (crun's --console-socket protocol). */
static int recv_fd(int conn)
{
	char data[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n;
	do
		n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die(EXIT_ERR, "pty-exec: recvmsg: %s", strerror(errno));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int fd;
			memcpy(&fd, CMSG_DATA(c), sizeof(fd));
			return fd;
		}
	}
	return -1;
}

static void set_winsize(int master, unsigned rows, unsigned cols)
{
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
	if (rows > 0 && cols > 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

static int status_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

/* The value after `flag` in the runtime's argv, or NULL. */
static const char *arg_value(char **argv, int n, const char *flag)
{
	for (int j = 0; j + 1 < n; j++)
		if (strcmp(argv[j], flag) == 0)
			return argv[j + 1];
	return NULL;
}

/* The pid a runtime wrote to its --pid-file, or -1. */
static pid_t read_pid_file(const char *path)
{
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *end;
	long v = strtol(buf, &end, 10);
	return (end != buf && v > 0 && v <= INT_MAX) ? (pid_t)v : -1;
}

/* Reads what the master still holds (without blocking) and writes it to stdout. */
static void drain_master(int master, int out_ok)
{
	static char buf[IOBUF];
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	for (;;) {
		ssize_t n = read(master, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* EAGAIN: drained; EIO: the slave side is gone */
		if (out_ok && write_all(1, buf, (size_t)n) < 0)
			out_ok = 0;
	}
}

static int cmd_pty_exec(int argc, char **argv)
{
	unsigned rows = 0, cols = 0;
	int i = 0;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--size") == 0 && i + 1 < argc && sscanf(argv[i + 1], "%ux%u", &rows, &cols) == 2)
			i++;
		else
			die(EXIT_ERR, "pty-exec: bad option %s", argv[i]);
	}
	int n_cmd = argc - i, exec_at = -1;
	for (int j = i; j < argc; j++)
		if (strcmp(argv[j], "exec") == 0) {
			exec_at = j - i;
			break;
		}
	if (n_cmd < 2 || exec_at < 0)
		die(EXIT_ERR, "usage: pty-exec [--size ROWSxCOLS] [--] <runtime> [args] exec [args]");
	/* A detached runtime returns once the process runs; the process, orphaned, comes to us. */
	int detached = 0;
	for (int j = i + exec_at + 1; j < argc; j++)
		if (strcmp(argv[j], "--detach") == 0 || strcmp(argv[j], "-d") == 0)
			detached = 1;
	const char *pid_file = arg_value(argv + i, n_cmd, "--pid-file");
	if (detached && (pid_file == NULL || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0))
		die(EXIT_ERR, "pty-exec: --detach needs --pid-file and a subreaper: %s", pid_file ? strerror(errno) : "no --pid-file");

	const char *tmp = getenv("TMPDIR");
	if (tmp == NULL || strlen(tmp) > 40)
		tmp = "/tmp"; /* keeps the socket path inside sun_path */
	snprintf(pty_dir, sizeof(pty_dir), "%s/berth-pty-XXXXXX", tmp);
	if (mkdtemp(pty_dir) == NULL) {
		pty_dir[0] = '\0';
		die(EXIT_ERR, "pty-exec: mkdtemp: %s", strerror(errno));
	}
	atexit(pty_cleanup);
	snprintf(pty_sock, sizeof(pty_sock), "%s/console.sock", pty_dir);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strcpy(addr.sun_path, pty_sock);
	int lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsock < 0 || bind(lsock, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lsock, 1) < 0)
		die(EXIT_ERR, "pty-exec: console socket %s: %s", pty_sock, strerror(errno));

	/* argv for the runtime: ours with "--console-socket P" inserted right after "exec". */
	char **cargv = calloc((size_t)n_cmd + 3, sizeof(char *));
	for (int j = 0, k = 0; j < n_cmd; j++) {
		cargv[k++] = argv[i + j];
		if (j == exec_at)
			cargv[k++] = "--console-socket", cargv[k++] = pty_sock;
	}

	/* Signals are blocked except inside ppoll, so a SIGTERM from berthd is never missed. */
	sigset_t block, orig;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM), sigaddset(&block, SIGINT), sigaddset(&block, SIGHUP);
	struct sigaction sa = {.sa_handler = on_signal};
	for (int s = 1; s < NSIG; s++)
		if (sigismember(&block, s))
			sigaction(s, &sa, NULL);
	sigprocmask(SIG_BLOCK, &block, &orig);
	if (fd_is_open(3))
		fcntl(3, F_SETFD, FD_CLOEXEC);

	pid_t pid = fork();
	if (pid < 0)
		die(EXIT_ERR, "pty-exec: fork: %s", strerror(errno));
	if (pid == 0) {
		/* The runtime's stdout goes to our stderr: our stdout carries only the terminal. */
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0), dup2(2, 1);
		sigprocmask(SIG_SETMASK, &orig, NULL);
		signal(SIGPIPE, SIG_DFL);
		execvp(cargv[0], cargv);
		fprintf(stderr, "berth-helper: pty-exec: %s: %s\n", cargv[0], strerror(errno));
		_exit(127);
	}
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		die(EXIT_ERR, "pty-exec: pidfd_open: %s", strerror(errno));

	int master = -1, status = 0, exited = 0;
	/* Phase 1: wait for the runtime to send the pty master, or to fail before it does. */
	while (master < 0 && !exited) {
		struct pollfd p[2] = {{.fd = lsock, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
		if (ppoll(p, 2, NULL, &orig) < 0 && errno != EINTR)
			die(EXIT_ERR, "pty-exec: poll: %s", strerror(errno));
		if (got_signal)
			kill(pid, got_signal), got_signal = 0;
		if (p[0].revents & POLLIN) {
			int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
			if (conn >= 0) {
				master = recv_fd(conn);
				close(conn);
			}
		}
		if (master < 0 && (p[1].revents & POLLIN) && waitpid(pid, &status, 0) == pid)
			exited = 1;
	}
	close(lsock);
	pty_cleanup();
	if (master < 0)
		return exited ? status_code(status) : EXIT_ERR;
	set_winsize(master, rows, cols);
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);

	/* Phase 2: relay until the runtime exits (the exec'd process ended), then drain the master. */
	static char in[IOBUF], out[IOBUF], line[128];
	ssize_t pending = 0, pend_off = 0;
	size_t line_len = 0;
	int stdin_open = 1, out_ok = 1, master_open = 1, winfd = fd_is_open(3) ? 3 : -1;
	while (!exited) {
		struct pollfd p[4] = {{.fd = pidfd, .events = POLLIN}, {.fd = -1}, {.fd = -1}, {.fd = winfd, .events = POLLIN}};
		if (master_open)
			p[1] = (struct pollfd){.fd = master, .events = (short)(POLLIN | (pending ? POLLOUT : 0))};
		if (stdin_open && !pending && master_open)
			p[2] = (struct pollfd){.fd = 0, .events = POLLIN};
		if (ppoll(p, 4, NULL, &orig) < 0 && errno != EINTR)
			die(EXIT_ERR, "pty-exec: poll: %s", strerror(errno));
		if (got_signal) {
			/* Forward to the runtime and hang up the terminal, so the exec'd process goes too. */
			kill(pid, got_signal), got_signal = 0;
			if (master_open)
				close(master), master_open = 0;
		}
		if (master_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(master, out, sizeof(out));
			if (n > 0) {
				if (out_ok && write_all(1, out, (size_t)n) < 0)
					out_ok = 0; /* reader gone: keep draining so the process is not blocked */
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				master_open = 0; /* EIO: every slave fd is closed */
			}
		}
		if (master_open && pending && (p[1].revents & POLLOUT)) {
			ssize_t n = write(master, in + pend_off, (size_t)(pending - pend_off));
			if (n > 0 && (pend_off += n) == pending)
				pending = pend_off = 0;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				pending = pend_off = 0;
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(0, in, sizeof(in));
			if (n > 0)
				pending = n, pend_off = 0;
			else if (n == 0 || (errno != EINTR && errno != EAGAIN))
				stdin_open = 0; /* keep the pty open: the process may still be writing */
		}
		if (winfd >= 0 && (p[3].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(winfd, line + line_len, sizeof(line) - 1 - line_len);
			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
				close(winfd), winfd = -1;
			} else if (n > 0) {
				line_len += (size_t)n;
				char *nl;
				while ((nl = memchr(line, '\n', line_len)) != NULL) {
					*nl = '\0';
					if (sscanf(line, "%u %u", &rows, &cols) == 2 && master_open)
						set_winsize(master, rows, cols);
					line_len -= (size_t)(nl + 1 - line);
					memmove(line, nl + 1, line_len);
				}
				if (line_len == sizeof(line) - 1)
					line_len = 0; /* garbage without newline: drop it */
			}
		}
		if ((p[0].revents & POLLIN) && waitpid(pid, &status, 0) == pid) {
			exited = 1;
			if (detached && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				/* The runtime has gone, the process runs: wait for the process instead. */
				detached = 0;
				pid_t target = read_pid_file(pid_file);
				int tfd = target > 0 ? (int)syscall(SYS_pidfd_open, target, 0) : -1;
				if (tfd < 0) {
					status = 255 << 8; /* no process to wait for: report a runtime failure */
				} else {
					close(pidfd);
					pidfd = tfd, pid = target, exited = 0;
				}
			}
		}
	}
	if (master_open)
		drain_master(master, out_ok);
	return status_code(status);
}

/* ---------- whiteouts ---------- */

/* Removes dir entry `name` under dfd, recursing into directories without following symlinks. */
int remove_tree(int dfd, const char *name)
{
	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR)
		return -1;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (d == NULL)
		return -1;
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			rc = remove_tree(fd, e->d_name);
	closedir(d);
	return rc == 0 ? unlinkat(dfd, name, AT_REMOVEDIR) : rc;
}

/*
 * Walks `rel` below rootfd one component at a time with O_NOFOLLOW, creating missing parents,
 * and returns an fd of the parent directory; *last points at the final component.
 */
static int open_parent(int rootfd, char *rel, char **last, int *unsafe)
{
	*unsafe = 0;
	if (rel[0] == '/' || rel[0] == '\0') {
		*unsafe = 1;
		errno = EINVAL;
		return -1;
	}
	char *comps[PATH_MAX / 2];
	int n = 0;
	for (char *save = NULL, *c = strtok_r(rel, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, "..") == 0) {
			*unsafe = 1;
			errno = EINVAL;
			return -1;
		}
		if (n == (int)(sizeof(comps) / sizeof(comps[0]))) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (strcmp(c, ".") != 0)
			comps[n++] = c;
	}
	if (n == 0) {
		*unsafe = 1;
		errno = EINVAL;
		return -1;
	}
	int fd = dup(rootfd);
	for (int i = 0; i < n - 1 && fd >= 0; i++) {
		int next = openat(fd, comps[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && mkdirat(fd, comps[i], 0755) == 0)
			next = openat(fd, comps[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && (errno == ELOOP || errno == ENOTDIR))
			*unsafe = 1; /* a symlink (or a file) where a directory must be */
		int saved = errno;
		close(fd);
		errno = saved;
		fd = next;
	}
	*last = comps[n - 1];
	return fd;
}

static int cmd_whiteouts(int argc, char **argv)
{
	if (argc != 1)
		die(EXIT_ERR, "usage: whiteouts <root>  (stdin: lines \"w <path>\" or \"o <path>\")");
	int rootfd = open(argv[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		die(errno == ENOENT ? EXIT_NOTFOUND : EXIT_ERR, "whiteouts %s: %s", argv[0], strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (len < 3 || (line[0] != 'w' && line[0] != 'o') || line[1] != ' ')
			die(EXIT_ERR, "whiteouts: bad line \"%s\"", line);
		char *path = strdup(line + 2), *name = NULL;
		int unsafe, pfd = open_parent(rootfd, line + 2, &name, &unsafe);
		if (pfd < 0)
			die(unsafe ? EXIT_UNSAFE : EXIT_ERR, "whiteouts: %s: %s", path,
			    unsafe ? "path escapes the root or crosses a symlink or non-directory" : strerror(errno));
		if (line[0] == 'w') {
			if (remove_tree(pfd, name) < 0 || mknodat(pfd, name, S_IFCHR, makedev(0, 0)) < 0)
				die(EXIT_ERR, "whiteouts: whiteout %s: %s", path, strerror(errno));
		} else {
			if (mkdirat(pfd, name, 0755) < 0 && errno != EEXIST)
				die(EXIT_ERR, "whiteouts: opaque %s: %s", path, strerror(errno));
			/* O_PATH fds cannot carry xattrs: open the directory for reading, never via a symlink. */
			int dfd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (dfd < 0)
				die(errno == ELOOP || errno == ENOTDIR ? EXIT_UNSAFE : EXIT_ERR, "whiteouts: opaque %s: %s", path,
				    strerror(errno));
			if (fsetxattr(dfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
				die(EXIT_ERR, "whiteouts: opaque %s: setxattr: %s", path, strerror(errno));
			close(dfd);
		}
		close(pfd);
		free(path);
	}
	free(line);
	return 0;
}

/* ---------- lock ---------- */

static int cmd_lock(int argc, char **argv)
{
	if (argc != 1)
		die(EXIT_ERR, "usage: lock <file>");
	int fd = open(argv[0], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		die(EXIT_ERR, "lock %s: %s", argv[0], strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			die(EXIT_LOCKED, "%s is locked by another process", argv[0]);
		if (errno != EINTR)
			die(EXIT_ERR, "lock %s: %s", argv[0], strerror(errno));
	}
	if (write_all(1, "locked\n", 7) < 0)
		return EXIT_ERR;
	/* Hold the lock until our parent closes stdin, or dies (which closes it for it). */
	char buf[256];
	for (;;) {
		ssize_t n = read(0, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR))
			return 0;
	}
}

/* ---------- resolve ---------- */

static int cmd_resolve(int argc, char **argv)
{
	int i = 0;
	unsigned long long flags = O_PATH | O_CLOEXEC;
	if (i < argc && strcmp(argv[i], "--no-follow") == 0)
		flags |= O_NOFOLLOW, i++;
	if (argc - i != 2)
		die(EXIT_ERR, "usage: resolve [--no-follow] <root> <path>");
	const char *root = argv[i], *path = argv[i + 1];
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		die(errno == ENOENT ? EXIT_NOTFOUND : EXIT_ERR, "resolve: root %s: %s", root, strerror(errno));
	/* RESOLVE_IN_ROOT: "..", absolute paths and symlinks all stay below root, as in a chroot. */
	struct open_how how = {.flags = flags, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, rootfd, path[0] ? path : ".", &how, sizeof(how));
	if (fd < 0)
		die(errno == ENOENT ? EXIT_NOTFOUND : EXIT_ERR, "resolve %s in %s: %s", path, root, strerror(errno));
	char link[64], out[PATH_MAX + 1];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, out, PATH_MAX);
	if (n < 0)
		die(EXIT_ERR, "resolve %s: readlink: %s", path, strerror(errno));
	out[n] = '\n';
	return write_all(1, out, (size_t)n + 1) < 0 ? EXIT_ERR : 0;
}

int cmd_seccomp_bpf(int argc, char **argv); /* native/seccomp-bpf.c */
int cmd_path_stat(int argc, char **argv);   /* native/archive.c */
int cmd_tar_out(int argc, char **argv);
int cmd_tar_in(int argc, char **argv);
int cmd_walk(int argc, char **argv);

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN); /* EPIPE as an error code, not a silent death */
	if (argc < 2)
		die(EXIT_ERR, "usage: berth-helper attach|pty-exec|whiteouts|lock|resolve|seccomp-bpf|path-stat|tar-out|tar-in|walk ...");
	const char *cmd = argv[1];
	argc -= 2, argv += 2;
	if (strcmp(cmd, "attach") == 0)
		return cmd_attach(argc, argv);
	if (strcmp(cmd, "pty-exec") == 0)
		return cmd_pty_exec(argc, argv);
	if (strcmp(cmd, "whiteouts") == 0)
		return cmd_whiteouts(argc, argv);
	if (strcmp(cmd, "lock") == 0)
		return cmd_lock(argc, argv);
	if (strcmp(cmd, "resolve") == 0)
		return cmd_resolve(argc, argv);
	if (strcmp(cmd, "seccomp-bpf") == 0)
		return cmd_seccomp_bpf(argc, argv);
	if (strcmp(cmd, "path-stat") == 0)
		return cmd_path_stat(argc, argv);
	if (strcmp(cmd, "tar-out") == 0)
		return cmd_tar_out(argc, argv);
	if (strcmp(cmd, "tar-in") == 0)
		return cmd_tar_in(argc, argv);
	if (strcmp(cmd, "walk") == 0)
		return cmd_walk(argc, argv);
	die(EXIT_ERR, "unknown command %s", cmd);
}
