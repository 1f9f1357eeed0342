/* Fuzz target: the host clock's KLV packets (lib/hostclock.c), which
 * pp-view reads out of any stream it is given. The input is one PES
 * payload, in an allocation of exactly its length. A clock found must
 * have its key and its value in the input (the length between them may
 * be in either BER form); and any 8 bytes packed as a clock must give
 * their own value back. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "hostclock.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = g_memdup2(data, size), pkt[HOSTCLOCK_PACKET_SIZE];
	int64_t wall, again;

	if (hostclock_parse(copy, size, &wall)) {
		hostclock_pack(pkt, wall);
		if (memmem(copy, size, pkt, HOSTCLOCK_KEY_SIZE) == NULL ||
		    memmem(copy, size, pkt + HOSTCLOCK_KEY_SIZE + 1, 8) == NULL)
			abort();
	}
	if (size >= 8) {
		memcpy(&wall, copy, sizeof(wall));
		hostclock_pack(pkt, wall);
		if (!hostclock_parse(pkt, sizeof(pkt), &again) || again != wall)
			abort();
	}
	g_free(copy);
	return 0;
}
