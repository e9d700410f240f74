/* SPDX-License-Identifier: Apache-2.0 */
/* strict_registry.c: the live instances and devices, found by dispatch key. */
#include <stdlib.h>

#include "strict_layer_internal.h"

static pthread_rwlock_t registry_lock = PTHREAD_RWLOCK_INITIALIZER;
static strict_instance *instances;
static strict_device *devices;

void strict_registry_add_instance(strict_instance *instance) {
    pthread_rwlock_wrlock(&registry_lock);
    instance->next_in_registry = instances;
    instances = instance;
    pthread_rwlock_unlock(&registry_lock);
}

strict_instance *strict_registry_remove_instance(void *key) {
    pthread_rwlock_wrlock(&registry_lock);
    strict_instance **link = &instances;
    while (*link && (*link)->key != key) link = &(*link)->next_in_registry;
    strict_instance *found = *link;
    if (found) *link = found->next_in_registry;
    pthread_rwlock_unlock(&registry_lock);
    return found;
}

strict_instance *strict_registry_instance(const void *dispatchable_handle) {
    void *key = strict_dispatch_key(dispatchable_handle);
    pthread_rwlock_rdlock(&registry_lock);
    strict_instance *found = instances;
    while (found && found->key != key) found = found->next_in_registry;
    pthread_rwlock_unlock(&registry_lock);
    return found;
}

void strict_registry_add_device(strict_device *device) {
    pthread_rwlock_wrlock(&registry_lock);
    device->next_in_registry = devices;
    devices = device;
    pthread_rwlock_unlock(&registry_lock);
}

strict_device *strict_registry_remove_device(void *key) {
    pthread_rwlock_wrlock(&registry_lock);
    strict_device **link = &devices;
    while (*link && (*link)->key != key) link = &(*link)->next_in_registry;
    strict_device *found = *link;
    if (found) *link = found->next_in_registry;
    pthread_rwlock_unlock(&registry_lock);
    return found;
}

strict_device *strict_registry_device(const void *dispatchable_handle) {
    if (!dispatchable_handle) return NULL;
    void *key = strict_dispatch_key(dispatchable_handle);
    pthread_rwlock_rdlock(&registry_lock);
    strict_device *found = devices;
    while (found && found->key != key) found = found->next_in_registry;
    pthread_rwlock_unlock(&registry_lock);
    return found;
}

static strict_physical_device *new_physical_device(strict_instance *instance, VkPhysicalDevice handle) {
    strict_physical_device *physical = calloc(1, sizeof(*physical));
    if (!physical) return NULL;
    physical->handle = handle;
    VkPhysicalDeviceMemoryProperties driver;
    instance->next.GetPhysicalDeviceMemoryProperties(handle, &driver);
    physical->usable = strict_fake_choose_backing(&driver, &physical->backing);
    if (!physical->usable)
        strict_layer_error("the driver has no host-visible coherent memory type to back the fake types");
    for (uint32_t i = 0; i < STRICT_EMULATED_EXTENSION_COUNT; i++) {
        if (strict_driver_has_device_extension(handle, strict_emulated_extensions[i].extensionName))
            physical->driver_extensions |= 1u << i;
    }
    return physical;
}

strict_physical_device *strict_registry_physical_device(VkPhysicalDevice handle) {
    strict_instance *instance = strict_registry_instance(handle);
    if (!instance) return NULL;
    pthread_mutex_lock(&instance->physical_devices_lock);
    strict_physical_device *physical = instance->physical_devices;
    while (physical && physical->handle != handle) physical = physical->next_in_instance;
    if (!physical) {
        physical = new_physical_device(instance, handle);
        if (physical) {
            physical->next_in_instance = instance->physical_devices;
            instance->physical_devices = physical;
        }
    }
    pthread_mutex_unlock(&instance->physical_devices_lock);
    return physical;
}

void strict_registry_free_physical_devices(strict_instance *instance) {
    while (instance->physical_devices) {
        strict_physical_device *physical = instance->physical_devices;
        instance->physical_devices = physical->next_in_instance;
        free(physical);
    }
}
