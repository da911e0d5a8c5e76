/*
 * LD_PRELOADed into a Swift program run under valgrind 3.19 by bench/instructions.py.
 *
 * libdispatch parks the main thread in sigsuspend() with a mask in read-only memory; valgrind 3.19
 * writes to that mask while handling rt_sigsuspend and dies ("VALGRIND INTERNAL ERROR ... SIGSEGV",
 * faulting address inside libdispatch.so). This passes a writable copy instead. The main thread only
 * sleeps there, so nothing the benchmark counts runs through this code.
 */
#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, (size_t)(_NSIG / 8));
}
