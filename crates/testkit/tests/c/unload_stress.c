/*
 * What a C monitor does when it stops and unloads a library, as hard as it
 * can: each round dlopen()s it, calls AddProbe from a thread that then exits,
 * blocks `consumers` threads in DequeuePerfEvent, calls cleanup() and
 * dlclose() at once (the released consumers are still returning through the
 * library's code), then joins them. One line per round:
 *   UNLOAD round=N released=R heap_in_use=B rss_kib=K fds=F threads=T mapped=M
 * released: consumers that got the zeroed event; heap_in_use: malloc's bytes
 * in use (all arenas: a leak grows it, cached arenas do not); threads: once
 * the exited ones are gone; mapped: the library is still mapped after
 * dlclose().
 *
 *   unload_stress LIBRARY ROUNDS CONSUMERS
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Both events are at most this big; the consumers only check for zeroes. */
struct any_event { unsigned char bytes[430]; };

static void *library;
static size_t event_size;

static void *start(void *unused)
{
	void (*add_probe)(const char *) = (void (*)(const char *))dlsym(library, "AddProbe");
	unsigned (*status)(void) = (unsigned (*)(void))dlsym(library, "getStatus");

	(void)unused;
	add_probe(NULL); /* UDP's takes no argument; a NULL in a register is harmless */
	for (int i = 0; i < 20000 && !status(); i++)
		usleep(1000);
	return NULL;
}

static int is_zeroed(const struct any_event *event)
{
	size_t i;

	for (i = 0; i < event_size && event->bytes[i] == 0; i++)
		;
	return i == event_size;
}

/* Dequeues until cleanup() releases it with the zeroed event: a real event
 * (traffic of other processes on the host) is taken and the wait goes on.
 * Returns how many calls it took; a consumer that never got the zeroed
 * event never returns. */
static void *consume(void *unused)
{
	struct any_event (*dequeue)(void) = (struct any_event (*)(void))dlsym(library, "DequeuePerfEvent");
	struct any_event event;
	long calls = 0;

	(void)unused;
	do {
		event = dequeue();
		calls++;
	} while (!is_zeroed(&event));
	return (void *)calls;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2;
}

/*
 * The threads of this process once every thread that has exited is gone:
 * pthread_join() returns when the kernel clears the thread's tid, early in
 * its exit, and /proc/self/task lists it until it is released a little
 * later (a window that grows on a loaded machine: seen by the soak). A
 * thread still running never goes, so the count stays above `expected`
 * after the 5 s bound.
 */
static int threads_once_exited_are_gone(int expected)
{
	int threads = count_entries("/proc/self/task");

	for (int i = 0; i < 5000 && threads > expected; i++) {
		usleep(1000);
		threads = count_entries("/proc/self/task");
	}
	return threads;
}

static long status_kib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long value = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			value = atol(line + strlen(key));
	if (f)
		fclose(f);
	return value;
}

static int is_mapped(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[1024];
	int found = 0;

	while (f && fgets(line, sizeof(line), f))
		found |= strstr(line, name) != NULL;
	if (f)
		fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	int rounds, consumers;
	const char *name;

	if (argc != 4) {
		fprintf(stderr, "usage: unload_stress LIBRARY ROUNDS CONSUMERS\n");
		return 2;
	}
	rounds = atoi(argv[2]);
	consumers = atoi(argv[3]);
	name = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
	event_size = strstr(name, "udp") ? 190 : 430;
	/* RSS is printed per round: keep khugepaged's collapses out of it. */
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	for (int round = 1; round <= rounds; round++) {
		pthread_t starter, waiting[64];
		int released = 0;
		void (*cleanup)(void);
		struct mallinfo2 heap;

		library = dlopen(argv[1], RTLD_LAZY);
		if (!library) {
			fprintf(stderr, "dlopen: %s\n", dlerror());
			return 1;
		}
		pthread_create(&starter, NULL, start, NULL);
		pthread_join(starter, NULL);
		for (int i = 0; i < consumers; i++)
			pthread_create(&waiting[i], NULL, consume, NULL);
		usleep(50000);
		cleanup = (void (*)(void))dlsym(library, "cleanup");
		cleanup();
		if (dlclose(library)) {
			fprintf(stderr, "dlclose: %s\n", dlerror());
			return 1;
		}
		for (int i = 0; i < consumers; i++) {
			void *calls;

			pthread_join(waiting[i], &calls);
			released += calls != NULL;
		}
		heap = mallinfo2();
		printf("UNLOAD round=%d released=%d heap_in_use=%zu rss_kib=%ld fds=%d threads=%d mapped=%d\n", round,
		       released, heap.uordblks + heap.hblkhd, status_kib("VmRSS:"), count_entries("/proc/self/fd"),
		       threads_once_exited_are_gone(1), is_mapped(name));
		fflush(stdout);
	}
	return 0;
}
