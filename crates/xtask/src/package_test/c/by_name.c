/*
 * What .NET's DllImport("tcpEvent") and a plain dlopen("libtcpEvent.so")
 * rely on: the dynamic linker finds each library by its bare name, through
 * the package's /etc/ld.so.conf.d entry and the ld.so.cache its ldconfig
 * trigger rebuilt. Prints "<name>: <the file it loaded>" per library.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>

int main(void) {
    const char *names[] = {"libtcpEvent.so", "libudpEvent.so"};
    for (int i = 0; i < 2; i++) {
        void *handle = dlopen(names[i], RTLD_NOW);
        if (!handle) {
            printf("%s: %s\n", names[i], dlerror());
            return 1;
        }
        Dl_info info;
        void *symbol = dlsym(handle, "getStatus");
        if (!symbol || !dladdr(symbol, &info)) {
            printf("%s: no getStatus\n", names[i]);
            return 1;
        }
        printf("%s: %s\n", names[i], info.dli_fname);
    }
    return 0;
}
