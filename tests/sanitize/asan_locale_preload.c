/*
 * Preloaded after libasan into Debian's postgres, pg_ctl and initdb (scripts/sanitize.sh).
 *
 * Without it they hang: constructors of libraries they link (libp11-kit calls newlocale,
 * libgpg-error bindtextdomain) run before ASan has initialised, so ASan initialises inside the
 * first malloc they make, under glibc's locale lock, and that lock is never released. Each
 * wrapper first makes a malloc of its own, outside the lock, then calls the real function.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libintl.h>
#include <locale.h>
#include <stdlib.h>

/* Through a volatile pointer, so that the compiler keeps the pair. */
static void initialise_malloc(void) {
    void *volatile block = malloc(1);
    free(block);
}

locale_t newlocale(int category_mask, const char *locale, locale_t base) {
    static locale_t (*real)(int, const char *, locale_t);
    initialise_malloc();
    if (!real) real = (locale_t(*)(int, const char *, locale_t))dlsym(RTLD_NEXT, "newlocale");
    return real(category_mask, locale, base);
}

char *bindtextdomain(const char *domain, const char *directory) {
    static char *(*real)(const char *, const char *);
    initialise_malloc();
    if (!real) real = (char *(*)(const char *, const char *))dlsym(RTLD_NEXT, "bindtextdomain");
    return real(domain, directory);
}

char *textdomain(const char *domain) {
    static char *(*real)(const char *);
    initialise_malloc();
    if (!real) real = (char *(*)(const char *))dlsym(RTLD_NEXT, "textdomain");
    return real(domain);
}
