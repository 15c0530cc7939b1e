/* The terminal on POSIX (termios): os.h. */
#include "os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

bool esp01_os_isatty(int which)
{
    return isatty(which) == 1;
}

unsigned esp01_os_term_columns(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
        return ws.ws_col;
    return 0;
}

static struct termios saved;
static volatile sig_atomic_t have_saved;

int esp01_os_term_raw(esp01_err *err)
{
    if (tcgetattr(STDIN_FILENO, &saved) < 0)
        return esp01_fail(err, ESP01_E_IO, "%s", strerror(errno));
    have_saved = 1;
    struct termios raw = saved;
    cfmakeraw(&raw);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
    return 0;
}

void esp01_os_term_restore(void)
{
    if (have_saved)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    have_saved = 0;
}

int esp01_os_stdin_read(void *buf, size_t cap, int timeout_ms, esp01_err *err)
{
    struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
    int r = poll(&pfd, 1, timeout_ms);
    if (r < 0 && errno != EINTR)
        return esp01_fail(err, ESP01_E_IO, "%s", strerror(errno));
    if (r <= 0)
        return esp01_fail(err, ESP01_E_TIMEOUT, "nothing typed");
    ssize_t n = read(STDIN_FILENO, buf, cap);
    if (n < 0)
        return esp01_fail(err, ESP01_E_IO, "%s", strerror(errno));
    return (int)n;
}

/* One line from the terminal without echo; Ctrl-C cancels (ISIG is off so
 * that an interrupt cannot leave the terminal silent). */
static int ask(int fd, const char *prompt, char *out, size_t cap, esp01_err *err)
{
    struct termios old, quiet;
    if (tcgetattr(fd, &old) < 0)
        return esp01_fail(err, ESP01_E_IO, "%s", strerror(errno));
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ISIG);
    quiet.c_lflag |= ICANON;
    if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) < 0)
        return esp01_fail(err, ESP01_E_IO, "%s", strerror(errno));
    size_t n = 0;
    int rc = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r <= 0 || c == 0x03 || c == 0x04) {
            rc = esp01_fail(err, ESP01_E_INTERRUPTED, "no line entered");
            break;
        }
        if (c == '\n' || c == '\r')
            break;
        if (n + 1 < cap)
            out[n++] = c;
        else
            rc = ESP01_E_LIMIT; /* keep reading to the end of the line */
    }
    if (cap)
        out[n] = '\0';
    tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0) {
        /* nothing to do: the prompt's line end is cosmetic */
    }
    if (rc == ESP01_E_LIMIT)
        rc = esp01_fail(err, ESP01_E_LIMIT, "line too long");
    return rc;
}

int esp01_os_read_secret(const char *prompt, char *out, size_t cap, esp01_err *err)
{
    if (cap)
        out[0] = '\0';
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return esp01_fail(err, ESP01_E_NOTFOUND, "no terminal");
    int rc = ask(fd, prompt, out, cap, err);
    close(fd);
    return rc;
}
