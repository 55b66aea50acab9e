/*
 * The quick-start's UDP monitor, as published with the original library,
 * with what it lacked: <stdint.h>, and the #pragma pack the real
 * udpEvent/common.h has. Without the pragma the struct is 200 bytes instead
 * of 190 and every field after `family` is read at the wrong offset.
 * Build and run:
 *
 *   gcc -o udp_monitor examples/udp_monitor.c -ldl
 *   sudo ./udp_monitor
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#define SOFILE "/opt/RealTimeKql/lib/libudpEvent.so"

// UDP event structure from udpEvent/common.h
#pragma pack(push, 1)
struct udp_event_t {
    uint16_t family;
    uint32_t pid;
    uint32_t UserId;
    uint64_t EventTime;
    uint16_t SPT;
    uint16_t DPT;
    char task[16];
    uint64_t rx_b;
    uint64_t tx_b;
    uint32_t rxPkts;
    uint32_t txPkts;
    char SADDR[64];
    char DADDR[64];
};
#pragma pack(pop)

void (*cleanup)();

void signalHandler(int signum) {
    printf("Shutting down...\n");
    cleanup();
    exit(signum);
}

int main() {
    // Load the shared library
    void *handle = dlopen(SOFILE, RTLD_LAZY);
    if (!handle) {
        fprintf(stderr, "Failed to load library: %s\n", dlerror());
        exit(EXIT_FAILURE);
    }

    // Resolve symbols (note: AddProbe takes no arguments for UDP)
    void (*AddProbe)() = dlsym(handle, "AddProbe");
    struct udp_event_t (*DequeuePerfEvent)() = dlsym(handle, "DequeuePerfEvent");
    cleanup = dlsym(handle, "cleanup");
    unsigned (*getStatus)() = dlsym(handle, "getStatus");

    if (!AddProbe || !DequeuePerfEvent || !cleanup || !getStatus) {
        fprintf(stderr, "Failed to resolve symbols: %s\n", dlerror());
        exit(EXIT_FAILURE);
    }

    signal(SIGINT, signalHandler);

    // Load the eBPF program (built-in for UDP)
    printf("Loading UDP eBPF probe...\n");
    AddProbe();

    // Wait for probe to be ready
    while (!getStatus()) {
        printf("Waiting for probe initialization...\n");
        sleep(1);
    }

    printf("Monitoring UDP traffic (press Ctrl+C to exit)...\n");

    // Event processing loop
    while (1) {
        struct udp_event_t event = DequeuePerfEvent();

        printf("\n--- UDP Traffic ---\n");
        printf("Process: %s (PID: %u, UID: %u)\n",
               event.task, event.pid, event.UserId);
        printf("Address Family: %u\n", event.family);
        printf("Endpoints: %s:%u -> %s:%u\n",
               event.SADDR, event.SPT, event.DADDR, event.DPT);
        printf("Traffic: RX=%lu bytes (%u pkts), TX=%lu bytes (%u pkts)\n",
               event.rx_b, event.rxPkts, event.tx_b, event.txPkts);
        printf("Timestamp: %lu ns\n", event.EventTime);
    }

    dlclose(handle);
    return 0;
}
