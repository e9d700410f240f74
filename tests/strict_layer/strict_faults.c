/* SPDX-License-Identifier: Apache-2.0 */
/* strict_faults.c: failing the nth call of a kind, on demand. */
#include "strict_layer_internal.h"

void strict_fault_arm(strict_fault *fault, uint64_t nth, VkBool32 repeat) {
    fault->calls_left = nth;
    fault->repeat = nth != 0 && repeat;
}

bool strict_fault_fires(strict_fault *fault) {
    if (fault->calls_left == 0) return false;
    if (fault->calls_left > 1) {
        fault->calls_left--;
        return false;
    }
    /* A repeating fault stays at 1: every later call fails as well. */
    if (!fault->repeat) fault->calls_left = 0;
    return true;
}
