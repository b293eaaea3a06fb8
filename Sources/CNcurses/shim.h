// ncursesw for Swift. SwiftPM drops pkg-config's -D flags, so the wide-character API must be
// switched on here, before the header. Macros and globals that Swift cannot import (or that
// Swift 6 rejects as shared mutable state) are wrapped in static inline functions.
#ifndef SLIPWAY_CNCURSES_SHIM_H
#define SLIPWAY_CNCURSES_SHIM_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif

#include <locale.h>
#include <signal.h>
#include <langinfo.h>
#include <wchar.h>
#include <stdio.h>
#include <ncursesw/curses.h>
#include <ncursesw/term.h>

// Attributes (macros built from NCURSES_BITS).
static inline attr_t slw_A_NORMAL(void)    { return A_NORMAL; }
static inline attr_t slw_A_BOLD(void)      { return A_BOLD; }
static inline attr_t slw_A_DIM(void)       { return A_DIM; }
static inline attr_t slw_A_REVERSE(void)   { return A_REVERSE; }
static inline attr_t slw_A_UNDERLINE(void) { return A_UNDERLINE; }
static inline attr_t slw_A_ITALIC(void)    { return A_ITALIC; }
static inline attr_t slw_A_STANDOUT(void)  { return A_STANDOUT; }
static inline attr_t slw_A_BLINK(void)     { return A_BLINK; }
static inline attr_t slw_COLOR_PAIR(int n) { return (attr_t)COLOR_PAIR(n); }

// Globals.
static inline WINDOW *slw_stdscr(void) { return stdscr; }
static inline int slw_LINES(void)      { return LINES; }
static inline int slw_COLS(void)       { return COLS; }
static inline int slw_COLORS(void)     { return COLORS; }
static inline int slw_COLOR_PAIRS(void){ return COLOR_PAIRS; }

// getmaxyx and friends are macros that assign to their arguments.
static inline void slw_getmaxyx(WINDOW *w, int *y, int *x) { getmaxyx(w, *y, *x); }
static inline void slw_getyx(WINDOW *w, int *y, int *x)    { getyx(w, *y, *x); }

// Key codes Swift sees only as macros.
static inline int slw_KEY_RESIZE(void)    { return KEY_RESIZE; }
static inline int slw_KEY_MOUSE(void)     { return KEY_MOUSE; }
static inline int slw_KEY_CODE_YES(void)  { return KEY_CODE_YES; }
static inline int slw_ERR(void)           { return ERR; }
static inline int slw_OK(void)            { return OK; }

// Mouse masks.
static inline mmask_t slw_ALL_MOUSE_EVENTS(void)     { return ALL_MOUSE_EVENTS; }
static inline mmask_t slw_REPORT_MOUSE_POSITION(void){ return REPORT_MOUSE_POSITION; }
static inline mmask_t slw_BUTTON1_CLICKED(void)      { return BUTTON1_CLICKED; }
static inline mmask_t slw_BUTTON1_PRESSED(void)      { return BUTTON1_PRESSED; }
static inline mmask_t slw_BUTTON1_DOUBLE_CLICKED(void) { return BUTTON1_DOUBLE_CLICKED; }
static inline mmask_t slw_BUTTON4_PRESSED(void)      { return BUTTON4_PRESSED; }
static inline mmask_t slw_BUTTON5_PRESSED(void)      { return BUTTON5_PRESSED; }

// The terminal's capabilities without starting curses (for `slipway doctor`).
// Returns 1 when TERM names a terminfo entry, 0 when it does not; *colors gets its colour count.
static inline int slw_probe_terminfo(const char *term, int *colors) {
    int err = 0;
    if (setupterm((char *)term, fileno(stderr), &err) != OK) { *colors = 0; return 0; }
    int n = tigetnum("colors");
    *colors = n < 0 ? 0 : n;
    del_curterm(cur_term);
    return 1;
}

// Style and wide-string output without the macro forms.
static inline int slw_set_style(WINDOW *w, attr_t attrs, short pair) { return wattr_set(w, attrs, pair, NULL); }
static inline int slw_put_wide(WINDOW *w, int y, int x, const wchar_t *s, int n) { return mvwaddnwstr(w, y, x, s, n); }
static inline int slw_clear_line(WINDOW *w, int y) { wmove(w, y, 0); return wclrtoeol(w); }

// On a crash, give the terminal back before the process dies (then die as before).
static void slw_crash_handler(int sig) {
    endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}
static inline void slw_install_crash_handlers(void) {
    int signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE };
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) signal(signals[i], slw_crash_handler);
}
static inline void slw_reset_crash_handlers(void) {
    int signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE };
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) signal(signals[i], SIG_DFL);
}

// The codeset of the current locale (after setlocale(LC_ALL, "")).
static inline const char *slw_locale_codeset(void) { return nl_langinfo(CODESET); }

#endif
