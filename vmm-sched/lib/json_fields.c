#include "json_fields.h"

#include <json-c/json.h>

struct json_object *jf_obj(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

int64_t jf_i64(struct json_object *o, const char *key)
{
	struct json_object *v = jf_obj(o, key);

	return v ? json_object_get_int64(v) : 0;
}

uint64_t jf_u64(struct json_object *o, const char *key)
{
	struct json_object *v = jf_obj(o, key);

	return v ? json_object_get_uint64(v) : 0;
}

const char *jf_str(struct json_object *o, const char *key)
{
	struct json_object *v = jf_obj(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "?";
}

bool jf_bool(struct json_object *o, const char *key)
{
	struct json_object *v = jf_obj(o, key);

	return v && json_object_get_boolean(v);
}

bool jf_has(struct json_object *o, const char *key)
{
	return jf_obj(o, key) != NULL;
}

size_t jf_len(struct json_object *arr)
{
	return arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
}

struct json_object *jf_at(struct json_object *arr, size_t i)
{
	return i < jf_len(arr) ? json_object_array_get_idx(arr, i) : NULL;
}

uint64_t jf_sum_u64(struct json_object *arr, const char *key)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < jf_len(arr); i++)
		sum += jf_u64(jf_at(arr, i), key);
	return sum;
}
