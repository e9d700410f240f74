-- SPDX-License-Identifier: Apache-2.0
-- mpv_screenshot.lua: run_mpv.sh's probe. mpv starts paused (--pause); when the
-- first frame is on screen, the probe has the video output render the window
-- once more into a file (screenshot-to-file ... window: with --vo=gpu and
-- gpu-next that is a Vulkan render and a readback), then lets playback go on.
-- Paused, the frame is always the first one (playing, gpu-next sometimes shows
-- the second by then), so the test can compare pixels with and without the
-- layer. The file name comes from --script-opts=mpv_screenshot-file=PATH.
local options = { file = "" }
require("mp.options").read_options(options, "mpv_screenshot")

local taken = false
mp.register_event("playback-restart", function()
    if taken or options.file == "" then
        return
    end
    taken = true
    mp.commandv("screenshot-to-file", options.file, "window")
    mp.set_property_bool("pause", false)
end)
