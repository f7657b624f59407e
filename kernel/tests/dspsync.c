/*
 * Race 3 of the catalogue, docs/catalogue.md#race-3-2799e77529c2: a swap-in on a synchronous-I/O
 * device (zram) vs swapoff; the model's scenarios/do-swap-page-sync-swapoff.scn.
 *
 * The victim "sf-victim-dsp" (CPU0) has one private anon page swapped out to zram
 * (MADV_PAGEOUT).  zram completes the write synchronously, so reclaim drops the folio from the
 * swap cache at once: the PTE holds the swap entry, the slot's count is 1, no folio (SwapCached
 * stays 0).  The victim arms delay point P4 and touches the page: do_swap_page() misses the swap
 * cache, reads si->flags (SWP_SYNCHRONOUS_IO) and waits in P4, before __swap_count().  This
 * process (CPU1) checks from the kernel that the slot was 1 at P4, then runs swapoff: try_to_unuse()
 * swaps the page in through the swap cache and maps it; with 2799e77529c2 reverted the victim
 * holds no device reference, so swapoff frees si->swap_map while the victim waits.
 *
 * usage: sf-dspsync [POINT [DELAY_MS]]   (POINT 4 = P4)
 */
#include "sf.h"

int main(int argc, char **argv)
{
	int point, ms, pfd[2];
	long hits, noted;
	pid_t victim;
	char c;

	args(argc, argv, &point, &ms);
	say("SF: scenario do-swap-page-sync-swapoff point P%d delay %d ms\n", point, ms);
	swap_setup();
	pin(1);
	if (pipe(pfd))
		die("pipe");
	hits = read_long(DBG "hits");
	noted = read_long(DBG "noted");
	victim = fork();
	if (victim < 0)
		die("fork");
	if (victim == 0) {
		int i;
		volatile char *p;

		pin(0);
		p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		memset((char *)p, 0xa5, PAGE);
		for (i = 0; i < 20 && swap_used_kb() < 4; i++) {
			if (madvise((char *)p, PAGE, MADV_PAGEOUT))
				die("MADV_PAGEOUT");
			usleep(50000);
		}
		say("SF: after MADV_PAGEOUT: swap used %ld kB, SwapCached %ld kB\n", swap_used_kb(),
		    meminfo("SwapCached"));
		if (swap_used_kb() < 4)
			die("the anon page was not swapped out");
		if (meminfo("SwapCached") != 0)
			die("the page is still in the swap cache (a synchronous device drops it)");
		say("SF-SETUP ok: PTE = swap entry, slot count 1, no swap-cache folio\n");
		set_comm("sf-victim-dsp");
		arm(point, ms);
		c = 1;
		if (write(pfd[1], &c, 1) != 1)
			die("pipe write");
		c = p[0];	/* do_swap_page() */
		say("SF: victim: swap-in returned, byte %02x\n", (unsigned char)c);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1) {
		reap(victim, "victim");
		die("the victim's setup failed");
	}
	if (wait_hit(hits, 10000)) {
		say("SF-RESULT scenario=do-swap-page-sync-swapoff nohit=1\n");
		die("the victim never reached delay point P%d", point);
	}
	check_state(noted, 1, -1, "count 1, no SWAP_HAS_CACHE, at do_swap_page()'s __swap_count()");
	timed_swapoff("do-swap-page-sync-swapoff");
	reap(victim, "victim");
	write_file(DBG "delay_ms", "0");
	say("SF-DONE\n");
	return 0;
}
