// SPDX-License-Identifier: Apache-2.0
#version 460
// Transforms many buffers in place, reached by buffer device address: a table of
// chunks (address, word count, index of the chunk's first word in its buffer)
// replaces thousands of descriptor sets. One workgroup per chunk.
// Word i of a buffer becomes (w ^ 0xA5A5A5A5) * 0x01000193 + i (see transform.h).
#extension GL_EXT_buffer_reference : require

layout(local_size_x = 64) in;

layout(buffer_reference, std430, buffer_reference_align = 4) buffer Words {
    uint w[];
};

struct Chunk {
    Words words;
    uint count;
    uint first_index;
};

layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer Chunks {
    Chunk c[];
};

layout(push_constant) uniform Push {
    Chunks chunks;
    uint first_chunk;
    uint chunk_count;
} pc;

void main() {
    uint id = pc.first_chunk + gl_WorkGroupID.x;
    if (id >= pc.chunk_count) return;
    Chunk chunk = pc.chunks.c[id];
    for (uint i = gl_LocalInvocationID.x; i < chunk.count; i += gl_WorkGroupSize.x) {
        uint v = chunk.words.w[i];
        chunk.words.w[i] = (v ^ 0xA5A5A5A5u) * 0x01000193u + (chunk.first_index + i);
    }
}
