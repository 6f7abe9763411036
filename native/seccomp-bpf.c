/*
 * berth-helper seccomp-bpf: compiles an OCI linux.seccomp profile to the BPF program crun 1.8.1
 * would build for it, so berthd can hand crun the result in the `run.oci.seccomp_bpf_data`
 * annotation (base64 of these bytes) and crun skips its ~15 ms libseccomp compile on every create.
 *
 * Equivalence with crun is the whole point: this mirrors libcrun_generate_seccomp() in crun's
 * src/libcrun/seccomp.c (tag 1.8.1) call for call — seccomp_init(default action), seccomp_arch_add
 * per architecture (prefix "SCMP_ARCH_" dropped, lowercased, seccomp_arch_resolve_name; EEXIST
 * ignored), rules whose action equals the default action skipped, unknown syscall names skipped,
 * seccomp_rule_add / seccomp_rule_add_array with crun's handling of repeated argument indexes, then
 * seccomp_export_bpf. crun sets no filter attributes (no seccomp_attr_set): NNP, TSYNC, LOG and
 * SPEC_ALLOW are load-time flags crun takes from linux.seccomp.flags, not part of the program.
 *
 * Input on stdin, one directive per line, fields separated by single spaces:
 *   default <SCMP_ACT_...> <errno|->          first line; "-" when defaultErrnoRet is absent
 *   arch <SCMP_ARCH_...>                       any number
 *   rule <SCMP_ACT_...> <errno|->              starts a rule (OCI syscalls[] entry)
 *   name <syscall>                             a name of the current rule
 *   arg <index> <SCMP_CMP_...> <value> <valueTwo>   an argument condition of the current rule
 * Output on stdout: the raw BPF program (struct sock_filter[], 8 bytes each); with --base64, its
 * base64 text (the form crun's annotation takes) and a newline.
 * Exit 0 ok; 1 with one "berth-helper: " line on stderr for input crun would also reject.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_LINE 4096

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;
	fputs("berth-helper: seccomp-bpf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

struct arg { uint32_t index; char op[32]; uint64_t value, value_two; };
struct rule {
	char action[64];
	int errno_present;
	uint32_t errno_ret;
	char **names;
	size_t names_len;
	struct arg *args;
	size_t args_len;
};

/* crun's get_seccomp_operator. 0 means unknown (no SCMP_CMP_* is 0). */
static unsigned long seccomp_operator(const char *name)
{
	static const struct { const char *name; unsigned long op; } ops[] = {
		{"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
		{"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
		{"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(name, ops[i].name) == 0)
			return ops[i].op;
	return 0;
}

/* crun's get_seccomp_action; *ok = 0 for an unknown name. */
static unsigned long long seccomp_action(const char *name, int errno_ret, int *ok)
{
	*ok = 1;
	if (strncmp(name, "SCMP_ACT_", 9) == 0) {
		const char *p = name + 9;
		if (strcmp(p, "ALLOW") == 0) return SCMP_ACT_ALLOW;
		if (strcmp(p, "ERRNO") == 0) return SCMP_ACT_ERRNO(errno_ret);
		if (strcmp(p, "KILL") == 0) return SCMP_ACT_KILL;
		if (strcmp(p, "LOG") == 0) return SCMP_ACT_LOG;
		if (strcmp(p, "TRAP") == 0) return SCMP_ACT_TRAP;
		if (strcmp(p, "TRACE") == 0) return SCMP_ACT_TRACE(errno_ret);
		if (strcmp(p, "KILL_PROCESS") == 0) return SCMP_ACT_KILL_PROCESS;
		if (strcmp(p, "KILL_THREAD") == 0) return SCMP_ACT_KILL_THREAD;
		if (strcmp(p, "NOTIFY") == 0) return SCMP_ACT_NOTIFY;
	}
	*ok = 0;
	return 0;
}

static int action_supports_errno(const char *action)
{
	return strcmp(action, "SCMP_ACT_ERRNO") == 0 || strcmp(action, "SCMP_ACT_TRACE") == 0;
}

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		fail("invalid %s `%s`", what, s);
	return v;
}

/* "<n>" or "-" (absent). */
static void parse_errno(const char *s, int *present, uint32_t *value)
{
	*present = strcmp(s, "-") != 0;
	*value = *present ? (uint32_t)parse_u64(s, "errno") : 0;
}

static void add_arch(scmp_filter_ctx ctx, const char *arch_name)
{
	const char *arch = arch_name;
	char lower[32] = {0};
	if (strncmp(arch, "SCMP_ARCH_", 10) == 0)
		arch += 10;
	strncpy(lower, arch, sizeof(lower) - 1);
	for (char *p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	uint32_t token = seccomp_arch_resolve_name(lower);
	if (token == 0)
		fail("unknown architecture %s", arch);
	int ret = seccomp_arch_add(ctx, token);
	if (ret < 0 && ret != -EEXIST)
		fail("adding architecture %s: %s", arch, strerror(-ret));
}

/* The body of crun's per-syscalls[] loop. */
static void add_rule(scmp_filter_ctx ctx, const struct rule *r, int default_action)
{
	int errno_ret = EPERM;
	if (r->errno_present) {
		if (!action_supports_errno(r->action))
			fail("errno value specified for action `%s`", r->action);
		errno_ret = (int)r->errno_ret;
	}
	int ok;
	int action = (int)seccomp_action(r->action, errno_ret, &ok);
	if (!ok)
		fail("invalid seccomp action `%s`", r->action);
	if (action == default_action)
		return;

	for (size_t j = 0; j < r->names_len; j++) {
		int nr = seccomp_syscall_resolve_name(r->names[j]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* crun: "unknown seccomp syscall ignored" */
		if (r->args_len == 0) {
			int ret = seccomp_rule_add(ctx, (uint32_t)action, nr, 0);
			if (ret < 0)
				fail("seccomp_rule_add `%s`: %s", r->names[j], strerror(-ret));
			continue;
		}
		struct scmp_arg_cmp cmp[6];
		uint32_t count[6] = {0};
		int multiple = 0;
		size_t k;
		for (k = 0; k < r->args_len && k < 6; k++) {
			uint32_t index = r->args[k].index;
			if (index >= 6)
				fail("invalid seccomp index %u", index);
			if (++count[index] > 1) {
				multiple = 1;
				break;
			}
		}
		for (k = 0; k < r->args_len && k < 6; k++) {
			cmp[k].arg = r->args[k].index;
			cmp[k].op = (enum scmp_compare)seccomp_operator(r->args[k].op);
			if (cmp[k].op == 0)
				fail("seccomp get operator `%s`", r->args[k].op);
			cmp[k].datum_a = r->args[k].value;
			cmp[k].datum_b = r->args[k].value_two;
		}
		/* Several conditions on one argument would AND to nothing: crun adds one rule per condition. */
		if (!multiple) {
			int ret = seccomp_rule_add_array(ctx, (uint32_t)action, nr, (unsigned)k, cmp);
			if (ret < 0)
				fail("seccomp_rule_add_array `%s`: %s", r->names[j], strerror(-ret));
		} else {
			for (size_t i = 0; i < k; i++) {
				int ret = seccomp_rule_add_array(ctx, (uint32_t)action, nr, 1, &cmp[i]);
				if (ret < 0)
					fail("seccomp_rule_add_array `%s`: %s", r->names[j], strerror(-ret));
			}
		}
	}
}

static void clear_rule(struct rule *r)
{
	for (size_t i = 0; i < r->names_len; i++)
		free(r->names[i]);
	free(r->names);
	free(r->args);
	memset(r, 0, sizeof(*r));
}

/* Splits line into at most max space-separated fields; returns the count. */
static int split(char *line, char **f, int max)
{
	int n = 0;
	for (char *save = NULL, *t = strtok_r(line, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	return n;
}

/* Writes all of buf to fd 1. */
static void write_out(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(1, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("write: %s", strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
}

/* seccomp_export_bpf only writes to an fd: export into a memfd, then print it as base64. */
static void export_base64(scmp_filter_ctx ctx)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0)
		fail("memfd_create: %s", strerror(errno));
	int ret = seccomp_export_bpf(ctx, fd);
	if (ret < 0)
		fail("seccomp_export_bpf: %s", strerror(-ret));
	off_t size = lseek(fd, 0, SEEK_END);
	unsigned char *in = malloc((size_t)size + 1);
	char *out = malloc(((size_t)size + 2) / 3 * 4 + 2);
	if (size < 0 || !in || !out)
		fail("out of memory");
	if (pread(fd, in, (size_t)size, 0) != size)
		fail("reading back the program: %s", strerror(errno));
	size_t o = 0;
	for (off_t i = 0; i < size; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < size) v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < size) v |= in[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = i + 1 < size ? tbl[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < size ? tbl[v & 63] : '=';
	}
	out[o++] = '\n';
	write_out(out, o);
	free(in);
	free(out);
	close(fd);
}

int cmd_seccomp_bpf(int argc, char **argv)
{
	int base64 = argc == 1 && strcmp(argv[0], "--base64") == 0;
	if (argc != base64)
		fail("usage: berth-helper seccomp-bpf [--base64] <profile-lines");
	char line[MAX_LINE];
	scmp_filter_ctx ctx = NULL;
	int default_action = 0, in_rule = 0;
	struct rule r = {0};
	unsigned lineno = 0;

	while (fgets(line, sizeof(line), stdin)) {
		lineno++;
		size_t len = strlen(line);
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(stdin))
			fail("line %u too long", lineno);
		if (len == 0)
			continue;
		char *f[6] = {0};
		int n = split(line, f, 6);
		if (n == 0)
			continue;
		if (!ctx) {
			if (n != 3 || strcmp(f[0], "default") != 0)
				fail("line %u: expected `default <action> <errno|->`", lineno);
			int present, ok;
			uint32_t value;
			parse_errno(f[2], &present, &value);
			int default_errno = EPERM;
			if (present) {
				if (!action_supports_errno(f[1]))
					fail("errno value specified for action `%s`", f[1]);
				default_errno = (int)value;
			}
			default_action = (int)seccomp_action(f[1], default_errno, &ok);
			if (!ok)
				fail("invalid seccomp action `%s`", f[1]);
			ctx = seccomp_init((uint32_t)default_action);
			if (!ctx)
				fail("seccomp_init failed");
		} else if (strcmp(f[0], "arch") == 0 && n == 2 && !in_rule) {
			add_arch(ctx, f[1]);
		} else if (strcmp(f[0], "rule") == 0 && n == 3) {
			if (in_rule)
				add_rule(ctx, &r, default_action);
			clear_rule(&r);
			in_rule = 1;
			if (strlen(f[1]) >= sizeof(r.action))
				fail("invalid seccomp action `%s`", f[1]);
			strcpy(r.action, f[1]);
			parse_errno(f[2], &r.errno_present, &r.errno_ret);
		} else if (strcmp(f[0], "name") == 0 && n == 2 && in_rule) {
			r.names = realloc(r.names, (r.names_len + 1) * sizeof(*r.names));
			if (!r.names || !(r.names[r.names_len] = strdup(f[1])))
				fail("out of memory");
			r.names_len++;
		} else if (strcmp(f[0], "arg") == 0 && n == 5 && in_rule) {
			r.args = realloc(r.args, (r.args_len + 1) * sizeof(*r.args));
			if (!r.args)
				fail("out of memory");
			struct arg *a = &r.args[r.args_len++];
			uint64_t index = parse_u64(f[1], "index");
			a->index = index > UINT32_MAX ? UINT32_MAX : (uint32_t)index;
			snprintf(a->op, sizeof(a->op), "%s", f[2]);
			a->value = parse_u64(f[3], "value");
			a->value_two = parse_u64(f[4], "valueTwo");
		} else {
			fail("line %u: unexpected `%s`", lineno, f[0]);
		}
	}
	if (ferror(stdin))
		fail("reading stdin: %s", strerror(errno));
	if (!ctx)
		fail("no `default` line");
	if (in_rule)
		add_rule(ctx, &r, default_action);
	clear_rule(&r);
	if (base64) {
		export_base64(ctx);
	} else {
		int ret = seccomp_export_bpf(ctx, 1);
		if (ret < 0)
			fail("seccomp_export_bpf: %s", strerror(-ret));
	}
	seccomp_release(ctx);
	return 0;
}
