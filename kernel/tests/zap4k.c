/*
 * Scenario (b), docs/model.md#b-zap-4k: a 4K anon page zapped by an exiting process
 * (zap_pte_range, PTL held) vs swapoff.
 *
 * The victim "sf-victim-zap" (CPU0) has one private anon page swapped out to zram
 * (MADV_PAGEOUT) and brought back into the swap cache but not mapped (MADV_WILLNEED on anon =
 * swapin_walk_pmd_entry -> read_swap_cache_async): its PTE still holds the swap entry and the
 * slot is 1 | SWAP_HAS_CACHE.  It arms delay point P and exits: exit_mmap -> zap_pte_range ->
 * free_swap_and_cache, __swap_entry_free() returns SWAP_HAS_CACHE.  This process (CPU1) runs
 * swapoff while the victim is inside the delay and times it; try_to_unuse() skips the exiting
 * mm (mmget_not_zero fails), frees the cache-only slot itself, so inuse_pages drops to 0 and
 * swapoff reaches synchronize_rcu(), which must wait for the victim's PTL section.
 *
 * usage: sf-zap4k [POINT [DELAY_MS]]
 */
#include "sf.h"

int main(int argc, char **argv)
{
	int point, ms, pfd[2];
	long hits, noted;
	pid_t victim;
	char c;

	args(argc, argv, &point, &ms);
	say("SF: scenario zap-4k point P%d delay %d ms\n", point, ms);
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
		char *p;

		pin(0);
		p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		memset(p, 0xa5, PAGE);
		for (i = 0; i < 20 && swap_used_kb() < 4; i++) {
			if (madvise(p, PAGE, MADV_PAGEOUT))
				die("MADV_PAGEOUT");
			usleep(50000);
		}
		say("SF: after MADV_PAGEOUT: swap used %ld kB, SwapCached %ld kB\n", swap_used_kb(),
		    meminfo("SwapCached"));
		if (swap_used_kb() < 4)
			die("the anon page was not swapped out");
		if (madvise(p, PAGE, MADV_WILLNEED))
			die("MADV_WILLNEED");
		for (i = 0; i < 100 && meminfo("SwapCached") < 4; i++)
			usleep(10000);
		say("SF: after MADV_WILLNEED: swap used %ld kB, SwapCached %ld kB\n", swap_used_kb(),
		    meminfo("SwapCached"));
		if (meminfo("SwapCached") < 4)
			die("the anon page is not in the swap cache");
		say("SF-SETUP ok: PTE = swap entry, slot = 1|SWAP_HAS_CACHE, folio in swap cache, unmapped\n");
		set_comm("sf-victim-zap");
		arm(point, ms);
		c = 1;
		if (write(pfd[1], &c, 1) != 1)
			die("pipe write");
		_exit(0);	/* exit_mmap -> zap_pte_range -> free_swap_and_cache */
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1) {
		reap(victim, "victim");
		die("the victim's setup failed");
	}
	if (wait_hit(hits, 10000)) {
		say("SF-RESULT scenario=zap-4k nohit=1\n");
		die("the victim never reached delay point P%d", point);
	}
	check_state(noted, 1 | SWAP_HAS_CACHE_, SWAP_HAS_CACHE_, "1|SWAP_HAS_CACHE -> SWAP_HAS_CACHE");
	timed_swapoff("zap-4k");
	reap(victim, "victim");
	write_file(DBG "delay_ms", "0");
	say("SF-DONE\n");
	return 0;
}
