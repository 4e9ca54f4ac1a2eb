// SPDX-License-Identifier: GPL-2.0
/*
 * JSON, RFC 8259, into a tree: enough for a configuration file (no
 * limits but memory and a nesting depth of 32).  \u escapes become UTF-8;
 * a string holding NUL is refused, since values are C strings.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define MAX_DEPTH	32

struct parser {
	const char *p;
	int line;
	char *err;
	size_t err_len;
	bool failed;
};

static void fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ps->failed)
		return;
	ps->failed = true;
	n = snprintf(ps->err, ps->err_len, "line %d: ", ps->line);
	if (n < 0 || (size_t)n >= ps->err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->err_len - n, fmt, ap);
	va_end(ap);
}

static void skip_space(struct parser *ps)
{
	for (;; ps->p++) {
		if (*ps->p == '\n')
			ps->line++;
		else if (*ps->p != ' ' && *ps->p != '\t' && *ps->p != '\r')
			return;
	}
}

static bool put_utf8(char **out, unsigned int c)
{
	char *o = *out;

	if (c == 0)
		return false;
	if (c < 0x80) {
		*o++ = c;
	} else if (c < 0x800) {
		*o++ = 0xc0 | c >> 6;
		*o++ = 0x80 | (c & 0x3f);
	} else if (c < 0x10000) {
		*o++ = 0xe0 | c >> 12;
		*o++ = 0x80 | (c >> 6 & 0x3f);
		*o++ = 0x80 | (c & 0x3f);
	} else {
		*o++ = 0xf0 | c >> 18;
		*o++ = 0x80 | (c >> 12 & 0x3f);
		*o++ = 0x80 | (c >> 6 & 0x3f);
		*o++ = 0x80 | (c & 0x3f);
	}
	*out = o;
	return true;
}

static int hex4(const char *p)
{
	int v = 0, i;

	for (i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return -1;
		v = v * 16 + (isdigit((unsigned char)p[i]) ? p[i] - '0' :
			      (tolower((unsigned char)p[i]) - 'a' + 10));
	}
	return v;
}

/* At the opening quote; a string that each \u may grow to 1.5 times. */
static char *parse_string(struct parser *ps)
{
	const char *p = ps->p + 1;
	char *s = malloc(strlen(p) * 2 + 1), *o = s;

	if (!s) {
		fail(ps, "out of memory");
		return NULL;
	}
	while (*p != '"') {
		unsigned char c = *p;

		if (c == '\0' || c < 0x20) {
			fail(ps, "unterminated string");
			goto bad;
		}
		if (c != '\\') {
			*o++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case '"': case '\\': case '/':
			*o++ = *p++;
			break;
		case 'b': *o++ = '\b'; p++; break;
		case 'f': *o++ = '\f'; p++; break;
		case 'n': *o++ = '\n'; p++; break;
		case 'r': *o++ = '\r'; p++; break;
		case 't': *o++ = '\t'; p++; break;
		case 'u': {
			int u = hex4(p + 1), lo;

			p += 5;
			if (u >= 0xd800 && u < 0xdc00 && p[0] == '\\' &&
			    p[1] == 'u' && (lo = hex4(p + 2)) >= 0xdc00 &&
			    lo < 0xe000) {
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			if (u < 0 || !put_utf8(&o, u)) {
				fail(ps, "bad \\u escape in a string");
				goto bad;
			}
			break;
		}
		default:
			fail(ps, "bad escape \\%c in a string", *p);
			goto bad;
		}
	}
	*o = '\0';
	ps->p = p + 1;
	return s;
bad:
	free(s);
	return NULL;
}

static bool parse_value(struct parser *ps, struct json *v, int depth);

static bool grow(struct json *v, size_t *cap, bool keys)
{
	size_t n = *cap ? *cap * 2 : 4;
	struct json *items = realloc(v->items, n * sizeof(*items));

	if (!items)
		return false;
	v->items = items;
	if (keys) {
		char **k = realloc(v->keys, n * sizeof(*k));

		if (!k)
			return false;
		v->keys = k;
	}
	*cap = n;
	return true;
}

static bool parse_container(struct parser *ps, struct json *v, int depth)
{
	bool object = *ps->p == '{';
	char close = object ? '}' : ']';
	size_t cap = 0;

	v->type = object ? JSON_OBJECT : JSON_ARRAY;
	if (depth >= MAX_DEPTH) {
		fail(ps, "nested too deep");
		return false;
	}
	ps->p++;
	skip_space(ps);
	if (*ps->p == close) {
		ps->p++;
		return true;
	}
	for (;;) {
		char *key = NULL;

		skip_space(ps);
		if (object) {
			if (*ps->p != '"') {
				fail(ps, "expected a key in quotes");
				return false;
			}
			key = parse_string(ps);
			if (!key)
				return false;
			skip_space(ps);
			if (*ps->p != ':') {
				free(key);
				fail(ps, "expected ':' after a key");
				return false;
			}
			ps->p++;
		}
		if (v->count == cap && !grow(v, &cap, object)) {
			free(key);
			fail(ps, "out of memory");
			return false;
		}
		memset(&v->items[v->count], 0, sizeof(v->items[0]));
		if (object)
			v->keys[v->count] = key;
		v->count++;
		if (!parse_value(ps, &v->items[v->count - 1], depth + 1))
			return false;
		skip_space(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == close) {
			ps->p++;
			return true;
		}
		fail(ps, "expected ',' or '%c'", close);
		return false;
	}
}

static bool parse_value(struct parser *ps, struct json *v, int depth)
{
	const char *start;

	skip_space(ps);
	v->line = ps->line;
	start = ps->p;
	switch (*ps->p) {
	case '{':
	case '[':
		return parse_container(ps, v, depth);
	case '"':
		v->type = JSON_STRING;
		v->text = parse_string(ps);
		return v->text;
	}
	if (!strncmp(ps->p, "true", 4) || !strncmp(ps->p, "null", 4)) {
		ps->p += 4;
	} else if (!strncmp(ps->p, "false", 5)) {
		ps->p += 5;
	} else if (*ps->p == '-' || isdigit((unsigned char)*ps->p)) {
		char *end;

		strtod(ps->p, &end);
		ps->p = end;
		v->type = JSON_NUMBER;
	} else {
		fail(ps, *ps->p ? "unexpected '%c'" : "unexpected end",
		     *ps->p);
		return false;
	}
	if (v->type != JSON_NUMBER)
		v->type = *start == 'n' ? JSON_NULL : JSON_BOOL;
	v->text = strndup(start, ps->p - start);
	if (!v->text)
		fail(ps, "out of memory");
	return v->text;
}

static void free_inside(struct json *v)
{
	size_t i;

	for (i = 0; i < v->count; i++) {
		free_inside(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->text);
}

void json_free(struct json *v)
{
	if (!v)
		return;
	free_inside(v);
	free(v);
}

struct json *json_parse(const char *text, char *err, size_t err_len)
{
	struct parser ps = { text, 1, err, err_len, false };
	struct json *v = calloc(1, sizeof(*v));

	if (!v) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	if (parse_value(&ps, v, 0)) {
		skip_space(&ps);
		if (!*ps.p)
			return v;
		fail(&ps, "text after the end");
	}
	json_free(v);
	return NULL;
}
