/*
 * Reading members of a decoded reply with a default when one is missing:
 * the status table and the top view show '?' or 0 rather than stop over a
 * field an older or newer agent does not send.
 */
#ifndef VS_JSON_FIELDS_H
#define VS_JSON_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

int64_t jf_i64(struct json_object *o, const char *key);		    /* 0 if absent */
uint64_t jf_u64(struct json_object *o, const char *key);	    /* 0 if absent */
const char *jf_str(struct json_object *o, const char *key);	    /* "?" if absent */
bool jf_bool(struct json_object *o, const char *key);		    /* false if absent */
bool jf_has(struct json_object *o, const char *key);		    /* present and not null */
struct json_object *jf_obj(struct json_object *o, const char *key); /* NULL if absent */
size_t jf_len(struct json_object *arr);				    /* 0 if not an array */
struct json_object *jf_at(struct json_object *arr, size_t i);
/* The sum of member @key over the objects of array @arr (0 for an absent one). */
uint64_t jf_sum_u64(struct json_object *arr, const char *key);

#endif
