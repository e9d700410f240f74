/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output_file: opening the files the layer writes (log_file, stats_file).
 *
 * The layer may run inside a privileged program, or in one whose files a user
 * can reach: it never follows a symbolic link at the end of the path (O_NOFOLLOW),
 * never leaks the descriptor into a program the app executes (O_CLOEXEC), and
 * creates files readable by all but writable by the owner only (0644, less
 * with the process's umask).
 */
#ifndef SUBALLOC_OUTPUT_FILE_H
#define SUBALLOC_OUTPUT_FILE_H

#include <stdio.h>

/* The file at path opened for appending, created if missing; NULL with errno set. */
FILE *output_file_append(const char *path);

/* Why an open failed, in words a user acts on (a link is named as such). */
const char *output_file_error(int error);

#endif
