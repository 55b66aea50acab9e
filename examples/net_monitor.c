/*
 * net_monitor: TCP connections and UDP traffic, live, one line per event,
 * through both libraries installed in /opt/RealTimeKql. Uses the generated
 * headers and the additive calls (timed dequeue, stats, last error), so
 * Ctrl+C stops it cleanly and it says what was delivered, shed or lost.
 *
 *   gcc -o net_monitor examples/net_monitor.c -I/opt/RealTimeKql/include -ldl -lpthread
 *   sudo ./net_monitor
 */
#define EVENT_INTERCEPTOR_DLOPEN_ONLY /* both headers in one file: see tcpEvent.h */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tcpEvent.h"
#include "udpEvent.h"

#define LIBDIR "/opt/RealTimeKql/lib/"

static volatile sig_atomic_t stopping;
static pthread_mutex_t output = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int signum)
{
    (void)signum;
    stopping = 1;
}

static void *symbol(void *handle, const char *name)
{
    void *address = dlsym(handle, name);
    if (!address) {
        fprintf(stderr, "net_monitor: %s\n", dlerror());
        exit(EXIT_FAILURE);
    }
    return address;
}

/* "2026-11-22 14:03:07.123456789" in local time. */
static void format_time(uint64_t ns, char *text, size_t size)
{
    time_t seconds = (time_t)(ns / 1000000000ULL);
    struct tm local;
    size_t used;

    localtime_r(&seconds, &local);
    used = strftime(text, size, "%Y-%m-%d %H:%M:%S", &local);
    snprintf(text + used, size - used, ".%09llu", (unsigned long long)(ns % 1000000000ULL));
}

struct tcp_api {
    tcpEvent_AddProbe_fn add_probe;
    tcpEvent_getStatus_fn get_status;
    tcpEvent_cleanup_fn cleanup;
    tcpEvent_DequeueTimeout_fn dequeue;
    tcpEvent_GetStats_fn get_stats;
    tcpEvent_GetLastError_fn last_error;
} tcp;

struct udp_api {
    udpEvent_AddProbe_fn add_probe;
    udpEvent_getStatus_fn get_status;
    udpEvent_cleanup_fn cleanup;
    udpEvent_DequeueTimeout_fn dequeue;
    udpEvent_GetStats_fn get_stats;
    udpEvent_GetLastError_fn last_error;
} udp;

static void *tcp_consumer(void *unused)
{
    struct tcp_event_t e;
    char when[64];

    (void)unused;
    while (!stopping) {
        int result = tcp.dequeue(&e, 200);
        if (result == EVENT_INTERCEPTOR_CLEANED_UP)
            break;
        if (result != EVENT_INTERCEPTOR_EVENT)
            continue;
        format_time(e.EventTime, when, sizeof(when));
        pthread_mutex_lock(&output);
        printf("%s TCP close pid=%u uid=%u comm=%s %s:%u -> %s:%u rx=%llu tx=%llu segs_in=%u segs_out=%u\n",
               when, e.pid, e.UserId, e.task, e.SADDR, e.SPT, e.DADDR, e.DPT,
               (unsigned long long)e.rx_b, (unsigned long long)e.tx_b, e.tcpi_segs_in, e.tcpi_segs_out);
        fflush(stdout);
        pthread_mutex_unlock(&output);
    }
    return NULL;
}

static void *udp_consumer(void *unused)
{
    struct udp_event_t e;
    char when[64];

    (void)unused;
    while (!stopping) {
        int result = udp.dequeue(&e, 200);
        if (result == EVENT_INTERCEPTOR_CLEANED_UP)
            break;
        if (result != EVENT_INTERCEPTOR_EVENT)
            continue;
        format_time(e.EventTime, when, sizeof(when));
        pthread_mutex_lock(&output);
        printf("%s UDP pid=%u uid=%u comm=%s %s:%u -> %s:%u rx=%llu/%u tx=%llu/%u\n",
               when, e.pid, e.UserId, e.task, e.SADDR, e.SPT, e.DADDR, e.DPT,
               (unsigned long long)e.rx_b, e.rxPkts, (unsigned long long)e.tx_b, e.txPkts);
        fflush(stdout);
        pthread_mutex_unlock(&output);
    }
    return NULL;
}

/* Waits up to 30 s for getStatus() == 1; says why not. */
static int wait_ready(const char *name, unsigned (*get_status)(void),
                      size_t (*last_error)(char *, size_t))
{
    char reason[512];
    for (int i = 0; i < 3000 && !stopping; i++) {
        if (get_status())
            return 1;
        if (last_error(reason, sizeof(reason)) > 0) {
            fprintf(stderr, "net_monitor: %s did not start: %s\n", name, reason);
            return 0;
        }
        usleep(10000);
    }
    fprintf(stderr, "net_monitor: %s did not start in time\n", name);
    return 0;
}

static void print_stats(const char *name, const struct event_interceptor_stats *s)
{
    printf("%s: path=%s transport=%s delivered=%llu shed=%llu lost=%llu map_full=%llu owner_unknown=%llu"
           " kernel_emitted=%llu discarded=%llu\n",
           name, s->attach_path, s->transport, (unsigned long long)s->delivered, (unsigned long long)s->shed,
           (unsigned long long)s->lost, (unsigned long long)s->map_full, (unsigned long long)s->owner_unknown,
           (unsigned long long)s->kernel_emitted, (unsigned long long)s->discarded);
}

int main(void)
{
    void *tcp_lib = dlopen(LIBDIR "libtcpEvent.so", RTLD_LAZY);
    void *udp_lib = dlopen(LIBDIR "libudpEvent.so", RTLD_LAZY);
    struct event_interceptor_stats stats;
    pthread_t tcp_thread, udp_thread;
    int tcp_up, udp_up;

    if (!tcp_lib || !udp_lib) {
        fprintf(stderr, "net_monitor: %s\n", dlerror());
        return EXIT_FAILURE;
    }
    tcp.add_probe = (tcpEvent_AddProbe_fn)symbol(tcp_lib, "AddProbe");
    tcp.get_status = (tcpEvent_getStatus_fn)symbol(tcp_lib, "getStatus");
    tcp.cleanup = (tcpEvent_cleanup_fn)symbol(tcp_lib, "cleanup");
    tcp.dequeue = (tcpEvent_DequeueTimeout_fn)symbol(tcp_lib, "tcpEvent_DequeueTimeout");
    tcp.get_stats = (tcpEvent_GetStats_fn)symbol(tcp_lib, "tcpEvent_GetStats");
    tcp.last_error = (tcpEvent_GetLastError_fn)symbol(tcp_lib, "tcpEvent_GetLastError");
    udp.add_probe = (udpEvent_AddProbe_fn)symbol(udp_lib, "AddProbe");
    udp.get_status = (udpEvent_getStatus_fn)symbol(udp_lib, "getStatus");
    udp.cleanup = (udpEvent_cleanup_fn)symbol(udp_lib, "cleanup");
    udp.dequeue = (udpEvent_DequeueTimeout_fn)symbol(udp_lib, "udpEvent_DequeueTimeout");
    udp.get_stats = (udpEvent_GetStats_fn)symbol(udp_lib, "udpEvent_GetStats");
    udp.last_error = (udpEvent_GetLastError_fn)symbol(udp_lib, "udpEvent_GetLastError");

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    tcp.add_probe(NULL);
    udp.add_probe();
    tcp_up = wait_ready("libtcpEvent.so", tcp.get_status, tcp.last_error);
    udp_up = wait_ready("libudpEvent.so", udp.get_status, udp.last_error);
    if (!tcp_up && !udp_up)
        return EXIT_FAILURE;
    printf("Monitoring TCP connections and UDP traffic (Ctrl+C stops)...\n");
    fflush(stdout);

    pthread_create(&tcp_thread, NULL, tcp_consumer, NULL);
    pthread_create(&udp_thread, NULL, udp_consumer, NULL);
    while (!stopping)
        pause();
    pthread_join(tcp_thread, NULL);
    pthread_join(udp_thread, NULL);

    tcp.get_stats(&stats);
    print_stats("libtcpEvent", &stats);
    udp.get_stats(&stats);
    print_stats("libudpEvent", &stats);
    tcp.cleanup();
    udp.cleanup();
    dlclose(tcp_lib);
    dlclose(udp_lib);
    return EXIT_SUCCESS;
}
