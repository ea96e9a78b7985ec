/*
 * Passwords for the sekisho command line: the first line of standard input
 * (--password-stdin, for scripts), or a prompt without echo on the terminal of standard
 * input, asked twice so a typo never becomes the password.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "password.h"
#include "xmalloc.h"

char *
read_password(void)
{
	char buf[PASSWORD_MAX_LEN + 2];
	char *p;
	size_t n;

	if (fgets(buf, sizeof(buf), stdin) == NULL)
		return NULL;
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (n > PASSWORD_MAX_LEN) {
		explicit_bzero(buf, sizeof(buf));
		return NULL;
	}
	if (n && buf[n - 1] == '\r')
		buf[--n] = '\0';
	p = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return p;
}

/* The terminal settings to put back, also when a signal ends the prompt. */
static struct termios saved;
static volatile sig_atomic_t echo_off;

static void
restore_echo(void)
{
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	echo_off = 0;
}

static void
on_signal(int sig)
{
	restore_echo();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
put(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return;	/* nowhere to show it: reading still works */
		s += w;
		n -= (size_t)w;
	}
}

/* One line from the terminal on standard input, not echoed; prompt goes to that terminal. */
static char *
ask(int out, const char *prompt)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa = { .sa_handler = on_signal }, old[4];
	struct termios quiet;
	char *pw;

	if (tcgetattr(STDIN_FILENO, &saved) == -1)
		return NULL;
	for (size_t i = 0; i < 4; i++)
		sigaction(sigs[i], &sa, &old[i]);
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	put(out, prompt);
	pw = read_password();
	restore_echo();
	put(out, "\n");
	for (size_t i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	return pw;
}

/* The password typed twice; NULL after a message. */
static char *
ask_twice(const char *what)
{
	char *tty = ttyname(STDIN_FILENO), *prompt = xasprintf("%s: ", what), *a, *b = NULL;
	int out = tty ? open(tty, O_WRONLY | O_NOCTTY | O_CLOEXEC) : -1;

	a = ask(out == -1 ? STDERR_FILENO : out, prompt);
	if (a)
		b = ask(out == -1 ? STDERR_FILENO : out, "Again: ");
	if (out != -1)
		close(out);
	free(prompt);
	if (a == NULL || b == NULL)
		fail("no password given");
	else if (strcmp(a, b) != 0)
		fail("the passwords do not match");
	else {
		freezero_str(b);
		return a;
	}
	freezero_str(a);
	freezero_str(b);
	return NULL;
}

int
prompt_password(const struct cli *c, int required, const char *what, char **pw_r)
{
	int ask_flag = flag(c, "--ask-password");

	*pw_r = NULL;
	if (flag(c, "--password-stdin")) {
		if (ask_flag)
			return usage_fail(c, "--password-stdin and --ask-password exclude each other");
		if ((*pw_r = read_password()) == NULL)
			return fail("no password on standard input");
		return 0;
	}
	if (!required && !ask_flag)
		return 0;
	if (!isatty(STDIN_FILENO) && ask_flag)
		return usage_fail(c, "--ask-password needs a terminal on standard input (or use "
		    "--password-stdin)");
	if (!isatty(STDIN_FILENO))
		return usage_fail(c, "%s %s needs --password-stdin, or a terminal on standard "
		    "input to ask for the password", c->spec->cmd, c->spec->sub);
	return (*pw_r = ask_twice(what)) ? 0 : EXIT_FAIL;
}
