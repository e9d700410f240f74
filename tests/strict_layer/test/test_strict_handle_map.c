/* SPDX-License-Identifier: Apache-2.0 */
/* The strict layer's handle map: every stored key is found, removed keys are
 * gone, and removal keeps the other keys reachable (backward-shift deletion). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "strict_handle_map.h"

/* Page-aligned, like real handles: the low bits carry no information. */
static uint64_t handle_of(uint64_t i) { return (i + 1) << 12; }

START_TEST(every_inserted_handle_is_found_with_its_value) {
    strict_handle_map map;
    strict_handle_map_init(&map);
    for (uint64_t i = 0; i < 10000; i++)
        ck_assert(strict_handle_map_insert(&map, handle_of(i), (void *)(uintptr_t)(i + 1)));
    ck_assert_uint_eq(map.count, 10000);
    for (uint64_t i = 0; i < 10000; i++)
        ck_assert_ptr_eq(strict_handle_map_find(&map, handle_of(i)), (void *)(uintptr_t)(i + 1));
    ck_assert_ptr_null(strict_handle_map_find(&map, handle_of(10000)));
    strict_handle_map_free(&map);
}
END_TEST

START_TEST(removal_keeps_every_other_handle_reachable) {
    strict_handle_map map;
    strict_handle_map_init(&map);
    for (uint64_t i = 0; i < 5000; i++) strict_handle_map_insert(&map, handle_of(i), (void *)(uintptr_t)(i + 1));
    /* Remove every third key, in an order that crosses probe runs. */
    for (uint64_t i = 0; i < 5000; i += 3)
        ck_assert_ptr_eq(strict_handle_map_remove(&map, handle_of(i)), (void *)(uintptr_t)(i + 1));
    for (uint64_t i = 0; i < 5000; i++) {
        void *expected = i % 3 == 0 ? NULL : (void *)(uintptr_t)(i + 1);
        ck_assert_ptr_eq(strict_handle_map_find(&map, handle_of(i)), expected);
    }
    ck_assert_uint_eq(map.count, 5000 - 1667);
    strict_handle_map_free(&map);
}
END_TEST

START_TEST(random_operations_agree_with_a_plain_array) {
    enum { KEYS = 512 };
    void *model[KEYS] = {0};
    strict_handle_map map;
    strict_handle_map_init(&map);
    srand(7);
    for (int step = 0; step < 200000; step++) {
        uint64_t i = (uint64_t)rand() % KEYS;
        if (model[i]) {
            ck_assert_ptr_eq(strict_handle_map_remove(&map, handle_of(i)), model[i]);
            model[i] = NULL;
        } else {
            model[i] = (void *)(uintptr_t)(step + 1);
            ck_assert(strict_handle_map_insert(&map, handle_of(i), model[i]));
        }
        uint64_t probe = (uint64_t)rand() % KEYS;
        ck_assert_ptr_eq(strict_handle_map_find(&map, handle_of(probe)), model[probe]);
    }
    strict_handle_map_free(&map);
}
END_TEST

START_TEST(null_handle_is_never_stored) {
    strict_handle_map map;
    strict_handle_map_init(&map);
    ck_assert(!strict_handle_map_insert(&map, 0, &map));
    ck_assert_ptr_null(strict_handle_map_find(&map, 0));
    ck_assert_ptr_null(strict_handle_map_remove(&map, 0));
    strict_handle_map_free(&map);
}
END_TEST

int main(void) {
    Suite *suite = suite_create("handle_map");
    TCase *tc = tcase_create("handle_map");
    /* Check's default of 4 s is too tight for sanitizer builds on a busy CI box. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_inserted_handle_is_found_with_its_value);
    tcase_add_test(tc, removal_keeps_every_other_handle_reachable);
    tcase_add_test(tc, random_operations_agree_with_a_plain_array);
    tcase_add_test(tc, null_handle_is_never_stored);
    suite_add_tcase(suite, tc);
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
