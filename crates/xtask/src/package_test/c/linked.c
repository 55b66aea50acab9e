/*
 * A program built against the installed headers and linked with
 * $(pkg-config --cflags --libs tcpEvent udpEvent) instead of dlopen():
 * both libraries are NEEDED entries the loader resolves at start. Both
 * headers in one file need EVENT_INTERCEPTOR_DLOPEN_ONLY (the original
 * names differ in signature between them); the prefixed calls remain.
 * Before any AddProbe there is no error: prints "tcp 0 0 udp 0 0".
 */
#define EVENT_INTERCEPTOR_DLOPEN_ONLY
#include <stdio.h>
#include <tcpEvent.h>
#include <udpEvent.h>

int main(void) {
    char message[256];
    size_t tcp_length = tcpEvent_GetLastError(message, sizeof message);
    size_t udp_length = udpEvent_GetLastError(message, sizeof message);
    printf("tcp %d %zu udp %d %zu\n", tcpEvent_GetLastErrorKind(), tcp_length, udpEvent_GetLastErrorKind(),
           udp_length);
    return 0;
}
