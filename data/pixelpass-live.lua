-- pixelpass-live.lua: keeps mpv live on a live stream.
--
-- mpv plays a stream at normal speed from where it started, so what was
-- buffered while it opened its window and its audio output, or what piled
-- up during a stall, stays as delay for as long as it plays. This script
-- watches how much the demuxer holds ahead of what is being played
-- (demuxer-cache-duration). When the least of it over the last half
-- second is more than twice a small target, it plays faster in proportion,
-- picture and sound together (mpv keeps the pitch and the sync), until
-- that is down to the target; then at normal speed again. The gap between
-- the two keeps it from swinging around the target, where packets come
-- and go a frame at a time. pp-bridge(1) passes it to the mpv it starts.
--
-- Options (--script-opts=pixelpass-live-NAME=VALUE):
--   target     seconds ahead that count as live (0.01)
--   gain       extra speed per second ahead (3)
--   max_speed  the fastest it plays while catching up (2)

local options = require "mp.options"

local o = { target = 0.01, gain = 3, max_speed = 2 }
options.read_options(o, "pixelpass-live")

local PERIOD = 0.1	-- seconds between looks
local WINDOW = 5	-- looks whose least counts: jitter is not delay
local NOTICE = 0.25	-- seconds behind worth a line in the log

local unpack = table.unpack or unpack

local ahead = {}
local speed = 1
local told = false

local function look()
	local q = mp.get_property_number("demuxer-cache-duration")
	if q == nil or mp.get_property_bool("pause") then
		return
	end
	table.insert(ahead, q)
	if #ahead > WINDOW then
		table.remove(ahead, 1)
	end
	local least = math.min(unpack(ahead))
	local want = 1
	if least > (speed > 1 and 1 or 2) * o.target then
		want = math.min(1 + least * o.gain, o.max_speed)
	end
	-- Said only when it is enough to notice, once each way.
	if not told and least >= NOTICE then
		mp.msg.info(string.format("%.2f s behind live: catching up", least))
		told = true
	elseif told and want == 1 then
		mp.msg.info("live again")
		told = false
	end
	if math.abs(want - speed) < 0.01 then
		return
	end
	speed = want
	mp.set_property_number("speed", speed)
end

mp.add_periodic_timer(PERIOD, look)
