/*
 * Container filesystem access for cp, export, diff and commit (berth-helper subcommands).
 *
 *   path-stat <root> <path>             one line: name \t size \t st_mode (octal) \t mtime \t link target
 *   tar-out [--whiteouts] <root> <path> <name>
 *                                       tar of <path> on stdout, entries named <name>, <name>/child...
 *                                       (<name> "" : children only, no prefix: export, commit);
 *                                       --whiteouts: overlay whiteouts and opaque dirs become .wh. files
 *   tar-in [--no-overwrite-dir-nondir] [--owner UID:GID] [--allow-devices] [--allow-absolute]
 *          [--max-bytes N] [--max-entries N] <root> <dir>
 *                                       extracts the tar on stdin into <dir>
 *   walk <root>                         NUL-terminated records "<k> <path>" for every entry below root:
 *                                       k = d dir, o opaque dir, w whiteout, f anything else
 *
 * Every one first makes <root> the process's root directory (chroot, after chdir into it), as
 * dockerd does for the same operations: every path, every symlink (absolute or with ".."), and any
 * symlink a container process swaps in while we work resolves inside the container's filesystem.
 * Nothing from the container is executed or loaded (no NSS, no decompressors: CVE-2019-14271), and
 * no file descriptor to anything outside the root is kept across the chroot.
 * Tar entries that would land above the extraction directory ("..", links climbing out) are refused
 * before anything is written for them (CVE-2018-15664 class; moby's breakout checks).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "helper.h"

#define BLK 512

/* snprintf into a PATH_MAX buffer; a path that does not fit is an error, never silently cut. */
static void pathf(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pathf(char *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX)
		die(EXIT_ERR, "path too long");
}

/*
 * <root> is a directory, or "DEV:INO@/proc/PID/root" for a running container's own view (its
 * volumes and bind mounts included): the directory must then be the one with that device and
 * inode, so a PID reused by another process after the container exited is refused.
 */
static void enter_root(const char *spec)
{
	const char *root = spec;
	unsigned long long want_dev = 0, want_ino = 0;
	int check = spec[0] != '/';
	if (check) {
		const char *at = strchr(spec, '@');
		if (!at || sscanf(spec, "%llu:%llu@", &want_dev, &want_ino) != 2)
			die(EXIT_ERR, "bad root %s", spec);
		root = at + 1;
	}
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die(errno == ENOENT ? EXIT_NOTFOUND : EXIT_ERR, "root %s: %s", root, strerror(errno));
	struct stat st;
	if (check && (fstat(fd, &st) < 0 || (unsigned long long)st.st_dev != want_dev || (unsigned long long)st.st_ino != want_ino))
		die(EXIT_ERR, "root %s is no longer the container's (it exited)", root);
	if (fchdir(fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		die(EXIT_ERR, "enter root %s: %s", root, strerror(errno));
	close(fd);
}

/* ---------- output buffer ---------- */

static char obuf[1 << 16];
static size_t olen;

static void oflush(void)
{
	size_t off = 0;
	while (off < olen) {
		ssize_t n = write(1, obuf + off, olen - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die(EXIT_ERR, "write: %s", strerror(errno)); /* the reader went away */
		off += (size_t)n;
	}
	olen = 0;
}

static void owrite(const void *p, size_t len)
{
	const char *s = p;
	while (len > 0) {
		size_t room = sizeof(obuf) - olen, k = len < room ? len : room;
		memcpy(obuf + olen, s, k);
		olen += k, s += k, len -= k;
		if (olen == sizeof(obuf))
			oflush();
	}
}

/* ---------- path-stat ---------- */

/* The ultimate target of a symlink, resolved in the root; as far as it goes for a broken one. */
static void link_target(const char *path, char *out)
{
	char cur[PATH_MAX], tgt[PATH_MAX];
	pathf(cur, "%s", path);
	for (int i = 0; i < 40; i++) {
		struct stat st;
		if (lstat(cur, &st) < 0 || !S_ISLNK(st.st_mode))
			break;
		ssize_t n = readlink(cur, tgt, sizeof(tgt) - 1);
		if (n < 0)
			break;
		tgt[n] = '\0';
		if (tgt[0] == '/') {
			pathf(cur, "%s", tgt);
		} else {
			char *slash = strrchr(cur, '/');
			if (slash)
				slash[1] = '\0';
			else
				cur[0] = '\0';
			size_t l = strlen(cur);
			snprintf(cur + l, sizeof(cur) - l, "%s", tgt);
		}
	}
	if (realpath(cur, out) != NULL)
		return;
	/* Broken link: resolve the parent, keep the last name. */
	char dir[PATH_MAX], *slash;
	pathf(dir, "%s", cur);
	slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : dir;
	if (slash)
		*slash = '\0';
	char rdir[PATH_MAX];
	if (realpath(dir[0] ? dir : "/", rdir) == NULL)
		pathf(rdir, "%s", dir);
	pathf(out, "%s/%s", strcmp(rdir, "/") == 0 ? "" : rdir, base);
}

int cmd_path_stat(int argc, char **argv)
{
	if (argc != 2)
		die(EXIT_ERR, "usage: path-stat <root> <path>");
	const char *path = argv[1];
	enter_root(argv[0]);
	struct stat st;
	if (lstat(path, &st) < 0)
		die(errno == ENOENT || errno == ENOTDIR ? EXIT_NOTFOUND : EXIT_ERR, "stat %s: %s", path, strerror(errno));
	char target[PATH_MAX] = "";
	if (S_ISLNK(st.st_mode))
		link_target(path, target);
	char copy[PATH_MAX];
	pathf(copy, "%s", path);
	size_t l = strlen(copy);
	while (l > 1 && copy[l - 1] == '/')
		copy[--l] = '\0';
	const char *slash = strrchr(copy, '/'), *name = slash && slash[1] ? slash + 1 : copy;
	printf("%s\t%lld\t%o\t%lld.%09ld\t%s\n", name, (long long)st.st_size, st.st_mode, (long long)st.st_mtim.tv_sec,
	       st.st_mtim.tv_nsec, target);
	return fflush(stdout) == 0 ? 0 : EXIT_ERR;
}

/* ---------- tar writing ---------- */

struct pax {
	char buf[8192];
	size_t len;
};

static void pax_add(struct pax *p, const char *key, const char *val, size_t vlen)
{
	/* "<len> key=value\n" where <len> counts itself. */
	size_t body = strlen(key) + vlen + 3, total = body + 1;
	while (snprintf(NULL, 0, "%zu", total) + body != total)
		total++;
	if (p->len + total > sizeof(p->buf))
		die(EXIT_ERR, "tar: extended header too large for %s", key);
	int n = snprintf(p->buf + p->len, sizeof(p->buf) - p->len, "%zu %s=", total, key);
	p->len += (size_t)n;
	memcpy(p->buf + p->len, val, vlen);
	p->len += vlen;
	p->buf[p->len++] = '\n';
}

static void octal(char *field, size_t width, unsigned long long v)
{
	/* width-1 zero-padded octal digits and a NUL; callers keep v within them. */
	field[width - 1] = '\0';
	for (size_t i = width - 1; i-- > 0; v >>= 3)
		field[i] = (char)('0' + (v & 7));
}

static void put_header(const char *name, char type, const struct stat *st, unsigned long long size, const char *linkname)
{
	char h[BLK];
	memset(h, 0, sizeof(h));
	memcpy(h, name, strlen(name) < 100 ? strlen(name) : 99); /* a longer one is in the PAX header */
	octal(h + 100, 8, st->st_mode & 07777);
	octal(h + 108, 8, (unsigned long long)st->st_uid & 07777777);
	octal(h + 116, 8, (unsigned long long)st->st_gid & 07777777);
	octal(h + 124, 12, size < 077777777777ULL ? size : 0);
	octal(h + 136, 12, st->st_mtim.tv_sec > 0 ? (unsigned long long)st->st_mtim.tv_sec : 0);
	h[156] = type;
	if (linkname)
		memcpy(h + 157, linkname, strlen(linkname) < 100 ? strlen(linkname) : 99);
	memcpy(h + 257, "ustar\0" "00", 8);
	if (type == '3' || type == '4') {
		octal(h + 329, 8, major(st->st_rdev));
		octal(h + 337, 8, minor(st->st_rdev));
	}
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < BLK; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	h[155] = ' ';
	owrite(h, BLK);
}

static void pad(unsigned long long size)
{
	static const char zero[BLK];
	if (size % BLK)
		owrite(zero, BLK - size % BLK);
}

/* One entry: a PAX header first when a name, a link or a number does not fit ustar, or xattrs come along. */
static void emit(const char *name, char type, const struct stat *st, unsigned long long size, const char *linkname,
                 const char *cap, size_t caplen)
{
	struct pax p = {.len = 0};
	char num[32];
	if (strlen(name) >= 100)
		pax_add(&p, "path", name, strlen(name));
	if (linkname && strlen(linkname) >= 100)
		pax_add(&p, "linkpath", linkname, strlen(linkname));
	if (size >= 077777777777ULL)
		pax_add(&p, "size", num, (size_t)snprintf(num, sizeof(num), "%llu", size));
	if (st->st_uid > 07777777)
		pax_add(&p, "uid", num, (size_t)snprintf(num, sizeof(num), "%u", st->st_uid));
	if (st->st_gid > 07777777)
		pax_add(&p, "gid", num, (size_t)snprintf(num, sizeof(num), "%u", st->st_gid));
	if (cap)
		pax_add(&p, "SCHILY.xattr.security.capability", cap, caplen);
	if (p.len > 0) {
		struct stat ps = {.st_mode = 0644, .st_mtim = st->st_mtim};
		put_header("././@PaxHeader", 'x', &ps, p.len, NULL);
		owrite(p.buf, p.len);
		pad(p.len);
	}
	put_header(name, type, st, size, linkname);
}

struct seen {
	dev_t dev;
	ino_t ino;
	char *name;
};
static struct seen *seen;
static size_t nseen, capseen;
static int whiteouts;

static const char *hardlink_of(const struct stat *st, const char *name)
{
	for (size_t i = 0; i < nseen; i++)
		if (seen[i].dev == st->st_dev && seen[i].ino == st->st_ino)
			return seen[i].name;
	if (nseen == capseen) {
		capseen = capseen ? capseen * 2 : 64;
		seen = realloc(seen, capseen * sizeof(*seen));
		if (!seen)
			die(EXIT_ERR, "out of memory");
	}
	seen[nseen++] = (struct seen){st->st_dev, st->st_ino, strdup(name)};
	return NULL;
}

static void join(char *out, const char *prefix, const char *name)
{
	if (prefix[0])
		pathf(out, "%s/%s", prefix, name);
	else
		pathf(out, "%s", name);
}

static void copy_file(int fd, unsigned long long size, const char *name)
{
	static char buf[1 << 16];
	unsigned long long left = size;
	while (left > 0) {
		ssize_t n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(EXIT_ERR, "read %s: %s", name, strerror(errno));
		if (n == 0) { /* shrank while we read it: pad with zeros, the header is written */
			memset(buf, 0, sizeof(buf));
			while (left > 0) {
				size_t k = left < sizeof(buf) ? left : sizeof(buf);
				owrite(buf, k);
				left -= k;
			}
			break;
		}
		owrite(buf, (size_t)n);
		left -= (unsigned long long)n;
	}
	pad(size);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void add_entry(int dirfd, const char *name, const char *tarname);

/* Children of an open directory, sorted (as Go's filepath.Walk does). */
static void add_children(int fd, const char *tarname)
{
	DIR *d = fdopendir(fd);
	if (!d)
		die(EXIT_ERR, "opendir %s: %s", tarname, strerror(errno));
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == cap && !(names = realloc(names, (cap = cap ? cap * 2 : 32) * sizeof(char *))))
			die(EXIT_ERR, "out of memory");
		names[n++] = strdup(e->d_name);
	}
	qsort(names, n, sizeof(char *), cmp_names);
	for (size_t i = 0; i < n; i++) {
		char child[PATH_MAX];
		join(child, tarname, names[i]);
		add_entry(dirfd(d), names[i], child);
		free(names[i]);
	}
	free(names);
	closedir(d);
}

/* Adds dirfd/name (never following it if it is a symlink) as tarname. A vanished entry is skipped. */
static void add_entry(int dirfd, const char *name, const char *tarname)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return;
		die(EXIT_ERR, "lstat %s: %s", tarname, strerror(errno));
	}
	if (S_ISDIR(st.st_mode)) {
		/* O_NOFOLLOW: a directory swapped for a symlink since the lstat is skipped, not followed. */
		int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
				return;
			die(EXIT_ERR, "open %s: %s", tarname, strerror(errno));
		}
		if (fstat(fd, &st) < 0)
			die(EXIT_ERR, "stat %s: %s", tarname, strerror(errno));
		int opaque = 0;
		if (whiteouts) {
			char v[4];
			ssize_t n = fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v));
			opaque = n == 1 && v[0] == 'y';
		}
		if (tarname[0]) {
			char dn[PATH_MAX];
			pathf(dn, "%s/", tarname);
			emit(dn, '5', &st, 0, NULL, NULL, 0);
			if (opaque) {
				char wh[PATH_MAX];
				pathf(wh, "%s/.wh..wh..opq", tarname);
				struct stat ws = st;
				ws.st_mode = S_IFREG | (st.st_mode & 0777);
				emit(wh, '0', &ws, 0, NULL, NULL, 0);
			}
		}
		add_children(fd, tarname);
		return;
	}
	if (S_ISREG(st.st_mode)) {
		/* O_NONBLOCK: a fifo swapped in must not hang us; fstat decides what we really opened. */
		int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT || errno == ELOOP)
				return;
			die(EXIT_ERR, "open %s: %s", tarname, strerror(errno));
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return;
		}
		const char *first = st.st_nlink > 1 ? hardlink_of(&st, tarname) : NULL;
		if (first) {
			emit(tarname, '1', &st, 0, first, NULL, 0);
		} else {
			char cap[256];
			ssize_t caplen = fgetxattr(fd, "security.capability", cap, sizeof(cap));
			emit(tarname, '0', &st, (unsigned long long)st.st_size, NULL, caplen > 0 ? cap : NULL, caplen > 0 ? (size_t)caplen : 0);
			copy_file(fd, (unsigned long long)st.st_size, tarname);
		}
		close(fd);
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return;
		target[n] = '\0';
		emit(tarname, '2', &st, 0, target, NULL, 0);
		return;
	}
	if (S_ISCHR(st.st_mode) && whiteouts && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0) {
		/* An overlay whiteout: the layer format's .wh.<name>. */
		char wh[PATH_MAX], dir[PATH_MAX];
		pathf(dir, "%s", tarname);
		char *slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
			pathf(wh, "%s/.wh.%s", dir, slash + 1);
		} else {
			pathf(wh, ".wh.%s", dir);
		}
		struct stat ws = st;
		ws.st_mode = S_IFREG;
		emit(wh, '0', &ws, 0, NULL, NULL, 0);
		return;
	}
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
		const char *first = st.st_nlink > 1 ? hardlink_of(&st, tarname) : NULL;
		if (first)
			emit(tarname, '1', &st, 0, first, NULL, 0);
		else
			emit(tarname, S_ISCHR(st.st_mode) ? '3' : S_ISBLK(st.st_mode) ? '4' : '6', &st, 0, NULL, NULL, 0);
	}
	/* Sockets are skipped, as dockerd does. */
}

int cmd_tar_out(int argc, char **argv)
{
	int i = 0;
	if (i < argc && strcmp(argv[i], "--whiteouts") == 0)
		whiteouts = 1, i++;
	if (argc - i != 3)
		die(EXIT_ERR, "usage: tar-out [--whiteouts] <root> <path> <name>");
	const char *path = argv[i + 1], *name = argv[i + 2];
	enter_root(argv[i]);
	/* The parent is resolved in the root (symlinks included); the last component is not followed. */
	char dir[PATH_MAX], base[PATH_MAX];
	pathf(dir, "%s", path);
	size_t l = strlen(dir);
	while (l > 1 && dir[l - 1] == '/')
		dir[--l] = '\0';
	char *slash = strrchr(dir, '/');
	if (strcmp(dir, "/") == 0) {
		pathf(base, ".");
	} else if (slash) {
		pathf(base, "%s", slash + 1);
		if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
	} else {
		pathf(base, "%s", dir);
		pathf(dir, ".");
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		die(errno == ENOENT || errno == ENOTDIR ? EXIT_NOTFOUND : EXIT_ERR, "open %s: %s", dir, strerror(errno));
	struct stat st;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		die(errno == ENOENT ? EXIT_NOTFOUND : EXIT_ERR, "stat %s: %s", path, strerror(errno));
	if (name[0] == '\0' && S_ISDIR(st.st_mode)) {
		int fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			die(EXIT_ERR, "open %s: %s", path, strerror(errno));
		add_children(fd, "");
	} else {
		add_entry(dfd, base, name[0] ? name : base);
	}
	static const char end[2 * BLK];
	owrite(end, sizeof(end));
	oflush();
	return 0;
}

/* ---------- walk ---------- */

static void walk_dir(int fd, const char *rel)
{
	DIR *d = fdopendir(fd);
	if (!d)
		die(EXIT_ERR, "opendir %s: %s", rel, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char path[PATH_MAX];
		join(path, rel, e->d_name);
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		char kind = 'f';
		int cfd = -1;
		if (S_ISDIR(st.st_mode)) {
			cfd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0)
				continue;
			char v[4];
			kind = fgetxattr(cfd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y' ? 'o' : 'd';
		} else if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0) {
			kind = 'w';
		}
		char rec[PATH_MAX + 4];
		int n = snprintf(rec, sizeof(rec), "%c %s", kind, path);
		owrite(rec, (size_t)n + 1);
		if (cfd >= 0)
			walk_dir(cfd, path);
	}
	closedir(d);
}

int cmd_walk(int argc, char **argv)
{
	if (argc != 1)
		die(EXIT_ERR, "usage: walk <root>");
	enter_root(argv[0]);
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die(EXIT_ERR, "open root: %s", strerror(errno));
	walk_dir(fd, "");
	oflush();
	return 0;
}

/* ---------- tar reading ---------- */

static int read_full(void *p, size_t len)
{
	char *s = p;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(0, s + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(EXIT_ERR, "read archive: %s", strerror(errno));
		if (n == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)n;
	}
	return 1;
}

/*
 * A numeric header field: octal (spaces and NULs around it), or base-256 when the top bit of its
 * first byte is set. A negative or over-63-bit base-256 value is refused, as Go's archive/tar
 * does, so no size or id later wraps around.
 */
static unsigned long long number(const char *f, size_t width)
{
	if ((unsigned char)f[0] & 0x80) { /* base-256 */
		if ((unsigned char)f[0] != 0x80)
			die(EXIT_UNSAFE, "archive/tar: invalid tar header");
		unsigned long long v = 0;
		for (size_t i = 1; i < width; i++) {
			if (v >> 55)
				die(EXIT_UNSAFE, "archive/tar: invalid tar header");
			v = (v << 8) | (unsigned char)f[i];
		}
		return v;
	}
	unsigned long long v = 0;
	size_t i = 0;
	while (i < width && (f[i] == ' ' || f[i] == '\0'))
		i++;
	for (; i < width && f[i] >= '0' && f[i] <= '7'; i++)
		v = v * 8 + (unsigned long long)(f[i] - '0'); /* at most 11 digits: no overflow */
	return v;
}

/* A PAX numeric value (size, uid, gid): plain decimal digits, at most 18 of them (< 2^63). */
static long long pax_number(const char *val, size_t vlen)
{
	if (vlen == 0 || vlen > 18)
		die(EXIT_UNSAFE, "archive/tar: invalid tar header");
	long long v = 0;
	for (size_t i = 0; i < vlen; i++) {
		if (val[i] < '0' || val[i] > '9')
			die(EXIT_UNSAFE, "archive/tar: invalid tar header");
		v = v * 10 + (val[i] - '0');
	}
	return v;
}

/*
 * One PAX record, "<length> <key>=<value>\n", at p with `avail` bytes left in the header.
 * The length counts the whole record and is checked against `avail` before anything after the
 * digits is looked at; key and value are searched only inside the record. The key is NUL-
 * terminated in place (over the '='). Returns the record's length; a malformed record is refused
 * (Go's parsePAXRecord: dockerd's wording).
 */
static size_t pax_record(char *p, size_t avail, char **key, char **val, size_t *vlen)
{
	size_t len = 0, i = 0;
	for (; i < avail && p[i] >= '0' && p[i] <= '9'; i++) {
		if (i == 18)
			die(EXIT_UNSAFE, "archive/tar: invalid tar header");
		len = len * 10 + (size_t)(p[i] - '0');
	}
	if (i == 0 || i >= avail || p[i] != ' ' || len > avail || len < i + 4 || p[len - 1] != '\n')
		die(EXIT_UNSAFE, "archive/tar: invalid tar header");
	char *k = p + i + 1, *nl = p + len - 1; /* k < nl: len >= digits + " k=\n" */
	char *eq = memchr(k, '=', (size_t)(nl - k));
	if (!eq || eq == k || memchr(k, '\0', (size_t)(eq - k)))
		die(EXIT_UNSAFE, "archive/tar: invalid tar header");
	*eq = '\0';
	*key = k;
	*val = eq + 1;
	*vlen = (size_t)(nl - *val);
	return len;
}

static char *read_blob(unsigned long long size)
{
	if (size > (1 << 20))
		die(EXIT_UNSAFE, "archive: extended header of %llu bytes is too large", size);
	size_t padded = (size_t)((size + BLK - 1) / BLK * BLK);
	char *b = malloc(padded + 1);
	if (!b || (padded && read_full(b, padded) != 1))
		die(EXIT_UNSAFE, "archive: unexpected end of archive");
	b[size] = '\0';
	return b;
}

static void skip_data(unsigned long long size)
{
	char buf[BLK];
	for (unsigned long long n = (size + BLK - 1) / BLK; n > 0; n--)
		if (read_full(buf, BLK) != 1)
			die(EXIT_UNSAFE, "archive: unexpected end of archive");
}

struct entry {
	char name[PATH_MAX], link[PATH_MAX];
	char type;
	unsigned long long size, uid, gid, mode, dmaj, dmin;
	long long mtime;
	char cap[256];
	ssize_t caplen;
};

/*
 * The cleaned, relative form of an entry name ("/a/./b/" -> "a/b", "." -> ""); -1 when ".."
 * would climb above the extraction directory. An absolute name is taken relative to it, as
 * dockerd's filepath.Join(dest, name) does.
 */
static int clean_name(const char *in, char *out)
{
	char tmp[PATH_MAX];
	pathf(tmp, "%s", in);
	char *comps[PATH_MAX / 2];
	int n = 0;
	for (char *save = NULL, *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			if (n == 0)
				return -1;
			n--;
			continue;
		}
		comps[n++] = c;
	}
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(out, "/");
		strcat(out, comps[i]);
	}
	return 0;
}

/* Does a relative symlink target, seen from the directory of entry `name`, climb above the extraction dir? */
static int link_escapes(const char *name, const char *target)
{
	if (target[0] == '/')
		return 0; /* absolute: resolved in the container's root, like everything else */
	int depth = 0;
	for (const char *p = name; *p; p++)
		depth += *p == '/';
	char tmp[PATH_MAX];
	pathf(tmp, "%s", target);
	for (char *save = NULL, *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, "..") == 0) {
			if (--depth < 0)
				return 1;
		} else if (strcmp(c, ".") != 0) {
			depth++;
		}
	}
	return 0;
}

/* mkdir -p of the parents of rel (relative to the cwd, the extraction dir). */
static void make_parents(const char *rel)
{
	char tmp[PATH_MAX];
	pathf(tmp, "%s", rel);
	for (char *p = tmp; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			die(EXIT_ERR, "mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
}

/*
 * What tar-in accepts. By default the layer extractor's policy (src/image/layer-apply.ts): caps on
 * the bytes of regular files and on the number of entries, device nodes skipped, absolute names
 * refused. `docker cp` and ADD widen it to dockerd's behaviour (--allow-devices, --allow-absolute:
 * an absolute name is taken relative to the extraction directory, as filepath.Join does).
 */
struct policy {
	int no_overwrite, allow_devices, allow_absolute;
	long long own_uid, own_gid;
	unsigned long long max_bytes, max_entries;
};

/* The defaults of src/image/layer-apply.ts (DEFAULT_MAX_LAYER_BYTES, DEFAULT_MAX_LAYER_ENTRIES). */
#define DEFAULT_MAX_BYTES (64ULL << 30)
#define DEFAULT_MAX_ENTRIES 1000000ULL

/* What PAX and GNU long-name headers say about the entry that follows them. */
struct pending {
	char path[PATH_MAX], link[PATH_MAX];
	long long size, uid, gid;
	char cap[256];
	ssize_t caplen;
};

static void pending_reset(struct pending *p)
{
	p->path[0] = p->link[0] = '\0';
	p->size = p->uid = p->gid = -1;
	p->caplen = -1;
}

struct dirtime {
	char *path;
	long long mtime;
};

/* Directories whose times are set last, once their children stop changing them. */
struct dirtimes {
	struct dirtime *v;
	size_t n, cap;
};

static void remember_dir(struct dirtimes *d, const char *path, long long mtime)
{
	if (d->n == d->cap && !(d->v = realloc(d->v, (d->cap = d->cap ? d->cap * 2 : 64) * sizeof(*d->v))))
		die(EXIT_ERR, "out of memory");
	d->v[d->n++] = (struct dirtime){strdup(path), mtime};
}

static unsigned long long parse_count(const char *opt, const char *v)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-')
		die(EXIT_ERR, "tar-in: bad %s %s", opt, v);
	return n;
}

/* Parses the options; returns the index of <root>. */
static int parse_tar_in_args(int argc, char **argv, struct policy *pol)
{
	*pol = (struct policy){.own_uid = -1, .own_gid = -1, .max_bytes = DEFAULT_MAX_BYTES, .max_entries = DEFAULT_MAX_ENTRIES};
	int i = 0;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--no-overwrite-dir-nondir") == 0)
			pol->no_overwrite = 1;
		else if (strcmp(argv[i], "--allow-devices") == 0)
			pol->allow_devices = 1;
		else if (strcmp(argv[i], "--allow-absolute") == 0)
			pol->allow_absolute = 1;
		else if (strcmp(argv[i], "--owner") == 0 && next && sscanf(next, "%lld:%lld", &pol->own_uid, &pol->own_gid) == 2)
			i++;
		else if (strcmp(argv[i], "--max-bytes") == 0 && next)
			pol->max_bytes = parse_count(argv[i], next), i++;
		else if (strcmp(argv[i], "--max-entries") == 0 && next)
			pol->max_entries = parse_count(argv[i], next), i++;
		else
			die(EXIT_ERR, "tar-in: bad option %s", argv[i]);
	}
	if (argc - i != 2)
		die(EXIT_ERR, "usage: tar-in [--no-overwrite-dir-nondir] [--owner UID:GID] [--allow-devices] [--allow-absolute] "
			      "[--max-bytes N] [--max-entries N] <root> <dir>");
	return i;
}

/*
 * Reads the next header block into h, checksum verified. Returns 0 at the end of the archive (two
 * zero blocks, or the end of the stream between entries).
 */
static int next_header(char *h)
{
	for (int zeros = 0;;) {
		int r = read_full(h, BLK);
		if (r == 0)
			return 0;
		if (r < 0)
			die(EXIT_UNSAFE, "archive: unexpected end of archive");
		int all_zero = 1;
		for (int k = 0; k < BLK && all_zero; k++)
			all_zero = h[k] == 0;
		if (!all_zero)
			break;
		if (++zeros == 2)
			return 0;
	}
	unsigned sum = 0;
	for (int k = 0; k < BLK; k++)
		sum += (k >= 148 && k < 156) ? ' ' : (unsigned char)h[k];
	if (sum != number(h + 148, 8))
		die(EXIT_UNSAFE, "archive/tar: invalid tar header");
	return 1;
}

static void parse_header(const char *h, struct entry *e)
{
	memset(e, 0, sizeof(*e));
	e->type = h[156] ? h[156] : '0';
	e->size = number(h + 124, 12);
	e->mode = number(h + 100, 8);
	e->uid = number(h + 108, 8);
	e->gid = number(h + 116, 8);
	e->mtime = (long long)number(h + 136, 12);
	e->dmaj = number(h + 329, 8);
	e->dmin = number(h + 337, 8);
	if (memcmp(h + 257, "ustar", 5) == 0 && h[345])
		pathf(e->name, "%.155s/%.100s", h + 345, h);
	else
		pathf(e->name, "%.100s", h);
	pathf(e->link, "%.100s", h + 157);
}

/* The records of a PAX extended header ('x'; a global 'g' is read and ignored). */
static void read_pax(const struct entry *e, struct pending *pend)
{
	char *b = read_blob(e->size), *p = b, *end = b + e->size;
	while (e->type == 'x' && p < end) {
		char *key, *val;
		size_t vlen;
		p += pax_record(p, (size_t)(end - p), &key, &val, &vlen);
		int is_path = strcmp(key, "path") == 0, is_link = strcmp(key, "linkpath") == 0;
		/* A NUL would silently cut a name short (Go's validPAXRecord refuses it too). */
		if ((is_path || is_link) && memchr(val, '\0', vlen))
			die(EXIT_UNSAFE, "archive/tar: invalid tar header");
		if (is_path)
			pathf(pend->path, "%.*s", (int)vlen, val);
		else if (is_link)
			pathf(pend->link, "%.*s", (int)vlen, val);
		else if (strcmp(key, "size") == 0)
			pend->size = pax_number(val, vlen);
		else if (strcmp(key, "uid") == 0)
			pend->uid = pax_number(val, vlen);
		else if (strcmp(key, "gid") == 0)
			pend->gid = pax_number(val, vlen);
		else if (strcmp(key, "SCHILY.xattr.security.capability") == 0 && vlen <= sizeof(pend->cap))
			memcpy(pend->cap, val, vlen), pend->caplen = (ssize_t)vlen;
	}
	free(b);
}

/* The entry as the headers before it amend it; the pending values are used up. */
static void apply_pending(struct entry *e, struct pending *pend)
{
	if (pend->path[0])
		pathf(e->name, "%s", pend->path);
	if (pend->link[0])
		pathf(e->link, "%s", pend->link);
	if (pend->size >= 0)
		e->size = (unsigned long long)pend->size;
	if (pend->uid >= 0)
		e->uid = (unsigned long long)pend->uid;
	if (pend->gid >= 0)
		e->gid = (unsigned long long)pend->gid;
	e->caplen = pend->caplen;
	if (pend->caplen > 0)
		memcpy(e->cap, pend->cap, (size_t)pend->caplen);
	pending_reset(pend);
}

/*
 * Checks the entry's names against the policy and the extraction directory; returns the cleaned
 * relative name in rel (and the cleaned hardlink target in e->link).
 */
static void check_names(struct entry *e, const struct policy *pol, const char *dest, char *rel)
{
	if (e->name[0] == '/' && !pol->allow_absolute)
		die(EXIT_UNSAFE, "invalid tar entry name \"%s\": absolute path", e->name);
	if (clean_name(e->name, rel) < 0)
		die(EXIT_UNSAFE, "\"%s\" is outside of \"%s\"", e->name, dest);
	if (e->type == '1') {
		char t[PATH_MAX];
		if ((e->link[0] == '/' && !pol->allow_absolute) || clean_name(e->link, t) < 0 || t[0] == '\0')
			die(EXIT_UNSAFE, "invalid hardlink \"%s\" -> \"%s\"", e->link, e->name);
		pathf(e->link, "%s", t);
	}
	if (e->type == '2' && link_escapes(rel, e->link))
		die(EXIT_UNSAFE, "invalid symlink \"%s\" -> \"%s\"", e->name, e->link);
}

/* A regular file's bytes from the archive into `rel` (created: nothing is there any more). */
static void write_file(const char *rel, const struct entry *e, uid_t uid, gid_t gid, const struct timespec *ts)
{
	int fd = open(rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		die(EXIT_ERR, "create %s: %s", rel, strerror(errno));
	static char buf[1 << 16];
	unsigned long long left = e->size;
	while (left > 0) {
		size_t want = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		size_t chunk = (want + BLK - 1) / BLK * BLK;
		if (read_full(buf, chunk) != 1)
			die(EXIT_UNSAFE, "archive: unexpected end of archive");
		for (size_t off = 0; off < want;) {
			ssize_t n = write(fd, buf + off, want - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die(EXIT_ERR, "write %s: %s", rel, strerror(errno));
			off += (size_t)n;
		}
		left -= want;
	}
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, (mode_t)(e->mode & 07777)) < 0)
		die(EXIT_ERR, "%s: %s", rel, strerror(errno));
	if (e->caplen > 0)
		fsetxattr(fd, "security.capability", e->cap, (size_t)e->caplen, 0);
	futimens(fd, ts);
	close(fd);
}

/* Makes what a (non-file) entry describes at rel; its data, if any, is still to be skipped. */
static void make_node(const char *rel, const struct entry *e, uid_t uid, gid_t gid, const struct timespec *ts,
		      struct dirtimes *dirs)
{
	switch (e->type) {
	case '5':
		if (mkdir(rel, 0700) < 0 && errno != EEXIST)
			die(EXIT_ERR, "mkdir %s: %s", rel, strerror(errno));
		if (lchown(rel, uid, gid) < 0 || fchmodat(AT_FDCWD, rel, (mode_t)(e->mode & 07777), 0) < 0)
			die(EXIT_ERR, "%s: %s", rel, strerror(errno));
		remember_dir(dirs, rel, e->mtime);
		break;
	case '2':
		if (symlink(e->link, rel) < 0)
			die(EXIT_ERR, "symlink %s: %s", rel, strerror(errno));
		lchown(rel, uid, gid);
		utimensat(AT_FDCWD, rel, ts, AT_SYMLINK_NOFOLLOW);
		break;
	case '1':
		/* linkat without AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself. */
		if (linkat(AT_FDCWD, e->link, AT_FDCWD, rel, 0) < 0)
			die(errno == ENOENT ? EXIT_UNSAFE : EXIT_ERR, "hardlink %s -> %s: %s", rel, e->link, strerror(errno));
		break;
	default: {
		mode_t type = e->type == '3' ? S_IFCHR : e->type == '4' ? S_IFBLK : S_IFIFO;
		if (mknod(rel, type | (mode_t)(e->mode & 07777), makedev(e->dmaj, e->dmin)) < 0)
			die(EXIT_ERR, "mknod %s: %s", rel, strerror(errno));
		lchown(rel, uid, gid);
		utimensat(AT_FDCWD, rel, ts, AT_SYMLINK_NOFOLLOW);
	}
	}
}

/* Clears the way for an entry at rel: an existing directory stays for a directory entry. */
static void clear_path(const char *rel, const struct entry *e, const struct policy *pol, const char *dest)
{
	struct stat cur;
	if (lstat(rel, &cur) < 0)
		return;
	const char *shown = strcmp(dest, "/") ? dest : "";
	if (pol->no_overwrite && S_ISDIR(cur.st_mode) && e->type != '5')
		die(EXIT_UNSAFE, "cannot overwrite directory \"%s/%s\" with non-directory \"%s\"", shown, rel, dest);
	if (pol->no_overwrite && !S_ISDIR(cur.st_mode) && e->type == '5')
		die(EXIT_UNSAFE, "cannot overwrite non-directory \"%s/%s\" with directory \"%s\"", shown, rel, dest);
	if (!(S_ISDIR(cur.st_mode) && e->type == '5') && remove_tree(AT_FDCWD, rel) < 0)
		die(EXIT_ERR, "remove %s: %s", rel, strerror(errno));
}

int cmd_tar_in(int argc, char **argv)
{
	struct policy pol;
	int i = parse_tar_in_args(argc, argv, &pol);
	const char *dest = argv[i + 1];
	enter_root(argv[i]);
	/* The extraction point, every symlink followed (the last one too), must be a directory. */
	struct stat dst;
	if (stat(dest, &dst) < 0)
		die(errno == ENOENT || errno == ENOTDIR ? EXIT_NOTFOUND : EXIT_ERR, "%s: %s", dest, strerror(errno));
	if (!S_ISDIR(dst.st_mode))
		die(EXIT_UNSAFE, "extraction point is not a directory");
	if (chdir(dest) < 0)
		die(EXIT_ERR, "chdir %s: %s", dest, strerror(errno));
	umask(0);

	struct dirtimes dirs = {0};
	struct entry e;
	struct pending pend;
	pending_reset(&pend);
	char h[BLK], rel[PATH_MAX];
	unsigned long long entries = 0, bytes = 0;
	while (next_header(h)) {
		parse_header(h, &e);
		if (e.type == 'x' || e.type == 'g') {
			read_pax(&e, &pend);
			continue;
		}
		if (e.type == 'L' || e.type == 'K') {
			char *b = read_blob(e.size);
			pathf(e.type == 'L' ? pend.path : pend.link, "%s", b);
			free(b);
			continue;
		}
		apply_pending(&e, &pend);
		if (++entries > pol.max_entries)
			die(EXIT_UNSAFE, "archive has too many entries (more than %llu)", pol.max_entries);
		/* Unknown types are skipped, as dockerd does; device nodes too unless allowed (the layer policy). */
		if (!e.type || !strchr("01234567", e.type) || ((e.type == '3' || e.type == '4') && !pol.allow_devices)) {
			skip_data(e.size);
			continue;
		}
		if (e.type != '0' && e.type != '7')
			e.size = e.type == '1' ? 0 : e.size;
		check_names(&e, &pol, dest, rel);
		uid_t uid = pol.own_uid >= 0 ? (uid_t)pol.own_uid : (uid_t)e.uid;
		gid_t gid = pol.own_gid >= 0 ? (gid_t)pol.own_gid : (gid_t)e.gid;
		struct timespec ts[2] = {{.tv_sec = e.mtime}, {.tv_sec = e.mtime}};

		if (rel[0] == '\0') {
			/* The extraction directory itself: only a directory entry, and only its metadata. */
			if (e.type == '5') {
				if (lchown(".", uid, gid) < 0 || chmod(".", (mode_t)(e.mode & 07777)) < 0)
					die(EXIT_ERR, "%s: %s", dest, strerror(errno));
				remember_dir(&dirs, ".", e.mtime);
			}
			skip_data(e.size);
			continue;
		}
		int is_file = e.type == '0' || e.type == '7';
		if (is_file && (bytes += e.size) > pol.max_bytes)
			die(EXIT_UNSAFE, "archive exceeds the maximum unpacked size (%llu bytes)", pol.max_bytes);
		make_parents(rel);
		clear_path(rel, &e, &pol, dest);
		if (is_file) {
			write_file(rel, &e, uid, gid, ts);
			continue;
		}
		make_node(rel, &e, uid, gid, ts, &dirs);
		skip_data(e.size);
	}
	/* Directory times last: their children changed them. */
	for (size_t k = dirs.n; k-- > 0;) {
		struct timespec ts[2] = {{.tv_sec = dirs.v[k].mtime}, {.tv_sec = dirs.v[k].mtime}};
		utimensat(AT_FDCWD, dirs.v[k].path, ts, AT_SYMLINK_NOFOLLOW);
	}
	return 0;
}
