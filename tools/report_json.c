/* libadagrad — adagrad-report: a small JSON reader (RFC 8259), enough to read
 * back the report's own --json output and tools/torch_compare.py's.
 * SPDX-License-Identifier: MIT
 *
 * Recursive descent into a tree of rjson values; \u escapes outside ASCII
 * become '?', which the report never needs. Nesting is limited to 64.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

typedef struct parser {
    const char *p, *end;
    char *err;
    size_t err_size;
    int depth;
} parser;

static int fail(parser *ps, const char *fmt, ...)
{
    if (ps->err && ps->err[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err, ps->err_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void skip_space(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int parse_value(parser *ps, rjson *out);

/* A string after its opening quote, into a new NUL-terminated buffer. */
static int parse_string(parser *ps, char **out)
{
    char *buf = malloc((size_t)(ps->end - ps->p) + 1), *w = buf;
    if (!buf)
        return fail(ps, "out of memory");
    while (ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p++;
        if ((unsigned char)c < 0x20) {
            free(buf);
            return fail(ps, "control character in a string");
        }
        if (c == '\\') {
            if (ps->p >= ps->end)
                break;
            c = *ps->p++;
            switch (c) {
            case '"': case '\\': case '/': *w++ = c; break;
            case 'b': *w++ = '\b'; break;
            case 'f': *w++ = '\f'; break;
            case 'n': *w++ = '\n'; break;
            case 'r': *w++ = '\r'; break;
            case 't': *w++ = '\t'; break;
            case 'u': {
                if (ps->end - ps->p < 4) {
                    free(buf);
                    return fail(ps, "truncated \\u escape");
                }
                char hex[5] = {ps->p[0], ps->p[1], ps->p[2], ps->p[3], 0}, *hend;
                const long code = strtol(hex, &hend, 16);
                if (hend != hex + 4) {
                    free(buf);
                    return fail(ps, "bad \\u escape");
                }
                ps->p += 4;
                *w++ = code < 0x80 ? (char)code : '?';
                break;
            }
            default: free(buf); return fail(ps, "bad escape \\%c", c);
            }
        } else {
            *w++ = c;
        }
    }
    if (ps->p >= ps->end) {
        free(buf);
        return fail(ps, "unterminated string");
    }
    ps->p++; /* closing quote */
    *w = '\0';
    *out = buf;
    return 0;
}

static int push(parser *ps, rjson *container, size_t *cap)
{
    if (container->count == *cap) {
        const size_t n = *cap ? 2 * *cap : 8;
        rjson *items = realloc(container->items, n * sizeof *items);
        if (!items)
            return fail(ps, "out of memory");
        container->items = items;
        if (container->type == RJSON_OBJECT) {
            char **keys = realloc(container->keys, n * sizeof *keys);
            if (!keys)
                return fail(ps, "out of memory");
            container->keys = keys;
        }
        *cap = n;
    }
    memset(&container->items[container->count], 0, sizeof container->items[0]);
    return 0;
}

static int parse_container(parser *ps, rjson *out, char close)
{
    size_t cap = 0;
    out->type = close == ']' ? RJSON_ARRAY : RJSON_OBJECT;
    if (++ps->depth > 64)
        return fail(ps, "nesting deeper than 64");
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return 0;
    }
    for (;;) {
        if (push(ps, out, &cap) != 0)
            return -1;
        if (out->type == RJSON_OBJECT) {
            skip_space(ps);
            if (ps->p >= ps->end || *ps->p != '"')
                return fail(ps, "expected a key");
            ps->p++;
            if (parse_string(ps, &out->keys[out->count]) != 0)
                return -1;
            skip_space(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(out->keys[out->count]);
                return fail(ps, "expected ':'");
            }
            ps->p++;
        }
        out->count++; /* counted before parsing, so rjson_free sees a half-built value */
        if (parse_value(ps, &out->items[out->count - 1]) != 0)
            return -1;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            ps->depth--;
            return 0;
        }
        return fail(ps, "expected ',' or '%c'", close);
    }
}

static int literal(parser *ps, const char *word)
{
    const size_t len = strlen(word);
    if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0)
        return fail(ps, "unexpected character '%c'", *ps->p);
    ps->p += len;
    return 0;
}

static int parse_value(parser *ps, rjson *out)
{
    memset(out, 0, sizeof *out);
    skip_space(ps);
    if (ps->p >= ps->end)
        return fail(ps, "unexpected end of input");
    const char c = *ps->p;
    if (c == '{' || c == '[') {
        ps->p++;
        return parse_container(ps, out, c == '{' ? '}' : ']');
    }
    if (c == '"') {
        ps->p++;
        out->type = RJSON_STRING;
        return parse_string(ps, &out->string);
    }
    if (c == 't' || c == 'f') {
        out->type = RJSON_BOOL;
        out->number = c == 't';
        return literal(ps, c == 't' ? "true" : "false");
    }
    if (c == 'n') {
        out->type = RJSON_NULL;
        return literal(ps, "null");
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        char buf[64];
        size_t len = 0;
        while (ps->p + len < ps->end && len < sizeof buf - 1 && strchr("+-0123456789.eE", ps->p[len]))
            len++;
        memcpy(buf, ps->p, len);
        buf[len] = '\0';
        char *end;
        out->type = RJSON_NUMBER;
        out->number = strtod(buf, &end);
        if (end != buf + len)
            return fail(ps, "bad number '%s'", buf);
        ps->p += len;
        return 0;
    }
    return fail(ps, "unexpected character '%c'", c);
}

int rjson_parse(const char *text, size_t len, rjson *out, char *err, size_t err_size)
{
    parser ps = {text, text + len, err, err_size, 0};
    if (err && err_size)
        err[0] = '\0';
    int status = parse_value(&ps, out);
    if (status == 0) {
        skip_space(&ps);
        if (ps.p != ps.end)
            status = fail(&ps, "trailing characters after the value");
    }
    if (status != 0) {
        const char *line_start = text;
        size_t line = 1;
        for (const char *q = text; q < ps.p && q < ps.end; q++)
            if (*q == '\n') {
                line++;
                line_start = q + 1;
            }
        if (err) {
            char where[48];
            snprintf(where, sizeof where, " (line %zu, column %zu)", line, (size_t)(ps.p - line_start) + 1);
            strncat(err, where, err_size - strlen(err) - 1);
        }
        rjson_free(out);
    }
    return status;
}

void rjson_free(rjson *v)
{
    for (size_t i = 0; i < v->count; i++) {
        rjson_free(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
    memset(v, 0, sizeof *v);
}

const rjson *rjson_get(const rjson *object, const char *key)
{
    if (!object || object->type != RJSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < object->count; i++)
        if (strcmp(object->keys[i], key) == 0)
            return &object->items[i];
    return NULL;
}

double rjson_number(const rjson *v) { return v && v->type == RJSON_NUMBER ? v->number : NAN; }

const char *rjson_string(const rjson *v) { return v && v->type == RJSON_STRING ? v->string : ""; }

char *report_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, used = 0;
    char *buf = malloc(cap);
    while (buf) {
        used += fread(buf + used, 1, cap - used - 1, f);
        if (used < cap - 1)
            break;
        char *bigger = realloc(buf, 2 * cap);
        if (!bigger) {
            free(buf);
            buf = NULL;
            errno = ENOMEM;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    const int failed = ferror(f);
    fclose(f);
    if (!buf)
        return NULL;
    if (failed) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[used] = '\0';
    if (len)
        *len = used;
    return buf;
}
