/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keep_modules_loaded: a dlclose() that leaves every module loaded, preloaded
 * into the ASan stage's test processes (scripts/test.sh).
 *
 * The Vulkan loader unloads the driver and the implicit layers at
 * vkDestroyInstance. Lavapipe's stack (Mesa 22.3.6-1+deb12u2) keeps 128 bytes
 * from realloc in a global when it goes; once the module is unloaded
 * LeakSanitizer can no longer see the global, so it reports a leak from an
 * "<unknown module>" that no suppression can name, in every Vulkan test, with
 * no layer at all. With modules kept until exit, LeakSanitizer sees what each
 * still holds and reports only real leaks. This layer and the strict layer
 * stay loaded anyway (-z nodelete), so nothing of ours is hidden.
 */
#include <stddef.h>

int dlclose(void *handle);

int dlclose(void *handle) {
    (void)handle;
    return 0;
}
