/*
 * ahead.c - a worker thread that parses queued messages in order.
 *
 * Two queues share the items: `all` holds what the caller has not popped
 * yet, `todo` what the worker has not started.  The worker takes from
 * todo, parses without the lock, and marks the item parsed; the caller
 * pops from all and waits on the condition until its item is parsed.
 */
#include <string.h>

#include <glib.h>

#include "mailproc/ahead.h"

struct ahead {
	GMutex mu;
	GCond cond;
	GQueue all;		/* pushed, not popped; oldest first */
	GQueue todo;		/* pushed, not started by the worker */
	ahead_item *busy;	/* being parsed, outside the lock */
	size_t bytes;		/* of the items in all */
	int stop;
	GThread *thread;
	const msg_limits *lim;
	size_t max_bytes;
};

static gpointer
worker(gpointer p)
{
	ahead *a = p;

	g_mutex_lock(&a->mu);
	for (;;) {
		ahead_item *it;

		while (!a->stop && g_queue_is_empty(&a->todo))
			g_cond_wait(&a->cond, &a->mu);
		if (a->stop)
			break;
		it = g_queue_pop_head(&a->todo);
		a->busy = it;
		g_mutex_unlock(&a->mu);
		if (it->len > a->max_bytes)
			it->rc = MP_ERR_LIMIT;
		else
			it->rc = msg_parse(it->raw, it->len, a->lim, &it->m,
			    &it->why);
		g_mutex_lock(&a->mu);
		it->parsed = 1;
		a->busy = NULL;
		g_cond_broadcast(&a->cond);
	}
	g_mutex_unlock(&a->mu);
	return NULL;
}

mp_status
ahead_new(const msg_limits *lim, size_t max_bytes, ahead **out)
{
	ahead *a = g_new0(ahead, 1);
	GError *err = NULL;

	g_mutex_init(&a->mu);
	g_cond_init(&a->cond);
	g_queue_init(&a->all);
	g_queue_init(&a->todo);
	a->lim = lim;
	a->max_bytes = max_bytes;
	a->thread = g_thread_try_new("mailproc-parse", worker, a, &err);
	if (a->thread == NULL) {
		g_error_free(err);
		g_mutex_clear(&a->mu);
		g_cond_clear(&a->cond);
		g_free(a);
		*out = NULL;
		return MP_ERR_INTERNAL;
	}
	*out = a;
	return MP_OK;
}

void
ahead_push(ahead *a, uint64_t tag, const char *raw, size_t len)
{
	ahead_item *it = g_new0(ahead_item, 1);

	it->tag = tag;
	it->raw = g_malloc(len + 1);
	memcpy(it->raw, raw, len);
	it->raw[len] = '\0';
	it->len = len;
	g_mutex_lock(&a->mu);
	g_queue_push_tail(&a->all, it);
	g_queue_push_tail(&a->todo, it);
	a->bytes += len;
	g_cond_broadcast(&a->cond);
	g_mutex_unlock(&a->mu);
}

ahead_item *
ahead_pop(ahead *a)
{
	ahead_item *it;

	g_mutex_lock(&a->mu);
	it = g_queue_pop_head(&a->all);
	while (it != NULL && !it->parsed)
		g_cond_wait(&a->cond, &a->mu);
	if (it != NULL)
		a->bytes -= it->len;
	g_mutex_unlock(&a->mu);
	return it;
}

size_t
ahead_bytes(ahead *a)
{
	size_t n;

	g_mutex_lock(&a->mu);
	n = a->bytes;
	g_mutex_unlock(&a->mu);
	return n;
}

void
ahead_item_free(ahead_item *it)
{
	if (it == NULL)
		return;
	msg_free(it->m);
	g_free(it->why);
	g_free(it->raw);
	g_free(it);
}

void
ahead_clear(ahead *a)
{
	ahead_item *it;

	g_mutex_lock(&a->mu);
	g_queue_clear(&a->todo);
	while (a->busy != NULL)
		g_cond_wait(&a->cond, &a->mu);
	while ((it = g_queue_pop_head(&a->all)) != NULL)
		ahead_item_free(it);
	a->bytes = 0;
	g_mutex_unlock(&a->mu);
}

void
ahead_free(ahead *a)
{
	if (a == NULL)
		return;
	g_mutex_lock(&a->mu);
	a->stop = 1;
	g_cond_broadcast(&a->cond);
	g_mutex_unlock(&a->mu);
	g_thread_join(a->thread);
	ahead_clear(a);
	g_mutex_clear(&a->mu);
	g_cond_clear(&a->cond);
	g_free(a);
}
