/* SPDX-License-Identifier: Apache-2.0 */
/* strict_test_suites.h: the suites of test_strict_device, one per file. */
#ifndef STRICT_TEST_SUITES_H
#define STRICT_TEST_SUITES_H

#include <check.h>

/* Lavapipe is a CPU driver and sanitizer builds are slow: be generous. */
#define STRICT_TEST_TIMEOUT_SECONDS 120

Suite *strict_properties_suite(void);
Suite *strict_violations_suite(void);
Suite *strict_aliasing_suite(void);
Suite *strict_mapping_suite(void);
Suite *strict_faults_suite(void);
Suite *strict_counters_suite(void);
Suite *strict_threads_suite(void);
Suite *strict_sparse_suite(void);
Suite *strict_markers_suite(void);

#endif
