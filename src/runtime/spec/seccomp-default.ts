import type { OciSeccomp, OciSeccompSyscall } from './types.ts';

/**
 * Berth's default seccomp policy. It has the same effect as Docker's default profile — deny by
 * default with EPERM, allow what ordinary programs use, keep the calls that escape or reconfigure
 * the host (namespaces, mounts, kernel keyring, modules, clocks, reboot, bpf, perf, userfaultfd,
 * io_uring) unless the matching capability was granted — but the list is our own, grouped by what
 * the calls do. Unknown names are harmless: crun and runc skip syscalls libseccomp does not know.
 */

/** Calls every container may make, grouped by subsystem. */
const ALWAYS: Readonly<Record<string, readonly string[]>> = {
  files: [
    'access', 'faccessat', 'faccessat2', 'chdir', 'fchdir', 'getcwd', 'chmod', 'fchmod', 'fchmodat', 'fchmodat2',
    'chown', 'chown32', 'fchown', 'fchown32', 'fchownat', 'lchown', 'lchown32', 'umask',
    'open', 'openat', 'openat2', 'creat', 'close', 'close_range', 'dup', 'dup2', 'dup3', 'fcntl', 'fcntl64',
    'read', 'readv', 'pread64', 'preadv', 'preadv2', 'write', 'writev', 'pwrite64', 'pwritev', 'pwritev2',
    'lseek', '_llseek', 'sendfile', 'sendfile64', 'splice', 'tee', 'vmsplice', 'copy_file_range', 'readahead',
    'stat', 'stat64', 'lstat', 'lstat64', 'fstat', 'fstat64', 'fstatat64', 'newfstatat', 'statx',
    'statfs', 'statfs64', 'fstatfs', 'fstatfs64', 'getdents', 'getdents64',
    'mkdir', 'mkdirat', 'rmdir', 'mknod', 'mknodat', 'link', 'linkat', 'symlink', 'symlinkat',
    'unlink', 'unlinkat', 'rename', 'renameat', 'renameat2', 'readlink', 'readlinkat',
    'truncate', 'truncate64', 'ftruncate', 'ftruncate64', 'fallocate', 'fadvise64', 'fadvise64_64',
    'fsync', 'fdatasync', 'sync', 'syncfs', 'sync_file_range', 'flock',
    'utime', 'utimes', 'utimensat', 'utimensat_time64', 'futimesat',
    'getxattr', 'lgetxattr', 'fgetxattr', 'setxattr', 'lsetxattr', 'fsetxattr', 'listxattr', 'llistxattr',
    'flistxattr', 'removexattr', 'lremovexattr', 'fremovexattr',
    'getxattrat', 'setxattrat', 'listxattrat', 'removexattrat',
    'inotify_init', 'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch', 'fanotify_mark',
    'name_to_handle_at', 'ioctl',
  ],
  aio: ['io_setup', 'io_destroy', 'io_submit', 'io_cancel', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64'],
  polling: [
    'select', '_newselect', 'pselect6', 'pselect6_time64', 'poll', 'ppoll', 'ppoll_time64',
    'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_wait', 'epoll_wait_old',
    'epoll_pwait', 'epoll_pwait2', 'eventfd', 'eventfd2', 'signalfd', 'signalfd4',
    'timerfd_create', 'timerfd_settime', 'timerfd_settime64', 'timerfd_gettime', 'timerfd_gettime64',
    'pipe', 'pipe2',
  ],
  memory: [
    'brk', 'mmap', 'mmap2', 'munmap', 'mremap', 'mprotect', 'madvise', 'mincore', 'msync',
    'mlock', 'mlock2', 'mlockall', 'munlock', 'munlockall', 'remap_file_pages',
    'memfd_create', 'memfd_secret', 'membarrier', 'pkey_alloc', 'pkey_free', 'pkey_mprotect',
    'map_shadow_stack', 'mseal', 'cachestat',
  ],
  processes: [
    'fork', 'vfork', 'execve', 'execveat', 'exit', 'exit_group', 'wait4', 'waitid', 'waitpid',
    'getpid', 'getppid', 'gettid', 'getpgid', 'setpgid', 'getpgrp', 'getsid', 'setsid',
    'getpriority', 'setpriority', 'sched_yield', 'sched_getaffinity', 'sched_setaffinity',
    'sched_getattr', 'sched_setattr', 'sched_getparam', 'sched_setparam', 'sched_getscheduler',
    'sched_setscheduler', 'sched_get_priority_max', 'sched_get_priority_min', 'sched_rr_get_interval',
    'sched_rr_get_interval_time64', 'ioprio_get', 'ioprio_set', 'getcpu',
    'prctl', 'arch_prctl', 'set_tid_address', 'set_thread_area', 'get_thread_area',
    'set_robust_list', 'get_robust_list', 'rseq', 'restart_syscall', 'seccomp',
    'getrlimit', 'ugetrlimit', 'setrlimit', 'prlimit64', 'getrusage', 'times', 'sysinfo', 'uname',
    'capget', 'capset', 'pidfd_open', 'pidfd_send_signal', 'process_mrelease',
    'landlock_create_ruleset', 'landlock_add_rule', 'landlock_restrict_self',
  ],
  credentials: [
    'getuid', 'getuid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getegid', 'getegid32',
    'getresuid', 'getresuid32', 'getresgid', 'getresgid32', 'getgroups', 'getgroups32',
    'setuid', 'setuid32', 'setgid', 'setgid32', 'setreuid', 'setreuid32', 'setregid', 'setregid32',
    'setresuid', 'setresuid32', 'setresgid', 'setresgid32', 'setfsuid', 'setfsuid32', 'setfsgid',
    'setfsgid32', 'setgroups', 'setgroups32',
  ],
  signals: [
    'kill', 'tkill', 'tgkill', 'pause', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigpending', 'rt_sigreturn',
    'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_sigqueueinfo', 'rt_tgsigqueueinfo',
    'sigaltstack', 'sigprocmask', 'sigreturn',
  ],
  time: [
    'time', 'gettimeofday', 'clock_gettime', 'clock_gettime64', 'clock_getres', 'clock_getres_time64',
    'clock_nanosleep', 'clock_nanosleep_time64', 'nanosleep', 'alarm', 'getitimer', 'setitimer',
    'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64',
    'timer_settime', 'timer_settime64',
    // adjtimex/clock_adjtime only read the clock without CAP_SYS_TIME; the kernel checks writes.
    'adjtimex', 'clock_adjtime', 'clock_adjtime64',
  ],
  futex: ['futex', 'futex_time64', 'futex_waitv', 'futex_wait', 'futex_wake', 'futex_requeue'],
  sockets: [
    'socket', 'socketpair', 'socketcall', 'bind', 'listen', 'accept', 'accept4', 'connect', 'shutdown',
    'getsockname', 'getpeername', 'getsockopt', 'setsockopt', 'send', 'sendto', 'sendmsg', 'sendmmsg',
    'recv', 'recvfrom', 'recvmsg', 'recvmmsg', 'recvmmsg_time64',
  ],
  ipc: [
    'ipc', 'msgget', 'msgsnd', 'msgrcv', 'msgctl', 'semget', 'semop', 'semtimedop', 'semtimedop_time64',
    'semctl', 'shmget', 'shmat', 'shmdt', 'shmctl', 'mq_open', 'mq_unlink', 'mq_timedsend',
    'mq_timedsend_time64', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_notify', 'mq_getsetattr',
  ],
  // Docker allows these on kernels >= 4.8, where ptrace no longer bypasses seccomp.
  tracing: ['ptrace', 'kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev'],
  random: ['getrandom'],
  // Architecture-specific calls; libseccomp does not resolve them elsewhere, so the runtime skips them.
  x86: ['modify_ldt'],
  arm: ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'],
  riscv: ['riscv_flush_icache'],
};

/** Calls allowed only when a capability is granted (the kernel also checks it; seccomp narrows). */
const BY_CAPABILITY: Readonly<Record<string, readonly string[]>> = {
  CAP_SYS_ADMIN: [
    'mount', 'umount', 'umount2', 'unshare', 'setns', 'pivot_root', 'sethostname', 'setdomainname',
    'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree', 'mount_setattr',
    'quotactl', 'quotactl_fd', 'lookup_dcookie', 'fanotify_init', 'bpf', 'perf_event_open', 'syslog',
    'clone', 'clone3',
  ],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['init_module', 'finit_module', 'delete_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'set_mempolicy', 'set_mempolicy_home_node', 'mbind', 'move_pages'],
  CAP_SYSLOG: ['syslog'],
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
};

/** Namespace-creating clone flags: NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;
const ENOSYS = 38;
const EPERM = 1;

/** Seccomp architectures for a Node `process.arch`: the native one plus its compat ABIs. */
export function seccompArchitectures(arch: string): string[] {
  switch (arch) {
    case 'x64': return ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
    case 'ia32': return ['SCMP_ARCH_X86'];
    case 'arm64': return ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];
    case 'arm': return ['SCMP_ARCH_ARM'];
    case 'riscv64': return ['SCMP_ARCH_RISCV64'];
    case 's390x': return ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'];
    case 'ppc64': return ['SCMP_ARCH_PPC64LE'];
    default: return [];
  }
}

/**
 * The default seccomp policy for a container holding `caps` (full CAP_ names). Deny-by-default
 * with EPERM; clone is allowed only without namespace flags and clone3 answers ENOSYS (its flags
 * live in memory seccomp cannot inspect, and glibc falls back to clone on ENOSYS) — both become
 * unrestricted with CAP_SYS_ADMIN. personality is limited to the Linux/UNAME26/32-bit personas.
 * Pure; `arch` defaults to this process's architecture.
 */
export function defaultSeccomp(caps: readonly string[], arch: string = process.arch): OciSeccomp {
  const granted = new Set(caps.map((c) => c.toUpperCase()));
  const allow = new Set(Object.values(ALWAYS).flat());
  for (const [cap, calls] of Object.entries(BY_CAPABILITY)) if (granted.has(cap)) for (const c of calls) allow.add(c);
  const syscalls: OciSeccompSyscall[] = [{ names: [...allow].sort(), action: 'SCMP_ACT_ALLOW' }];
  // PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32 and the 0xffffffff query.
  for (const value of [0x0, 0x8, 0x20000, 0x20008, 0xffffffff]) {
    syscalls.push({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] });
  }
  if (!granted.has('CAP_SYS_ADMIN')) {
    // s390 passes the flags in the second argument; every other ABI in the first.
    const flagArg = arch === 's390x' ? 1 : 0;
    syscalls.push({
      names: ['clone'], action: 'SCMP_ACT_ALLOW',
      args: [{ index: flagArg, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    });
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    architectures: seccompArchitectures(arch),
    syscalls,
  };
}
