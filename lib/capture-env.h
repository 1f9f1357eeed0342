/* The environment pp-capture hands the program it runs (pp-encode), named
 * once for both sides: DESIGN.md's contract "pp-capture -> child".
 * pp-capture clears every one of them first, so that nothing the caller
 * had set passes for a fact of this capture. */
#pragma once

#define PP_ENV_SOURCE		"PP_SOURCE"	/* portal, x11 or test */
#define PP_ENV_PIPEWIRE_NODE	"PP_PIPEWIRE_NODE" /* portal: the node on fd 3 */
#define PP_ENV_WIDTH		"PP_WIDTH"	/* the picture's size, when known */
#define PP_ENV_HEIGHT		"PP_HEIGHT"
#define PP_ENV_DISPLAY		"PP_DISPLAY"	/* x11: the display */
#define PP_ENV_WINDOW_ID	"PP_WINDOW_ID"	/* x11: one window, 0x... */
#define PP_ENV_CURSOR		"PP_CURSOR"	/* embedded or hidden */
#define PP_ENV_AUDIO_DEVICE	"PP_AUDIO_DEVICE" /* what to record */
#define PP_ENV_MIC		"PP_MIC"	/* 1: mix the microphone in */
#define PP_ENV_NO_AUDIO		"PP_NO_AUDIO"	/* 1: no sound at all */

#define PP_ENV_ALL { PP_ENV_SOURCE, PP_ENV_PIPEWIRE_NODE, PP_ENV_WIDTH, \
	PP_ENV_HEIGHT, PP_ENV_DISPLAY, PP_ENV_WINDOW_ID, PP_ENV_CURSOR, \
	PP_ENV_AUDIO_DEVICE, PP_ENV_MIC, PP_ENV_NO_AUDIO, NULL }
