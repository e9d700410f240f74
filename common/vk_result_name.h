/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vk_result_name: the name of a VkResult, for messages. One table for the
 * project's programs (the demo, the launcher's probe, every test harness);
 * tests/common/check_result_names.sh holds it to vulkan_core.h.
 */
#ifndef SUBALLOC_VK_RESULT_NAME_H
#define SUBALLOC_VK_RESULT_NAME_H

#include <vulkan/vulkan.h>

/* "VK_ERROR_OUT_OF_DEVICE_MEMORY"; "(unknown VkResult)" for a value the
 * headers this was built with do not name. Never NULL. */
const char *vk_result_name(VkResult result);

#endif
