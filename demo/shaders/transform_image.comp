// SPDX-License-Identifier: Apache-2.0
#version 450
// Transforms one r32ui storage image in place, texel index = y * width + x;
// the same function as transform_buffer.comp.
layout(local_size_x = 8, local_size_y = 8) in;

layout(set = 0, binding = 0, r32ui) uniform uimage2D texels;

layout(push_constant) uniform Push {
    uint count; // unused here: the image knows its size
    uint salt;  // unique per allocation
} push;

void main()
{
    ivec2 size = imageSize(texels);
    ivec2 at = ivec2(gl_GlobalInvocationID.xy);
    if (at.x >= size.x || at.y >= size.y)
        return;
    uint i = uint(at.y * size.x + at.x);
    uint v = imageLoad(texels, at).x;
    imageStore(texels, at, uvec4((v ^ push.salt) * 0x9E3779B1u + i, 0u, 0u, 0u));
}
