// SPDX-License-Identifier: Apache-2.0
#version 450
// Transforms one storage buffer in place; demo/demo_pattern.h computes the
// same function on the CPU to check every value.
layout(local_size_x = 64) in;

layout(set = 0, binding = 0, std430) buffer Values { uint value[]; } values;

layout(push_constant) uniform Push {
    uint count; // values in this buffer
    uint salt;  // unique per allocation
} push;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i < push.count)
        values.value[i] = (values.value[i] ^ push.salt) * 0x9E3779B1u + i;
}
