/* Helpers shared by the swapfuzz real-kernel tests (run as /init's children in a qemu VM). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define ZRAM "/dev/zram0"
#define DBG "/sys/kernel/debug/swapfuzz/"

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("SF-ERROR ");
	vprintf(fmt, ap);
	printf(" (errno %d %s)\n", errno, strerror(errno));
	va_end(ap);
	fflush(stdout);
	exit(3);
}

static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die("write %s <- %s", path, s);
	close(fd);
}

static long read_long(const char *path)
{
	char b[64] = {0};
	int fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, b, sizeof(b) - 1) < 0)
		die("read %s", path);
	close(fd);
	return strtol(b, NULL, 0);
}

/* A /proc/meminfo field, in kB. */
static long meminfo(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

static long swap_used_kb(void) { return meminfo("SwapTotal") - meminfo("SwapFree"); }

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s))
		die("sched_setaffinity(cpu%d)", cpu);
}

static void set_comm(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

/* zram0 as a 64 MiB swap device: disksize, a swap header (what mkswap writes), swapon. */
static void swap_setup(void)
{
	static char page[PAGE];
	uint32_t *w = (uint32_t *)(page + 1024);
	long pages = (64 << 20) / PAGE;
	int fd;

	if (access("/sys/block/zram0/disksize", F_OK))
		die("no zram0");
	if (read_long("/sys/block/zram0/disksize") == 0)
		write_file("/sys/block/zram0/disksize", "64M");
	memset(page, 0, sizeof(page));
	w[0] = 1;		/* version */
	w[1] = pages - 1;	/* last_page */
	w[2] = 0;		/* nr_badpages */
	memcpy(page + PAGE - 10, "SWAPSPACE2", 10);
	fd = open(ZRAM, O_WRONLY);
	if (fd < 0 || pwrite(fd, page, PAGE, 0) != PAGE || fsync(fd))
		die("swap header on %s", ZRAM);
	close(fd);
	if (swapon(ZRAM, 0))
		die("swapon %s", ZRAM);
	say("SF: swapon %s: SwapTotal %ld kB\n", ZRAM, meminfo("SwapTotal"));
}

/* Arm delay point `point` (1 = P1, 2 = P2) for `ms` ms, one shot, for comm "sf-victim*". */
static void arm(int point, int ms)
{
	char b[32];
	write_file(DBG "shots", "1");
	snprintf(b, sizeof(b), "%d", point);
	write_file(DBG "point", b);
	snprintf(b, sizeof(b), "%d", ms);
	write_file(DBG "delay_ms", b);
}

/* Waits until a victim entered its delay; returns 0, or -1 after `timeout_ms`. */
static int wait_hit(long before, int timeout_ms)
{
	double t0 = now_ms();
	while (read_long(DBG "hits") == before)
		if (now_ms() - t0 > timeout_ms)
			return -1;
	return 0;
}

/*
 * Once the victim is inside its delay: checks, from the kernel, that its free path saw the state
 * the scenario needs.  The delay hook recorded swap_map[offset] just before
 * __swap_entry_free() and the count __swap_entry_free() returned
 * (/sys/kernel/debug/swapfuzz/{noted,map_before,count_returned}, kernel/<version>/0002).
 * Prints SF-STATE; a wrong state is a failed set-up (SF-ERROR), not a verdict.
 */
#define SWAP_HAS_CACHE_ 0x40
#define SWAP_MAP_SHMEM_ 0xbf
static void check_state(long noted_before, long want_map, long want_count, const char *what)
{
	long noted = read_long(DBG "noted");
	long map = read_long(DBG "map_before");
	long count = read_long(DBG "count_returned");

	int ok = noted > noted_before && map == want_map && (want_count < 0 || count == want_count);

	if (want_count < 0)	/* a point on a swap-in path: only the map byte */
		say("SF-STATE noted=%ld swap_map[offset]=%02lx; want %02lx (%s): %s\n",
		    noted - noted_before, map, want_map, what, ok ? "ok" : "WRONG");
	else
		say("SF-STATE noted=%ld swap_map[offset]=%02lx before __swap_entry_free(), returned "
		    "%02lx; want %02lx, %02lx (%s): %s\n", noted - noted_before, map, count,
		    want_map, want_count, what, ok ? "ok" : "WRONG");
	if (!ok)
		die("the victim did not see the state the scenario needs (%s)", what);
}

/* swapoff(ZRAM) timed; prints the SF-RESULT line the host script parses. */
static void timed_swapoff(const char *scenario)
{
	double t0 = now_ms(), t1;
	int r = swapoff(ZRAM), e = errno;
	t1 = now_ms();
	say("SF-RESULT scenario=%s swapoff_rc=%d errno=%d swapoff_ms=%.0f\n", scenario, r, r ? e : 0,
	    t1 - t0);
}

static void reap(pid_t pid, const char *who)
{
	int st;
	if (waitpid(pid, &st, 0) < 0)
		die("waitpid");
	if (WIFEXITED(st))
		say("SF: %s exited %d\n", who, WEXITSTATUS(st));
	else
		say("SF: %s killed by signal %d\n", who, WTERMSIG(st));
}

static void args(int argc, char **argv, int *point, int *ms)
{
	*point = argc > 1 ? atoi(argv[1]) : 1;
	*ms = argc > 2 ? atoi(argv[2]) : 1500;
}
