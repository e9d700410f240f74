/* SPDX-License-Identifier: Apache-2.0 */
/* test_strict_device: the strict-device layer's own tests. Run it through
 * ctest (the strict_only chain); CK_RUN_SUITE=<name> runs one suite. */
#include <stdio.h>
#include <stdlib.h>

#include "strict_test_suites.h"

int main(void) {
    SRunner *runner = srunner_create(strict_properties_suite());
    srunner_add_suite(runner, strict_violations_suite());
    srunner_add_suite(runner, strict_aliasing_suite());
    srunner_add_suite(runner, strict_mapping_suite());
    srunner_add_suite(runner, strict_faults_suite());
    srunner_add_suite(runner, strict_counters_suite());
    srunner_add_suite(runner, strict_threads_suite());
    srunner_add_suite(runner, strict_sparse_suite());
    srunner_add_suite(runner, strict_markers_suite());
    srunner_run_all(runner, CK_NORMAL);
    int run = srunner_ntests_run(runner);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    printf("%d passed, %d failed\n", run - failed, failed);
    return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
