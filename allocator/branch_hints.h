/* SPDX-License-Identifier: Apache-2.0 */
/*
 * branch_hints.h: likely() and unlikely() for the allocator's hot paths, in one
 * place (GCC and clang).
 */
#ifndef SUBALLOC_BRANCH_HINTS_H
#define SUBALLOC_BRANCH_HINTS_H

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#endif
