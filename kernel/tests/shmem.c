/*
 * Scenario (c), docs/model.md#c-shmem-truncate: shmem truncate vs swapoff.
 *
 * A one-page memfd (tmpfs) whose page is swapped out to zram and whose folio is back in the
 * swap cache but not in the file's page cache (MADV_PAGEOUT, then MADV_WILLNEED, which for
 * shmem is force_shm_swapin_readahead(): read_swap_cache_async() only).  Its swap_map byte is
 * then SWAP_MAP_SHMEM | SWAP_HAS_CACHE, so __swap_entry_free() in the truncate returns
 * SWAP_HAS_CACHE.  The victim "sf-victim-shm" (CPU0) truncates the file to 0 with delay point P
 * armed; when it is inside the delay, this process (CPU1) runs swapoff(/dev/zram0) and times it.
 *
 * usage: sf-shmem [POINT [DELAY_MS]]   (POINT 1 = P1, 2 = P2, 3 = P3)
 */
#include "sf.h"

int main(int argc, char **argv)
{
	int point, ms, fd, i;
	char *p;
	long hits, noted;
	pid_t victim;

	args(argc, argv, &point, &ms);
	say("SF: scenario shmem-truncate point P%d delay %d ms\n", point, ms);
	swap_setup();
	pin(1);

	fd = memfd_create("sf-shmem", 0);
	if (fd < 0 || ftruncate(fd, PAGE))
		die("memfd");
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	memset(p, 0x5a, PAGE);
	for (i = 0; i < 20 && swap_used_kb() < 4; i++) {
		if (madvise(p, PAGE, MADV_PAGEOUT))
			die("MADV_PAGEOUT");
		usleep(50000);
	}
	say("SF: after MADV_PAGEOUT: swap used %ld kB, SwapCached %ld kB, Shmem %ld kB\n",
	    swap_used_kb(), meminfo("SwapCached"), meminfo("Shmem"));
	if (swap_used_kb() < 4)
		die("the shmem page was not swapped out");
	/* Into the swap cache only: the xarray keeps the swap value entry. */
	if (madvise(p, PAGE, MADV_WILLNEED))
		die("MADV_WILLNEED");
	munmap(p, PAGE);
	for (i = 0; i < 100 && meminfo("SwapCached") < 4; i++)
		usleep(10000);
	say("SF: after MADV_WILLNEED: swap used %ld kB, SwapCached %ld kB, Shmem %ld kB\n",
	    swap_used_kb(), meminfo("SwapCached"), meminfo("Shmem"));
	if (meminfo("SwapCached") < 4)
		die("the shmem page is not in the swap cache");
	say("SF-SETUP ok: slot = SWAP_MAP_SHMEM|SWAP_HAS_CACHE, folio in swap cache only\n");

	hits = read_long(DBG "hits");
	noted = read_long(DBG "noted");
	victim = fork();
	if (victim < 0)
		die("fork");
	if (victim == 0) {
		double t0;
		pin(0);
		set_comm("sf-victim-shm");
		arm(point, ms);
		t0 = now_ms();
		if (ftruncate(fd, 0))
			die("ftruncate");
		say("SF: victim: ftruncate(0) returned after %.0f ms\n", now_ms() - t0);
		_exit(0);
	}
	if (wait_hit(hits, 10000)) {
		say("SF-RESULT scenario=shmem-truncate nohit=1\n");
		die("the victim never reached delay point P%d", point);
	}
	check_state(noted, SWAP_MAP_SHMEM_ | SWAP_HAS_CACHE_, SWAP_HAS_CACHE_, "SWAP_MAP_SHMEM|SWAP_HAS_CACHE -> SWAP_HAS_CACHE");
	timed_swapoff("shmem-truncate");
	reap(victim, "victim");
	write_file(DBG "delay_ms", "0");
	say("SF-DONE\n");
	return 0;
}
