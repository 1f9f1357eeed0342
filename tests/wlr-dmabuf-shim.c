/* Test fixture, loaded into xdg-desktop-portal-wlr with LD_PRELOAD.
 *
 * xdg-desktop-portal-wlr 0.7 only starts a cast once the compositor's
 * zwlr_screencopy_frame_v1 has sent a linux_dmabuf event, which a
 * compositor without a GPU (wlroots' pixman renderer) never does. This
 * wraps wl_proxy_add_listener for that interface and, after each shm
 * "buffer" event, also delivers "linux_dmabuf" with the matching DRM
 * fourcc, so the portal goes on; PipeWire still negotiates memfd buffers.
 * Only the test lab uses it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>

struct wl_proxy;

typedef void (*listener_fn)(void);

/* zwlr_screencopy_frame_v1_listener: buffer, flags, ready, failed, damage,
 * linux_dmabuf, buffer_done (protocol version 3). */
enum { EV_BUFFER, EV_FLAGS, EV_READY, EV_FAILED, EV_DAMAGE, EV_DMABUF,
    EV_BUFFER_DONE, EV_COUNT };

typedef void (*buffer_fn)(void *, struct wl_proxy *, uint32_t, uint32_t,
    uint32_t, uint32_t);
typedef void (*dmabuf_fn)(void *, struct wl_proxy *, uint32_t, uint32_t,
    uint32_t);

#define SLOTS 64
static struct {
	struct wl_proxy *proxy;
	const listener_fn *orig;
} slots[SLOTS];

static listener_fn wrapped[EV_COUNT];

static const listener_fn *
orig_listener(struct wl_proxy *proxy)
{
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].proxy == proxy)
			return slots[i].orig;
	return NULL;
}

/* wl_shm formats 0 and 1 are the only ones not equal to their fourcc. */
static uint32_t
shm_to_fourcc(uint32_t fmt)
{
	if (fmt == 0)
		return 0x34325241;	/* AR24 */
	if (fmt == 1)
		return 0x34325258;	/* XR24 */
	return fmt;
}

static void
on_buffer(void *data, struct wl_proxy *proxy, uint32_t fmt, uint32_t w,
    uint32_t h, uint32_t stride)
{
	const listener_fn *l = orig_listener(proxy);

	if (l == NULL)
		return;
	if (l[EV_BUFFER])
		((buffer_fn)l[EV_BUFFER])(data, proxy, fmt, w, h, stride);
	if (l[EV_DMABUF])
		((dmabuf_fn)l[EV_DMABUF])(data, proxy, shm_to_fourcc(fmt), w, h);
}

/* The other events go through a generic trampoline per slot index: the
 * arguments are passed on untouched, so one forwarder with the widest
 * signature (damage: four uint32) serves them all on x86-64 and arm64. */
#define FORWARD(name, idx) \
static void \
name(void *data, struct wl_proxy *proxy, uint32_t a, uint32_t b, \
    uint32_t c, uint32_t d) \
{ \
	const listener_fn *l = orig_listener(proxy); \
	if (l && l[idx]) \
		((buffer_fn)l[idx])(data, proxy, a, b, c, d); \
}
FORWARD(on_flags, EV_FLAGS)
FORWARD(on_ready, EV_READY)
FORWARD(on_failed, EV_FAILED)
FORWARD(on_damage, EV_DAMAGE)
FORWARD(on_buffer_done, EV_BUFFER_DONE)

static void
on_dmabuf(void *data, struct wl_proxy *proxy, uint32_t fmt, uint32_t w,
    uint32_t h)
{
	/* A real dmabuf offer never comes here; should one, pass it on. */
	const listener_fn *l = orig_listener(proxy);

	if (l && l[EV_DMABUF])
		((dmabuf_fn)l[EV_DMABUF])(data, proxy, fmt, w, h);
}

int wl_proxy_add_listener(struct wl_proxy *, void (**)(void), void *);
const char *wl_proxy_get_class(struct wl_proxy *);

int
wl_proxy_add_listener(struct wl_proxy *proxy, void (**impl)(void), void *data)
{
	static int (*real)(struct wl_proxy *, void (**)(void), void *);
	static int next;
	const char *cls;

	if (real == NULL)
		real = (int (*)(struct wl_proxy *, void (**)(void), void *))
		    dlsym(RTLD_NEXT, "wl_proxy_add_listener");
	cls = wl_proxy_get_class(proxy);
	if (cls == NULL || strcmp(cls, "zwlr_screencopy_frame_v1") != 0)
		return real(proxy, impl, data);

	wrapped[EV_BUFFER] = (listener_fn)on_buffer;
	wrapped[EV_FLAGS] = (listener_fn)on_flags;
	wrapped[EV_READY] = (listener_fn)on_ready;
	wrapped[EV_FAILED] = (listener_fn)on_failed;
	wrapped[EV_DAMAGE] = (listener_fn)on_damage;
	wrapped[EV_DMABUF] = (listener_fn)on_dmabuf;
	wrapped[EV_BUFFER_DONE] = (listener_fn)on_buffer_done;
	/* Frames are short-lived: a ring of slots outlives any in flight. */
	slots[next].proxy = proxy;
	slots[next].orig = (const listener_fn *)impl;
	next = (next + 1) % SLOTS;
	return real(proxy, wrapped, data);
}
