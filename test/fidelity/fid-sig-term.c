// SPDX-License-Identifier: MIT
/*
 * Default actions: SIGTERM raised with its default action ends the
 * process (wait status compared by the harness); before that, an ignored
 * signal is dropped and SIG_DFL for SIGCHLD/SIGURG does nothing.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGUSR1, SIG_IGN);
	raise(SIGUSR1);
	printf("ignored SIGUSR1: alive\n");
	raise(SIGURG);
	raise(SIGCHLD);
	printf("default SIGURG, SIGCHLD: alive\n");
	signal(SIGTERM, SIG_DFL);
	raise(SIGTERM);
	printf("not reached\n");
	return 0;
}
