//go:build ignore

/*
 * floor: the physical floor of the proctest benchmarks. It does what the
 * other variants do with nothing on top: posix_spawn, with the child's
 * stdout and stderr opened by posix_spawn_file_actions_addopen as two log
 * files of its own, and waitpid.
 *
 * usage: floor MODE N WINDOW LOGDIR ARGV...
 *
 * MODE is one of
 *   serial  spawn ARGV and wait for its exit 0, N times in a row; with
 *           WINDOW > 0, time the first and the last WINDOW processes
 *   fanout  spawn N copies of ARGV at once, then wait for each to exit 0
 *   kill    spawn N copies of ARGV at once, then for each send SIGTERM and
 *           wait for its death by SIGTERM
 *   watch   spawn ARGV once with stdout on a pipe; copy the pipe to the
 *           stdout log file and look for the line "MARKER"; wait for exit 0
 *   ready   N times: spawn ARGV with stdout on a pipe, read until a line
 *           "ready NS" is in (NS its CLOCK_REALTIME), note the latency,
 *           send SIGTERM and wait for its death
 *
 * Each run removes its log files before it stops the clock. It prints one
 * line of key=value pairs: elapsed_ns, first_ns, last_ns, bytes, vmhwm_kb
 * and lat_ns (comma-separated samples).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *logdir;
static char **argv_child;

static void die(const char *what) {
	perror(what);
	exit(1);
}

static int64_t now_ns(clockid_t clk) {
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void log_path(char *buf, size_t n, int i, const char *stream) {
	snprintf(buf, n, "%s/p%d.%s", logdir, i, stream);
}

/* spawn starts process i with stdin on /dev/null, stderr in its log file
 * and stdout in its log file, or on the descriptor out if out >= 0. */
static pid_t spawn(int i, int out) {
	posix_spawn_file_actions_t fa;
	char path[4096];
	pid_t pid;
	int err;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out >= 0) {
		posix_spawn_file_actions_adddup2(&fa, out, 1);
	} else {
		log_path(path, sizeof path, i, "stdout");
		posix_spawn_file_actions_addopen(&fa, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	}
	log_path(path, sizeof path, i, "stderr");
	posix_spawn_file_actions_addopen(&fa, 2, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	err = posix_spawn(&pid, argv_child[0], &fa, NULL, argv_child, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err != 0) {
		errno = err;
		die("posix_spawn");
	}
	return pid;
}

/* await waits for pid and checks that it exited 0 (sig 0) or died by sig. */
static void await(pid_t pid, int sig) {
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}
	if (sig == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		fprintf(stderr, "floor: pid %d ended with status %#x\n", (int)pid, st);
		exit(1);
	}
	if (sig != 0 && !(WIFSIGNALED(st) && WTERMSIG(st) == sig)) {
		fprintf(stderr, "floor: pid %d ended with status %#x, not by signal %d\n", (int)pid, st, sig);
		exit(1);
	}
}

static void remove_logs(int n) {
	char path[4096];
	for (int i = 0; i < n; i++) {
		log_path(path, sizeof path, i, "stdout");
		unlink(path);
		log_path(path, sizeof path, i, "stderr");
		unlink(path);
	}
}

static long vmhwm_kb(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = 0;
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* pipe_to_log spawns process i with stdout on a pipe and returns the read
 * end; *logfd is its stdout log file, opened for the parent to copy to. */
static int pipe_to_log(int i, pid_t *pid, int *logfd) {
	int p[2];
	char path[4096];
	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe2");
	log_path(path, sizeof path, i, "stdout");
	*logfd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (*logfd < 0)
		die("open");
	*pid = spawn(i, p[1]);
	close(p[1]);
	return p[0];
}

static char buf[64 << 10];

int main(int argc, char **argv) {
	if (argc < 6) {
		fprintf(stderr, "usage: floor MODE N WINDOW LOGDIR ARGV...\n");
		return 2;
	}
	const char *mode = argv[1];
	int n = atoi(argv[2]);
	int window = atoi(argv[3]);
	logdir = argv[4];
	argv_child = argv + 5;
	int64_t first = 0, last = 0, bytes = 0;
	int64_t *lat = NULL;
	int nlat = 0;

	int64_t start = now_ns(CLOCK_MONOTONIC);
	if (strcmp(mode, "serial") == 0) {
		int64_t last_start = start;
		for (int i = 0; i < n; i++) {
			await(spawn(i, -1), 0);
			if (window > 0 && i == window - 1)
				first = now_ns(CLOCK_MONOTONIC) - start;
			if (window > 0 && i == n - window - 1)
				last_start = now_ns(CLOCK_MONOTONIC);
			if (window > 0 && i == n - 1)
				last = now_ns(CLOCK_MONOTONIC) - last_start;
		}
		remove_logs(n);
	} else if (strcmp(mode, "fanout") == 0 || strcmp(mode, "kill") == 0) {
		int kill_each = strcmp(mode, "kill") == 0;
		pid_t *pids = calloc(n, sizeof *pids);
		for (int i = 0; i < n; i++)
			pids[i] = spawn(i, -1);
		for (int i = 0; i < n; i++) {
			if (kill_each && kill(pids[i], SIGTERM) < 0)
				die("kill");
			await(pids[i], kill_each ? SIGTERM : 0);
		}
		free(pids);
		remove_logs(n);
	} else if (strcmp(mode, "watch") == 0) {
		pid_t pid;
		int logfd, found = 0;
		int r = pipe_to_log(0, &pid, &logfd);
		static const char marker[] = "\nMARKER\n";
		char tail[sizeof marker] = "\n"; /* the end of the previous chunk */
		size_t ntail = 1;
		for (;;) {
			ssize_t m = read(r, buf, sizeof buf);
			if (m < 0 && errno == EINTR)
				continue;
			if (m < 0)
				die("read");
			if (m == 0)
				break;
			if (write(logfd, buf, m) != m)
				die("write");
			bytes += m;
			if (!found) {
				/* the marker, possibly across the chunk boundary */
				char joined[2 * sizeof marker];
				size_t head = (size_t)m < sizeof marker ? (size_t)m : sizeof marker;
				memcpy(joined, tail, ntail);
				memcpy(joined + ntail, buf, head);
				found = memmem(joined, ntail + head, marker, sizeof marker - 1) != NULL ||
					memmem(buf, m, marker, sizeof marker - 1) != NULL;
			}
			size_t keep = (size_t)m < sizeof marker - 2 ? (size_t)m : sizeof marker - 2;
			memcpy(tail, buf + m - keep, keep);
			ntail = keep;
		}
		close(r);
		close(logfd);
		await(pid, 0);
		if (!found) {
			fprintf(stderr, "floor: no MARKER line\n");
			return 1;
		}
		remove_logs(1);
	} else if (strcmp(mode, "ready") == 0) {
		lat = calloc(n, sizeof *lat);
		for (int i = 0; i < n; i++) {
			pid_t pid;
			int logfd;
			int r = pipe_to_log(i, &pid, &logfd);
			size_t have = 0;
			int64_t printed = -1;
			while (printed < 0) {
				ssize_t m = read(r, buf + have, sizeof buf - 1 - have);
				if (m < 0 && errno == EINTR)
					continue;
				if (m <= 0) {
					fprintf(stderr, "floor: output ended before the ready line\n");
					return 1;
				}
				have += m;
				buf[have] = 0;
				char *line = buf;
				char *nl;
				while ((nl = strchr(line, '\n')) != NULL) {
					long long ns;
					if (sscanf(line, "ready %lld", &ns) == 1) {
						lat[nlat++] = now_ns(CLOCK_REALTIME) - ns;
						printed = ns;
						break;
					}
					line = nl + 1;
				}
			}
			if (write(logfd, buf, have) != (ssize_t)have)
				die("write");
			if (kill(pid, SIGTERM) < 0)
				die("kill");
			/* copy the rest of the output, until the end */
			for (;;) {
				ssize_t m = read(r, buf, sizeof buf);
				if (m < 0 && errno == EINTR)
					continue;
				if (m <= 0)
					break;
				if (write(logfd, buf, m) != m)
					die("write");
			}
			close(r);
			close(logfd);
			await(pid, SIGTERM);
		}
		remove_logs(n);
	} else {
		fprintf(stderr, "floor: unknown mode %s\n", mode);
		return 2;
	}
	int64_t elapsed = now_ns(CLOCK_MONOTONIC) - start;

	printf("elapsed_ns=%lld first_ns=%lld last_ns=%lld bytes=%lld vmhwm_kb=%ld lat_ns=",
	       (long long)elapsed, (long long)first, (long long)last, (long long)bytes, vmhwm_kb());
	for (int i = 0; i < nlat; i++)
		printf("%s%lld", i ? "," : "", (long long)lat[i]);
	printf("\n");
	return 0;
}
