/* The host's wall clock in the stream: see hostclock.h. */
#include <string.h>

#include "hostclock.h"

void
hostclock_pack(uint8_t out[HOSTCLOCK_PACKET_SIZE], int64_t wall_us)
{
	uint64_t v = (uint64_t)wall_us;

	memcpy(out, HOSTCLOCK_KEY, HOSTCLOCK_KEY_SIZE);
	out[HOSTCLOCK_KEY_SIZE] = 8;
	for (int i = 0; i < 8; i++)
		out[HOSTCLOCK_KEY_SIZE + 1 + i] = v >> (56 - 8 * i);
}

gboolean
hostclock_parse(const uint8_t *p, size_t len, int64_t *wall_us)
{
	size_t i = 0;

	while (len - i > HOSTCLOCK_KEY_SIZE) {
		const uint8_t *key = p + i;
		size_t n, vlen = 0;

		i += HOSTCLOCK_KEY_SIZE;
		/* BER: short form below 0x80, else 0x80 | the count of
		 * length bytes that follow. */
		if (p[i] < 0x80) {
			vlen = p[i++];
		} else {
			n = p[i++] & 0x7f;
			if (n > sizeof(size_t) || n > len - i)
				return FALSE;
			while (n-- > 0)
				vlen = vlen << 8 | p[i++];
		}
		if (vlen > len - i)
			return FALSE;
		if (memcmp(key, HOSTCLOCK_KEY, HOSTCLOCK_KEY_SIZE) == 0 &&
		    vlen == 8) {
			uint64_t v = 0;

			for (int j = 0; j < 8; j++)
				v = v << 8 | p[i + j];
			*wall_us = (int64_t)v;
			return TRUE;
		}
		i += vlen;
	}
	return FALSE;
}
