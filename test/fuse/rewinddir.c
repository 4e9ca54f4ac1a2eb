// SPDX-License-Identifier: GPL-2.0
/*
 * rewinddir DIR: opens the empty directory DIR, makes files in it, calls
 * rewinddir(3) and reads it: POSIX says the files made since opendir(3)
 * must all show.  Prints how many did and exits 0 when all, 1 when not,
 * 2 on a setup error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FILES	50

int main(int argc, char **argv)
{
	char path[4096];
	struct dirent *e;
	int i, fd, seen = 0;
	DIR *dir;

	if (argc != 2) {
		fprintf(stderr, "usage: rewinddir DIR\n");
		return 2;
	}
	dir = opendir(argv[1]);
	if (!dir) {
		perror(argv[1]);
		return 2;
	}
	for (i = 0; i < FILES; i++) {
		snprintf(path, sizeof(path), "%s/f%d", argv[1], i);
		fd = open(path, O_CREAT | O_WRONLY, 0644);
		if (fd < 0) {
			perror(path);
			return 2;
		}
		close(fd);
	}
	rewinddir(dir);
	while ((e = readdir(dir)))
		if (e->d_name[0] == 'f')
			seen++;
	closedir(dir);
	printf("%d of %d files made since opendir seen after rewinddir\n",
	       seen, FILES);
	return seen == FILES ? 0 : 1;
}
