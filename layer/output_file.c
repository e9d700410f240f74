/* SPDX-License-Identifier: Apache-2.0 */
/* output_file.c: the one way the layer opens a file to write (see output_file.h). */
#include "output_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

FILE *output_file_append(const char *path) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return NULL;
    FILE *file = fdopen(fd, "a");
    if (file == NULL) {
        int error = errno;
        close(fd);
        errno = error;
    }
    return file;
}

const char *output_file_error(int error) {
    /* O_NOFOLLOW's refusal reads "Too many levels of symbolic links". */
    if (error == ELOOP) return "it is a symbolic link, which the layer does not write through";
    return strerror(error);
}
