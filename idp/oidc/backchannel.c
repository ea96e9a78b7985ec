/*
 * OIDC back-channel logout: logout tokens are POSTed to the clients' registered URIs by
 * one background thread, so a slow or dead relying party never holds up a logout page.
 * libcurl, no redirects, strict timeouts, capped answers.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "log.h"
#include "oidc.h"
#include "xmalloc.h"

#define QUEUE_MAX 1024

struct job {
	struct job *next;
	char *url;
	char *token;
	int64_t timeout;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct job *head, *tail;
static size_t queued;
static int running, stopping;
static pthread_t thread;
static char *ca_file;

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	return size * n;
}

static void
deliver(const struct job *j)
{
	CURL *c = curl_easy_init();
	char *esc, *body;
	long status = 0;
	CURLcode rc;

	if (c == NULL)
		return;
	esc = curl_easy_escape(c, j->token, 0);
	body = xasprintf("logout_token=%s", esc);
	curl_free(esc);
	curl_easy_setopt(c, CURLOPT_URL, j->url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(j->timeout * 1000));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(j->timeout * 1000));
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE, 65536L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	if (ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK || status < 200 || status > 299)
		log_warn("back-channel logout to %s failed: %s (HTTP %ld)", j->url,
		    rc != CURLE_OK ? curl_easy_strerror(rc) : "refused", status);
	else
		log_info("back-channel logout delivered to %s", j->url);
	curl_easy_cleanup(c);
	free(body);
}

static void *
run(void *arg)
{
	for (;;) {
		struct job *j;
		pthread_mutex_lock(&lock);
		while (head == NULL && !stopping)
			pthread_cond_wait(&cond, &lock);
		if (head == NULL) {
			pthread_mutex_unlock(&lock);
			return NULL;
		}
		j = head;
		head = j->next;
		if (head == NULL)
			tail = NULL;
		queued--;
		pthread_mutex_unlock(&lock);
		deliver(j);
		free(j->url);
		freezero_str(j->token);
		free(j);
	}
}

int
backchannel_start(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return -1;
	/* The process environment names no trust anchors: name them here. */
	ca_file = xstrdup("/etc/ssl/certs/ca-certificates.crt");
	stopping = 0;
	if (pthread_create(&thread, NULL, run, NULL) != 0)
		return -1;
	running = 1;
	return 0;
}

void
backchannel_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	running = 0;
	free(ca_file);
	ca_file = NULL;
	curl_global_cleanup();
}

void
backchannel_send(const char *url, const char *token, int64_t timeout)
{
	struct job *j;

	pthread_mutex_lock(&lock);
	if (!running || queued >= QUEUE_MAX) {
		pthread_mutex_unlock(&lock);
		log_warn("back-channel logout to %s dropped (%s)", url,
		    running ? "queue full" : "not running");
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->url = xstrdup(url);
	j->token = xstrdup(token);
	j->timeout = timeout;
	if (tail)
		tail->next = j;
	else
		head = j;
	tail = j;
	queued++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}
