/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: the layer's messages. They go to the app's VK_EXT_debug_utils messengers
 * when it made some (message id "TRANSPARENT-suballoc"), otherwise to the
 * log_file setting or stderr, filtered by the log_level setting.
 */
#ifndef SUBALLOC_LOG_H
#define SUBALLOC_LOG_H

#include "layer.h"

void layer_log(suballoc_instance *instance, suballoc_log_level level, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* The level check is inline so a filtered message costs one compare. */
#define LAYER_LOG(instance, level, ...)                                            \
    do {                                                                           \
        suballoc_instance *log_instance_ = (instance);                             \
        if (log_instance_ == NULL || (level) <= log_instance_->settings.log_level) \
            layer_log(log_instance_, (level), __VA_ARGS__);                        \
    } while (0)

#define LOG_ERROR(device, ...) LAYER_LOG((device)->instance, SUBALLOC_LOG_ERROR, __VA_ARGS__)
#define LOG_WARNING(device, ...) LAYER_LOG((device)->instance, SUBALLOC_LOG_WARNING, __VA_ARGS__)
#define LOG_INFO(device, ...) LAYER_LOG((device)->instance, SUBALLOC_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(device, ...) LAYER_LOG((device)->instance, SUBALLOC_LOG_DEBUG, __VA_ARGS__)

/* The app called a function its device does not have (fetched with
 * vkGetInstanceProcAddr, for a device that did not enable its extension or
 * version): the layer never calls a NULL next pointer; it reports the call and
 * returns `...` (nothing for a void function). */
#define RETURN_IF_NEXT_MISSING(device, next_function, caller, ...)                                      \
    do {                                                                                                \
        if ((next_function) == NULL) {                                                                  \
            LOG_ERROR((device),                                                                         \
                      "%s: this device does not have the function (its extension or Vulkan version is " \
                      "not enabled); the call does nothing",                                            \
                      (caller));                                                                        \
            return __VA_ARGS__;                                                                         \
        }                                                                                               \
    } while (0)

/* Adapter for suballoc_settings_load's report callback (user = the instance). */
void layer_log_settings_report(void *user, suballoc_log_level level, const char *message);

#endif
