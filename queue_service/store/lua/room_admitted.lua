-- How far a waiting room's admission has got by now: places 0 .. count - 1 of its line are
-- in. Admission is a count, not a list: from base_ms it grows by rate a minute, plus the one
-- let in at base_ms itself, so no more than rate + 1 get in within any minute; a pause counts
-- as rate 0, and a change of rate or a pause moves the base to where it had got
-- (room_rate.lua). Before base_ms (the release) it is base_index: 0, or -1 for a room paused
-- before its release.
-- KEYS: 1 the room (hash)
-- ARGV: 1 now (ms, the app's clock)
-- Returns the count (a number)
local room = redis.call('HMGET', KEYS[1], 'base_ms', 'base_index', 'rate', 'paused')
local now = tonumber(ARGV[1])
local count = tonumber(room[2])
if now >= tonumber(room[1]) then
  local rate = tonumber(room[3])
  if room[4] == '1' then
    rate = 0
  end
  count = count + math.floor((now - tonumber(room[1])) * rate / 60000) + 1
end
return count
