/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.c: where the layer's messages go.
 *
 * An app that made debug-utils messengers is listening for exactly this kind of
 * message, so they get it. An app that made none sees it on stderr. A log_file
 * setting sends every message to that file as well, whatever the app listens to.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "output_file.h"

#define MESSAGE_MAX 1024
#define MESSENGER_SNAPSHOT_MAX 16

static const char *const level_names[] = {"error", "warning", "info", "debug"};

static pthread_mutex_t log_file_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;
static char log_file_path[SUBALLOC_PATH_MAX];

static VkDebugUtilsMessageSeverityFlagBitsEXT severity_of(suballoc_log_level level) {
    switch (level) {
    case SUBALLOC_LOG_ERROR: return VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    case SUBALLOC_LOG_WARNING: return VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT;
    case SUBALLOC_LOG_INFO: return VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT;
    default: return VK_DEBUG_UTILS_MESSAGE_SEVERITY_VERBOSE_BIT_EXT;
    }
}

static bool messenger_wants(const VkDebugUtilsMessengerCreateInfoEXT *info,
                            VkDebugUtilsMessageSeverityFlagBitsEXT severity) {
    return info->pfnUserCallback != NULL && (info->messageSeverity & severity) &&
           (info->messageType & VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT);
}

static void call_messenger(const VkDebugUtilsMessengerCreateInfoEXT *info,
                           VkDebugUtilsMessageSeverityFlagBitsEXT severity, const char *message) {
    VkDebugUtilsMessengerCallbackDataEXT data = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CALLBACK_DATA_EXT,
        .pMessageIdName = "TRANSPARENT-suballoc",
        .messageIdNumber = 0,
        .pMessage = message,
    };
    info->pfnUserCallback(severity, VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT, &data, info->pUserData);
}

/* Messengers chained into VkInstanceCreateInfo, valid while the instance is created. */
static bool deliver_to_creation_messengers(const VkInstanceCreateInfo *info,
                                           VkDebugUtilsMessageSeverityFlagBitsEXT severity, const char *message) {
    bool any = false;
    for (const VkBaseInStructure *s = info->pNext; s != NULL; s = s->pNext) {
        if (s->sType != VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT) continue;
        const VkDebugUtilsMessengerCreateInfoEXT *messenger = (const void *)s;
        any = true;
        if (messenger_wants(messenger, severity)) call_messenger(messenger, severity, message);
    }
    return any;
}

/* Returns whether the app has any messenger (it then chose what it hears). */
static bool deliver_to_messengers(suballoc_instance *instance, VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                  const char *message) {
    if (instance->creating_info != NULL)
        return deliver_to_creation_messengers(instance->creating_info, severity, message);

    /* Callbacks run outside the lock: an app may create messengers from one. */
    VkDebugUtilsMessengerCreateInfoEXT snapshot[MESSENGER_SNAPSHOT_MAX];
    unsigned count = 0;
    pthread_mutex_lock(&instance->messengers_lock);
    for (app_messenger *m = instance->messengers; m != NULL && count < MESSENGER_SNAPSHOT_MAX; m = m->next)
        snapshot[count++] = m->info;
    pthread_mutex_unlock(&instance->messengers_lock);

    for (unsigned i = 0; i < count; i++)
        if (messenger_wants(&snapshot[i], severity)) call_messenger(&snapshot[i], severity, message);
    return count > 0;
}

static void write_line(FILE *file, suballoc_log_level level, const char *message) {
    fprintf(file, "suballoc: %s: %s\n", level_names[level], message);
    fflush(file);
}

static void write_to_log_file(const char *path, suballoc_log_level level, const char *message) {
    pthread_mutex_lock(&log_file_lock);
    if (log_file == NULL || strcmp(path, log_file_path) != 0) {
        if (log_file != NULL) fclose(log_file);
        log_file = output_file_append(path);
        snprintf(log_file_path, sizeof log_file_path, "%s", path);
        if (log_file == NULL)
            fprintf(stderr, "suballoc: error: cannot open log_file '%s' (%s); logging to stderr\n", path,
                    output_file_error(errno));
    }
    write_line(log_file != NULL ? log_file : stderr, level, message);
    pthread_mutex_unlock(&log_file_lock);
}

void layer_log(suballoc_instance *instance, suballoc_log_level level, const char *format, ...) {
    char message[MESSAGE_MAX];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);

    bool app_listens = instance != NULL && deliver_to_messengers(instance, severity_of(level), message);
    const char *path = instance != NULL ? instance->settings.log_file : "";
    if (path[0] != '\0') write_to_log_file(path, level, message);
    else if (!app_listens) write_line(stderr, level, message);
}

void layer_log_settings_report(void *user, suballoc_log_level level, const char *message) {
    LAYER_LOG((suballoc_instance *)user, level, "%s", message);
}
