/*
 * Hand-written, not generated: `swapfuzz kernel-repro` refuses `mmap huge` and `fork`
 * (docs/real-kernel.md#scenario-a-the-2-mib-folio).
 *
 * Scenario (a), docs/model.md#a-thp-exit, the model's kernel/repro/thp-exit-P1.scn: a 2 MiB
 * folio in the swap cache with only two subpages still referenced, subpage 0 by process A and
 * subpage 1 by process B; A exits (CPU0, delayed at P1 after __swap_entry_free() dropped subpage
 * 0's count, its PTL held), B exits and frees the folio's swap cache, then swapoff.
 *
 * The state, built from user space and checked from the kernel:
 *   1. A maps 2 MiB aligned with MADV_HUGEPAGE and writes it: one PMD-mapped THP
 *      (AnonHugePages).
 *   2. A pipe holds a reference on the folio (vmsplice of subpage 0): after MADV_PAGEOUT swaps
 *      the THP out whole (THP_SWAP, /proc/vmstat thp_swpout), reclaim cannot remove it from the
 *      swap cache (__remove_mapping()'s reference freeze fails), so the large folio stays in the
 *      swap cache, unmapped, its 512 PTEs swap entries (pagemap) -- zram would otherwise drop it
 *      right after the synchronous write.
 *   3. A forks B (every slot 2|SWAP_HAS_CACHE); A zaps subpages 1..511, B subpages 0 and
 *      2..511 (MADV_DONTNEED): subpage 0 is 1|SWAP_HAS_CACHE (A), subpage 1 is 1|SWAP_HAS_CACHE
 *      (B), the rest SWAP_HAS_CACHE alone; the folio stays in the swap cache (mincore, SwapCached
 *      2048 kB), as 6.12's __try_to_reclaim_swap() frees it only when every slot is cache-only.
 * At P1 the hook must record 41 -> 40 for A's subpage 0.
 *
 * usage: sf-thp-exit-P1 [POINT [DELAY_MS]]   (POINT 1)
 */
#include "sf.h"
#include <sys/uio.h>

#define HPAGE (2UL << 20)

static long vmstat(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/vmstat", "r");
	if (!f)
		die("/proc/vmstat");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ' ')
			v = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Process A or B: zaps all subpages but `keep`, reports its kept PTE, exits on command. */
static void serve(char *p, int keep, int cmd, int rep, const char *name, int victim_point)
{
	uint64_t e;
	char c;
	int rc = getpid();

	if (keep > 0 && madvise(p, keep * PAGE, MADV_DONTNEED))
		die("MADV_DONTNEED");
	if (madvise(p + (keep + 1) * PAGE, HPAGE - (keep + 1) * PAGE, MADV_DONTNEED))
		die("MADV_DONTNEED");
	e = sf_pagemap(p + keep * PAGE);
	if (!(e & PM_SWAP) || sf_pagemap(p + ((keep + 1) % 2) * PAGE) != 0)
		die("%s: subpage %d is not the only swap PTE (pagemap %llx)", name, keep,
		    (unsigned long long)e);
	say("SF: %s keeps subpage %d: swap entry type %d offset %#llx, in the swap cache: %d\n", name,
	    keep, (int)(e & 0x1f), (unsigned long long)((e >> 5) & ((1ULL << 50) - 1)),
	    sf_incore(p + keep * PAGE));
	if (write(rep, &rc, sizeof(rc)) != sizeof(rc) || read(cmd, &c, 1) != 1)
		_exit(3);
	pin(c);
	if (c == 0) {
		set_comm("sf-victim-exit");
		arm(victim_point, sf_ms);
	}
	if (write(rep, &rc, sizeof(rc)) != sizeof(rc))
		_exit(3);
	_exit(0);	/* exit_mmap -> zap_pte_range -> free_swap_and_cache_nr(subpage keep) */
}

int main(int argc, char **argv)
{
	int point = argc > 1 ? atoi(argv[1]) : 1, acmd[2], arep[2], bcmd[2], brep[2], pfd[2], rc, bpid;
	long hits, noted, swpout;
	pid_t a, b;
	struct iovec iov;
	char *raw, *p, c;

	sf_ms = argc > 2 ? atoi(argv[2]) : 1500;
	sf_name = "thp-exit-P1";
	say("SF: scenario %s point P%d delay %d ms\n", sf_name, point, sf_ms);
	if (point != 1)
		die("thp-exit-P1 delays at P1, not P%d", point);
	sf_dev_on = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sf_dev_on == MAP_FAILED)
		die("mmap");
	pin(1);
	sf_swapon();
	if (pipe(acmd) || pipe(arep) || pipe(bcmd) || pipe(brep) || pipe(pfd))
		die("pipe");

	a = fork();
	if (a < 0)
		die("fork");
	if (a == 0) {
		set_comm("sf-mm0");
		raw = mmap(NULL, 2 * HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (raw == MAP_FAILED)
			die("mmap");
		p = (char *)(((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1));
		if (madvise(p, HPAGE, MADV_HUGEPAGE))
			die("MADV_HUGEPAGE");
		memset(p, 0xa5, HPAGE);
		if (meminfo("AnonHugePages") < 2048)
			die("no THP: AnonHugePages %ld kB", meminfo("AnonHugePages"));
		/* A reference on the folio that reclaim cannot drop. */
		iov = (struct iovec){ p, PAGE };
		if (vmsplice(pfd[1], &iov, 1, 0) != PAGE)
			die("vmsplice");
		swpout = vmstat("thp_swpout");
		if (madvise(p, HPAGE, MADV_PAGEOUT))
			die("MADV_PAGEOUT");
		if (vmstat("thp_swpout") != swpout + 1)
			die("the THP was not swapped out whole (thp_swpout %ld -> %ld, thp_swpout_fallback %ld)",
			    swpout, vmstat("thp_swpout"), vmstat("thp_swpout_fallback"));
		if (!(sf_pagemap(p) & PM_SWAP) || !(sf_pagemap(p + HPAGE - PAGE) & PM_SWAP))
			die("the PTEs are not swap entries");
		if (!sf_incore(p) || !sf_incore(p + HPAGE - PAGE) || meminfo("SwapCached") < 2048)
			die("the 2 MiB folio is not in the swap cache (SwapCached %ld kB)",
			    meminfo("SwapCached"));
		say("SF: THP swapped out whole (thp_swpout +1), 512 swap PTEs, the folio in the swap "
		    "cache: SwapCached %ld kB, swap used %ld kB\n", meminfo("SwapCached"),
		    swap_used_kb());
		b = fork();	/* B shares all 512 swap entries */
		if (b < 0)
			die("fork");
		if (b == 0) {
			set_comm("sf-mm1");
			serve(p, 1, bcmd[0], brep[1], "B", point);
		}
		serve(p, 0, acmd[0], arep[1], "A", point);
	}
	/* B is A's child: its messages come through the pipes A and B inherited. */
	if (read(arep[0], &rc, sizeof(rc)) != sizeof(rc) || read(brep[0], &bpid, sizeof(bpid)) != sizeof(bpid))
		die("the set-up failed");
	say("SF: after the zaps: SwapCached %ld kB, swap used %ld kB\n", meminfo("SwapCached"),
	    swap_used_kb());
	if (meminfo("SwapCached") < 2048)
		die("the 2 MiB folio left the swap cache (SwapCached %ld kB)", meminfo("SwapCached"));
	say("SF-SETUP ok: a 2 MiB folio in the swap cache, subpage 0 referenced by A, 1 by B\n");

	hits = read_long(DBG "hits");
	noted = read_long(DBG "noted");
	c = 0;
	if (write(acmd[1], &c, 1) != 1 || read(arep[0], &rc, sizeof(rc)) != sizeof(rc))
		die("A");
	if (wait_hit(hits, 10000)) {
		say("SF-RESULT scenario=%s nohit=1\n", sf_name);
		die("the victim never reached delay point P%d", point);
	}
	check_state(noted, 1 | SWAP_HAS_CACHE_, SWAP_HAS_CACHE_, "1|SWAP_HAS_CACHE -> SWAP_HAS_CACHE, subpage 0");
	say("SF: while the victim waits: B exits (subpage 1: the folio's last reference)\n");
	c = 1;
	if (write(bcmd[1], &c, 1) != 1 || read(brep[0], &rc, sizeof(rc)) != sizeof(rc))
		die("B");
	{
		/* B's exit (exit_mmap) is done when it is a zombie: A, its parent, does not reap it. */
		char path[64], st[256] = "";
		double t0 = now_ms();
		snprintf(path, sizeof(path), "/proc/%d/stat", bpid);
		for (;;) {
			FILE *f = fopen(path, "r");
			if (!f || !fgets(st, sizeof(st), f)) {
				if (f)
					fclose(f);
				break;	/* reaped: gone */
			}
			fclose(f);
			if (strstr(st, ") Z "))
				break;
			if (now_ms() - t0 > sf_ms / 2) {
				say("SF: B has not exited after %d ms (blocked)\n", sf_ms / 2);
				break;
			}
			usleep(2000);
		}
	}
	say("SF: after B's exit: SwapCached %ld kB\n", meminfo("SwapCached"));
	sf_swapoff(0);
	if (waitpid(a, &rc, 0) < 0)
		die("waitpid");
	say("SF: victim: A exited\n");
	write_file(DBG "delay_ms", "0");
	say("SF-DONE\n");
	return 0;
}
