/* Workloads for the seccomp end-to-end tests, linked statically so that they also run in a
 * busybox rootfs under runc.
 *   syscall_helper threads   one thread created (glibc: clone3, or clone where clone3 answers
 *                            ENOSYS) and joined; prints "joined", or why pthread_create failed
 *   syscall_helper int80     getpid through the 32-bit entry (int 0x80, i386's number 20);
 *                            prints "int80 ok" when it returns this process's pid
 *   syscall_helper int80-getpgrp  getpgrp through the 32-bit entry (i386's 65): another call of
 *                            the same entry; prints the error when it is refused
 *   syscall_helper int80-setuid   setuid32(0) through the 32-bit entry (i386's 213, x86_64's
 *                            epoll_create): a CAP_SETUID check made in a compat call; silent
 *                            unless it fails, so that a trace's JSON stream stays only JSON */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *run(void *arg) { return arg; }

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s threads|int80\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "threads") == 0) {
        pthread_t t;
        int err = pthread_create(&t, NULL, run, NULL);
        if (err != 0) {
            printf("pthread_create: %s\n", strerror(err));
            return 1;
        }
        pthread_join(t, NULL);
        printf("joined\n");
        return 0;
    }
#if defined(__x86_64__)
    if (strcmp(argv[1], "int80") == 0) {
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
        printf(r == (long)getpid() ? "int80 ok\n" : "int80 failed: %ld\n", r);
        return r == (long)getpid() ? 0 : 1;
    }
    if (strcmp(argv[1], "int80-getpgrp") == 0) {
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(65L) : "memory");
        if (r < 0) {
            printf("int80-getpgrp: %s\n", strerror((int)-r));
            return 1;
        }
        printf(r == (long)getpgrp() ? "int80-getpgrp ok\n" : "int80-getpgrp: %ld\n", r);
        return 0;
    }
    if (strcmp(argv[1], "int80-setuid") == 0) {
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(213L), "b"(0L) : "memory");
        if (r < 0) {
            fprintf(stderr, "int80-setuid: %s\n", strerror((int)-r));
            return 1;
        }
        return 0;
    }
#else
    if (strncmp(argv[1], "int80", 5) == 0) {
        fprintf(stderr, "%s: the 32-bit int 0x80 entry is x86_64's\n", argv[1]);
        return 3;
    }
#endif
    return 2;
}
