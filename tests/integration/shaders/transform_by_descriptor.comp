// SPDX-License-Identifier: Apache-2.0
#version 450
// Transforms one storage buffer in place, reached through a classic descriptor set.
// Word i becomes ~w * 0x2C1B3C6D + i (see transform.h).
layout(local_size_x = 64) in;

layout(set = 0, binding = 0, std430) buffer Data {
    uint w[];
};

layout(push_constant) uniform Push {
    uint word_count;
} pc;

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < pc.word_count; i += stride)
        w[i] = ~w[i] * 0x2C1B3C6Du + i;
}
