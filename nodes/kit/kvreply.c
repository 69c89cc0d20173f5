/* kvreply — see kvreply.h. */
#include "kvreply.h"

#include <string.h>

int kvreply_definite(int code)
{
    return code == 10 || code == 11 || code == 12 || code == 14 || code == 20 || code == 21 ||
           code == 22 || code == 30;
}

void kvreply_classify(const json_t *reply, const char *f, struct kvreply *out)
{
    const char *type = json_string_value(json_object_get(reply, "type"));
    memset(out, 0, sizeof *out);
    out->code = -1;
    out->text = "";
    if (type && strcmp(type, "error") && strlen(type) > 3 && !strcmp(type + strlen(type) - 3, "_ok")) {
        out->kind = KVR_OK;
        const json_t *v = json_object_get(reply, "value");
        out->value = json_is_null(v) ? NULL : v;
        return;
    }
    if (!type || strcmp(type, "error")) {
        out->kind = KVR_INFO;
        out->text = "unexpected reply";
        return;
    }
    const json_t *c = json_object_get(reply, "code");
    out->code = json_is_integer(c) ? (int)json_integer_value(c) : 0;
    const char *text = json_string_value(json_object_get(reply, "text"));
    out->text = text ? text : "";
    if (out->code == 20 && f && !strcmp(f, "read")) {
        out->kind = KVR_OK;
        return;
    }
    if (json_is_true(json_object_get(reply, "indefinite"))) {
        out->kind = KVR_INFO;
        return;
    }
    if (out->code == 11) {
        out->leader = json_string_value(json_object_get(reply, "leader"));
        out->kind = out->leader && *out->leader ? KVR_REDIRECT : KVR_UNAVAILABLE;
        return;
    }
    out->kind = kvreply_definite(out->code) ? KVR_FAIL : KVR_INFO;
}
