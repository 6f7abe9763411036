/* What berth-helper's source files share: exit codes, the fatal-error exit, tree removal. */
#ifndef BERTH_HELPER_H
#define BERTH_HELPER_H

/* Exit codes the daemon maps to error kinds (src/lib/native-helper.ts). */
enum { EXIT_ERR = 1, EXIT_NOTFOUND = 2, EXIT_LOCKED = 3, EXIT_UNSAFE = 4 };

/* Prints "berth-helper: <message>" on stderr and exits with `code`. */
void die(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

/* Removes `name` (a file or a whole tree) below the directory `dfd`, never following symlinks. */
int remove_tree(int dfd, const char *name);

#endif
