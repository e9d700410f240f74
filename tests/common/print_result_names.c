/* SPDX-License-Identifier: Apache-2.0 */
/* print_result_names VALUE...: "VALUE NAME" per VkResult value, as vk_result_name names it. */
#include <stdio.h>
#include <stdlib.h>

#include "vk_result_name.h"

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        long value = strtol(argv[i], NULL, 10);
        printf("%ld %s\n", value, vk_result_name((VkResult)value));
    }
    return 0;
}
