/* SPDX-License-Identifier: Apache-2.0 */
/* strict_chain.c: taking structures the driver does not know out of a pNext
 * chain for one call, and putting them back. Structures of unknown size
 * cannot be copied, so the chain is relinked in place and the edits undone in
 * reverse order once the driver has returned. */
#include "strict_layer_internal.h"

static bool relink(strict_chain_edit *edit, VkBaseOutStructure *owner, VkBaseOutStructure *next) {
    if (edit->count == STRICT_CHAIN_EDITS_MAX) {
        strict_layer_error("more than %u pNext edits in one call", STRICT_CHAIN_EDITS_MAX);
        return false;
    }
    edit->owner[edit->count] = owner;
    edit->old_next[edit->count] = owner->pNext;
    edit->count++;
    owner->pNext = next;
    return true;
}

bool strict_chain_remove(strict_chain_edit *edit, void *head, VkStructureType type) {
    VkBaseOutStructure *owner = head;
    while (owner->pNext) {
        if (owner->pNext->sType != type) owner = owner->pNext;
        else if (!relink(edit, owner, owner->pNext->pNext)) return false;
    }
    return true;
}

const void *strict_chain_replace(strict_chain_edit *edit, void *head, VkStructureType type, void *replacement) {
    for (VkBaseOutStructure *owner = head; owner->pNext; owner = owner->pNext) {
        VkBaseOutStructure *original = owner->pNext;
        if (original->sType != type) continue;
        ((VkBaseOutStructure *)replacement)->pNext = original->pNext;
        return relink(edit, owner, replacement) ? original : NULL;
    }
    return NULL;
}

void strict_chain_restore(strict_chain_edit *edit) {
    while (edit->count) {
        edit->count--;
        edit->owner[edit->count]->pNext = edit->old_next[edit->count];
    }
}

const void *strict_chain_find(const void *chain, VkStructureType type) {
    for (const VkBaseInStructure *item = chain; item; item = item->pNext) {
        if (item->sType == type) return item;
    }
    return NULL;
}
