/* A capability-check storm: N calls of chroot(".") or setuid(0), each one capability check; or a
 * plain system-call storm, N getppid() calls (no capability check), for the seccomp recording
 * benchmark. Used by the trace benchmarks and by the end-to-end tests (--unique, lost events,
 * --pid).
 * usage: cap_storm N chroot|setuid|getppid [pause_us]   prints the mean ns per call on stderr */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s N chroot|setuid|getppid [pause_us]\n", argv[0]);
        return 2;
    }
    long n = atol(argv[1]);
    int use_chroot = strcmp(argv[2], "chroot") == 0;
    int use_getppid = strcmp(argv[2], "getppid") == 0;
    long pause_us = argc > 3 ? atol(argv[3]) : 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        if (use_getppid)
            (void)getppid(); /* glibc does not cache it: one system call each */
        else if (use_chroot)
            (void)!chroot(".");
        else
            (void)!setuid(0);
        if (pause_us)
            usleep((useconds_t)pause_us);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    fprintf(stderr, "cap_storm: %ld calls, %.0f ns per call\n", n, n ? ns / (double)n : 0.0);
    return 0;
}
