// SPDX-License-Identifier: BSD-2-Clause
/*
 * Heap blocks in each of memcheck's leak categories, one allocating function (and size) each:
 * tests/integration/leak_kinds.sh holds the expected numbers: change both together.
 *   definitely lost  leak_definite 1111 B (its only pointer overwritten);
 *                    list_head 48 B (a list whose head pointer was lost)
 *   indirectly lost  list_node 3 x 64 B (the nodes behind that head)
 *   possibly lost    leak_interior 2000 B (only a pointer to its middle remains)
 *   still reachable  reach_global 3000 B, reach_chain 400 B (only through reach_global's
 *                    block), reach_stack 4000 B (a local of main), reach_tls 5000 B (a
 *                    __thread variable), thread_stack 6000 B (a local of another thread),
 *                    thread_register 7000 B (only in another thread's r12)
 * Usage: leak_kinds                    set up, then exit (through exit(), main's frame live)
 *        leak_kinds GO READY END       allocate pre_attach (200 B, a global's), wait for GO,
 *                                      set up (and late 800 B, pointed to only from
 *                                      pre_attach's block), create READY, wait for END, exit
 *        leak_kinds --big MIB GO READY wait for GO, set up, then MIB MiB of words pointing
 *                                      into a block (slow to scan), create READY, wait forever
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct node {
	struct node *next;
	char pad[56];
};

void *volatile global_block;		/* reach_global */
void *volatile global_interior;		/* into leak_interior's block */
void *volatile pre_attach_block;	/* pre_attach, allocated before memtrace attaches (-p) */
static __thread void *volatile tls_block;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready_threads;

/* Dead stack below the caller, zeroed: no stale copy of a pointer may keep a block alive. */
__attribute__((noinline)) static void scrub(void)
{
	volatile char buf[64 * 1024];

	memset((char *)buf, 0, sizeof(buf));
}

static void thread_ready(void)
{
	pthread_mutex_lock(&mu);
	ready_threads++;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

__attribute__((noinline)) void *thread_stack(void *arg)
{
	void *volatile mine = malloc(6000);

	(void)arg;
	scrub();
	thread_ready();
	for (;;)
		pause();
	return mine;
}

/* The block's address lives in r12 alone while the thread waits in pause(2), forever. */
__attribute__((noinline)) void *thread_register(void *arg)
{
	void *p = malloc(7000);

	(void)arg;
	scrub();
	thread_ready();
	__asm__ volatile("mov %0, %%r12\n\t"
			 "1: mov $34, %%eax\n\t"	/* pause */
			 "syscall\n\t"
			 "jmp 1b"
			 : : "r"(p) : "r12", "rax", "rcx", "r11", "memory");
	return NULL;
}

__attribute__((noinline)) void leak_definite(void)
{
	global_block = malloc(1111);
	global_block = NULL;	/* the only pointer, overwritten */
}

__attribute__((noinline)) struct node *list_node(struct node *next)
{
	struct node *n = malloc(sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->next = next;
	return n;
}

__attribute__((noinline)) void list_head(void)
{
	struct node *volatile *head = malloc(48);

	memset((void *)head, 0, 48);
	*head = list_node(list_node(list_node(NULL)));
	global_block = (void *)head;
	global_block = NULL;	/* the head lost: the nodes only hang off it */
}

__attribute__((noinline)) void leak_interior(void)
{
	char *p = calloc(1, 2000);

	global_interior = p + 1000;
}

__attribute__((noinline)) void reach_chain(void **from) { *from = calloc(1, 400); }

__attribute__((noinline)) void reach_global(void)
{
	void **p = calloc(1, 3000);

	reach_chain(&p[7]);
	global_block = p;
}

__attribute__((noinline)) void *reach_stack(void) { return calloc(1, 4000); }

__attribute__((noinline)) void reach_tls(void) { tls_block = calloc(1, 5000); }

__attribute__((noinline)) void pre_attach(void) { pre_attach_block = calloc(1, 200); }

/* Pointed to only from pre_attach's block, which memtrace never saw allocated. */
__attribute__((noinline)) void late(void) { *(void **)pre_attach_block = calloc(1, 800); }

static void wait_for(const char *path)
{
	while (access(path, F_OK))
		usleep(10000);
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd >= 0)
		close(fd);
}

/* Many words that point into a block: each needs a lookup, so the scan takes a while. */
static void big(long mib)
{
	size_t n = (size_t)mib << 17;
	char *target = calloc(1, 64);
	void **v = mmap(NULL, n * sizeof(*v), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	for (size_t i = 0; v != MAP_FAILED && i < n; i++)
		v[i] = target + 8 + (i & 31);
}

/* main's frame stays live here: its local is a root, as memcheck sees it at exit. */
__attribute__((noinline)) static void finish(void *volatile *local, const char *ready, const char *end)
{
	(void)local;
	scrub();
	if (ready)
		touch(ready);
	if (end)
		wait_for(end);
	exit(0);
}

int main(int argc, char **argv)
{
	void *volatile local;
	pthread_t a, b;
	bool big_mode = argc == 5 && !strcmp(argv[1], "--big"), waiting = argc == 4;

	if (waiting)
		pre_attach();
	if (waiting || big_mode)
		wait_for(argv[big_mode ? 3 : 1]);
	if (waiting)
		late();
	pthread_create(&a, NULL, thread_stack, NULL);
	pthread_create(&b, NULL, thread_register, NULL);
	pthread_mutex_lock(&mu);
	while (ready_threads < 2)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	leak_definite();
	list_head();
	leak_interior();
	reach_global();
	reach_tls();
	local = reach_stack();
	if (big_mode)
		big(atol(argv[2]));
	finish(&local, waiting ? argv[2] : big_mode ? argv[4] : NULL,
	       waiting ? argv[3] : big_mode ? "/nonexistent/never" : NULL);
	return 0;
}
