/* SPDX-License-Identifier: GPL-2.0 */
/* A small JSON reader for the configuration file: a tree of values. */
#ifndef LKL_HIJACK_JSON_H
#define LKL_HIJACK_JSON_H

#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY,
		 JSON_OBJECT };

struct json {
	enum json_type type;
	char *text;		/* a string's value, a number's or a bool's text */
	size_t count;		/* an array's items, an object's members */
	char **keys;		/* an object's keys, in order */
	struct json *items;	/* an array's items, an object's values */
	int line;		/* where the value starts */
};

/*
 * Parse @text; NULL on a syntax error, with a message in @err naming the
 * line.
 */
struct json *json_parse(const char *text, char *err, size_t err_len);
void json_free(struct json *v);

#endif /* LKL_HIJACK_JSON_H */
