// SPDX-License-Identifier: Apache-2.0
#version 450
// Copies one storage buffer into another through classic descriptors.
layout(local_size_x = 64) in;

layout(set = 0, binding = 0, std430) readonly buffer Source {
    uint src[];
};
layout(set = 0, binding = 1, std430) writeonly buffer Destination {
    uint dst[];
};

layout(push_constant) uniform Push {
    uint word_count;
} pc;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < pc.word_count; i += stride)
        dst[i] = src[i];
}
