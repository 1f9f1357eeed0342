-- Loaded by the pp-bridge test into a real mpv with no video output: counts
-- the video frames it shows (a tick with a new time-pos is one frame) and
-- logs the count when the file ends.
local frames, last = 0, nil

mp.register_event("tick", function()
	local t = mp.get_property_number("time-pos")
	if t ~= nil and t ~= last then
		frames = frames + 1
		last = t
	end
end)

mp.register_event("end-file", function()
	mp.msg.info("frames shown: " .. frames)
end)
