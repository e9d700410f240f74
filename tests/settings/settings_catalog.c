/* SPDX-License-Identifier: Apache-2.0 */
/*
 * settings_catalog: the settings the layer's code reads, for the test that
 * holds the manifests and vkconfig files to the code.
 *
 *   settings_catalog                      one "name<TAB>default" line per setting
 *   settings_catalog --accepts NAME VALUE exit 0 when the code takes VALUE for NAME
 *                                         without complaint, 1 (and the report) when not
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

static void print_report(void *user, suballoc_log_level level, const char *message) {
    (void)user, (void)level;
    fprintf(stderr, "%s\n", message);
}

static int list_settings(void) {
    suballoc_settings defaults;
    suballoc_settings_defaults(&defaults);
    for (const char *const *name = suballoc_setting_names; *name != NULL; name++) {
        char value[SUBALLOC_PATH_MAX];
        if (!suballoc_settings_value_text(&defaults, *name, value, sizeof value)) {
            fprintf(stderr, "settings_catalog: '%s' is listed but has no value\n", *name);
            return EXIT_FAILURE;
        }
        printf("%s\t%s\n", *name, value);
    }
    return EXIT_SUCCESS;
}

int main(int argc, char **argv) {
    if (argc == 1) return list_settings();
    if (argc == 4 && strcmp(argv[1], "--accepts") == 0) {
        suballoc_settings settings;
        suballoc_settings_defaults(&settings);
        return suballoc_settings_set_text(&settings, argv[2], argv[3], "settings_catalog", print_report, NULL)
                   ? EXIT_SUCCESS
                   : EXIT_FAILURE;
    }
    fprintf(stderr, "usage: settings_catalog [--accepts NAME VALUE]\n");
    return 2;
}
