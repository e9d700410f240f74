/* SPDX-License-Identifier: Apache-2.0 */
/*
 * demo_compute: the compute pass. One descriptor set and one dispatch per
 * resource, images copied in from and out to their staging buffers, all in one
 * submission the demo waits for.
 */
#ifndef DEMO_COMPUTE_H
#define DEMO_COMPUTE_H

#include "demo_scene.h"

typedef struct demo_compute_counts {
    uint32_t dispatches;
    uint32_t copies;
} demo_compute_counts;

/* Runs the pass over every object of the scene; returns what it recorded. */
demo_compute_counts demo_compute_run(demo_scene *scene, const demo_context *ctx);

#endif
