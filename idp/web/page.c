/*
 * Page rendering with templates and message catalogs.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "embedded.h"
#include "encode.h"
#include "log.h"
#include "page.h"
#include "xmalloc.h"

#define PAGE_MAX_FILES 96
#define PAGE_MAX_FILE_SIZE (256 * 1024)

struct page_file {
	char *name;
	char *data;
	size_t len;
};

struct pages {
	struct page_file files[PAGE_MAX_FILES];
	size_t n;
	struct tmpl_msgs *msgs_en, *msgs_ja;
};

static char *
read_override(const char *dir, const char *name, size_t *len_r)
{
	char *path = xasprintf("%s/%s", dir, name), *data = NULL;
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd != -1 && fstat(fd, &sb) == 0 && sb.st_size < PAGE_MAX_FILE_SIZE) {
		data = xmalloc((size_t)sb.st_size + 1);
		if (read(fd, data, (size_t)sb.st_size) != sb.st_size) {
			free(data);
			data = NULL;
		} else {
			data[sb.st_size] = '\0';
			*len_r = (size_t)sb.st_size;
		}
	}
	if (fd != -1)
		close(fd);
	free(path);
	return data;
}

static const struct page_file *
find_file(const struct pages *p, const char *name, size_t nlen)
{
	for (size_t i = 0; i < p->n; i++)
		if (strlen(p->files[i].name) == nlen && !memcmp(p->files[i].name, name, nlen))
			return &p->files[i];
	return NULL;
}

struct pages *
pages_load(const char *override_dir, const char **errstr)
{
	struct pages *p = xcalloc(1, sizeof(*p));
	const struct page_file *en, *ja;

	for (const struct embedded_file *e = embedded_files; e->name; e++) {
		struct page_file *f = &p->files[p->n++];
		char *data = override_dir ? read_override(override_dir, e->name, &f->len) : NULL;
		if (data)
			log_info("page %s from %s", e->name, override_dir);
		f->name = xstrdup(e->name);
		f->data = data ? data : xmemdup(e->data, e->len + 1);
		if (!data)
			f->len = e->len;
		if (p->n == PAGE_MAX_FILES)
			break;
	}
	en = find_file(p, "messages.en", 11);
	ja = find_file(p, "messages.ja", 11);
	if (en == NULL || ja == NULL ||
	    (p->msgs_en = tmpl_msgs_parse(en->data, en->len, errstr)) == NULL ||
	    (p->msgs_ja = tmpl_msgs_parse(ja->data, ja->len, errstr)) == NULL) {
		if (en == NULL || ja == NULL)
			*errstr = "message catalogs missing";
		pages_free(p);
		return NULL;
	}
	return p;
}

void
pages_free(struct pages *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->files[i].name);
		free(p->files[i].data);
	}
	tmpl_msgs_free(p->msgs_en);
	tmpl_msgs_free(p->msgs_ja);
	free(p);
}

/* The best of ja/en by q-value in Accept-Language; English when neither is listed. */
static const char *
accept_language(const char *al)
{
	double best_q = -1;
	const char *best = "en";

	while (al && *al) {
		size_t len = strcspn(al, ",");
		char tag[16] = "";
		double q = 1.0;
		const char *semi = memchr(al, ';', len), *t = al;
		size_t tl;

		while (t < al + len && *t == ' ')
			t++;
		tl = (size_t)((semi ? semi : al + len) - t);
		while (tl && t[tl - 1] == ' ')
			tl--;
		if (tl < sizeof(tag)) {
			memcpy(tag, t, tl);
			tag[tl] = '\0';
		}
		if (semi) {
			const char *qs = strstr(semi, "q=");
			if (qs && qs < al + len)
				q = strtod(qs + 2, NULL);
		}
		if (q > best_q && (!strncasecmp(tag, "ja", 2) || !strncasecmp(tag, "en", 2)) &&
		    (tag[2] == '\0' || tag[2] == '-')) {
			best_q = q;
			best = !strncasecmp(tag, "ja", 2) ? "ja" : "en";
		}
		al += len + (al[len] == ',');
	}
	return best;
}

const char *
page_lang(struct http_req *req)
{
	const char *q = form_get(http_query(req), "lang");
	const char *c = http_cookie(req, "sekisho_lang");

	if (q && (!strcmp(q, "ja") || !strcmp(q, "en"))) {
		http_set_cookie(req, "sekisho_lang", q, "/", 365 * 86400);
		return !strcmp(q, "ja") ? "ja" : "en";
	}
	if (c && (!strcmp(c, "ja") || !strcmp(c, "en")))
		return !strcmp(c, "ja") ? "ja" : "en";
	return accept_language(http_header(req, "Accept-Language"));
}

const char *
page_msg(const struct pages *p, const char *lang, const char *key)
{
	const char *m = tmpl_msg(!strcmp(lang, "ja") ? p->msgs_ja : p->msgs_en, key);

	return m ? m : key;
}

static int
partial(const char *name, size_t nlen, const char **text_r, size_t *len_r, void *arg)
{
	const struct page_file *f = find_file(arg, name, nlen);

	if (f == NULL)
		return -1;
	*text_r = f->data;
	*len_r = f->len;
	return 0;
}

/* The current URL with lang switched to the other language, keeping other parameters. */
static char *
lang_switch_url(struct http_req *req, const char *other)
{
	const struct form *q = http_query(req);
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, http_path(req));
	buf_putc(&b, '?');
	for (size_t i = 0; i < q->n; i++) {
		char *n, *v;
		if (!strcmp(q->f[i].name, "lang"))
			continue;
		n = url_encode(q->f[i].name);
		v = url_encode(q->f[i].value);
		buf_printf(&b, "%s=%s&", n, v);
		free(n);
		free(v);
	}
	buf_printf(&b, "lang=%s", other);
	return buf_steal(&b, NULL);
}

static void
render(const struct pages *p, struct http_req *req, int status, const char *name,
    struct tmpl_vars *v, const char *lang)
{
	struct tmpl_env env = { !strcmp(lang, "ja") ? p->msgs_ja : p->msgs_en, partial,
		(void *)p };
	const struct page_file *f = find_file(p, name, strlen(name));
	const char *other = !strcmp(lang, "ja") ? "en" : "ja", *err;
	const struct page_brand *b;
	char *sw = lang_switch_url(req, other);
	struct buf out;

	tmpl_set(v, "lang", lang);
	tmpl_set(v, "other_lang", other);
	tmpl_set(v, "lang_switch_url", sw);
	free(sw);
	if ((b = http_get_data(req)) != NULL) {
		tmpl_set(v, "brand_name", b->name);
		tmpl_set(v, "brand_logo", b->logo_url);
		tmpl_set(v, "brand_css", b->css_url);
		tmpl_set(v, "brand_help_url", b->help_url);
	}
	buf_init(&out, 0);
	if (f == NULL || tmpl_render(f->data, f->len, v, &env, &out, &err) == -1) {
		log_error("template %s: %s", name, f ? err : "missing");
		buf_free(&out);
		http_status(req, 500);
		http_body_copy(req, "text/plain; charset=utf-8", "500\n", 4);
		return;
	}
	http_status(req, status);
	http_body_take(req, "text/html; charset=utf-8", out.data, out.len);
}

void
page_set_brand(struct http_req *req, const struct page_brand *b)
{
	http_set_data(req, (void *)b, NULL);
}

void
page_render(const struct pages *p, struct http_req *req, int status, const char *name,
    struct tmpl_vars *v)
{
	render(p, req, status, name, v, page_lang(req));
}

void
page_error(const struct pages *p, struct http_req *req, int status, const char *msgkey,
    const char *hintkey)
{
	const char *lang = page_lang(req);
	struct tmpl_vars *v = tmpl_vars_new();

	tmpl_set(v, "title", page_msg(p, lang, "error_title"));
	tmpl_set(v, "message", page_msg(p, lang, msgkey));
	if (hintkey)
		tmpl_set(v, "hint", page_msg(p, lang, hintkey));
	render(p, req, status, "error.html", v, lang);
	tmpl_vars_free(v);
}

/* scheme://host[:port] of an absolute URL, for form-action. */
static char *
origin_of(const char *url)
{
	const char *s = strstr(url, "://");
	size_t n;

	if (s == NULL)
		return NULL;
	n = (size_t)(s + 3 - url) + strcspn(s + 3, "/?#");
	return xstrndup(url, n);
}

void
page_post(const struct pages *p, struct http_req *req, const char *action, const char *field,
    const char *value, const char *relay_state)
{
	const char *names[] = { field, "RelayState" };
	const char *values[] = { value, relay_state };

	page_post_fields(p, req, action, names, values, 2);
}

void
page_post_fields(const struct pages *p, struct http_req *req, const char *action,
    const char *const *names, const char *const *values, size_t n)
{
	struct tmpl_vars *v = tmpl_vars_new();
	char *nonce = crypto_random_token(18), *origin = origin_of(action), *csp;

	/* Origins in CSP are plain host sources: refuse anything odd rather than inject. */
	if (origin == NULL || strpbrk(origin, " ;,'\"")) {
		free(origin);
		origin = xstrdup("'none'");
	}
	csp = xasprintf("default-src 'none'; script-src 'nonce-%s'; form-action %s; "
	    "frame-ancestors 'none'; base-uri 'none'", nonce, origin);
	http_set_csp(req, csp);
	tmpl_set(v, "action", action);
	for (size_t i = 0; i < n; i++) {
		struct tmpl_vars *f;
		if (values[i] == NULL)
			continue;
		f = tmpl_add_item(v, "fields");
		tmpl_set(f, "name", names[i]);
		tmpl_set(f, "value", values[i]);
	}
	tmpl_set(v, "nonce", nonce);
	render(p, req, 200, "post.html", v, page_lang(req));
	tmpl_vars_free(v);
	free(csp);
	free(origin);
	free(nonce);
}

void
page_allow_script(struct http_req *req)
{
	http_set_csp(req, "default-src 'none'; script-src 'self'; style-src 'self'; "
	    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
}

/* What /static/ serves: the built-in files a page loads, nothing else. */
static const struct {
	const char *name;
	const char *type;
} static_files[] = {
	{ "sekisho.css", "text/css; charset=utf-8" },
	{ "webauthn.js", "application/javascript; charset=utf-8" },
};

void
page_static(const struct pages *p, struct http_req *req, const char *name)
{
	const struct page_file *f = find_file(p, name, strlen(name));
	size_t i, n = sizeof(static_files) / sizeof(static_files[0]);

	for (i = 0; i < n && strcmp(name, static_files[i].name); i++)
		;
	if (f == NULL || i == n) {
		http_status(req, 404);
		return;
	}
	http_add_header(req, "Cache-Control", "public, max-age=86400");
	http_body_copy(req, static_files[i].type, f->data, f->len);
}

int
page_render_text(const struct pages *p, const char *name, const struct tmpl_vars *v,
    struct buf *out)
{
	struct tmpl_env env = { p->msgs_en, partial, (void *)p };
	const struct page_file *f = find_file(p, name, strlen(name));
	const char *err;

	buf_init(out, 0);
	if (f == NULL || tmpl_render(f->data, f->len, v, &env, out, &err) == -1) {
		log_error("template %s: %s", name, f ? err : "missing");
		buf_free(out);
		return -1;
	}
	return 0;
}
