-- Write a waiting room's hash the first time anything touches it (a join, an admin's change
-- of rate): its times, its rate, admission based at its release, an empty line. Its keys
-- live until the room's end and some hours more, but never less than a day from now on
-- Redis's own clock (the caller's may stand on a fixed day, as tests do).
-- KEYS: 1 the room (hash)
-- ARGV: 1 expire at (ms), 2 release_ms, 3 opens_ms, 4 closes_ms, 5 rate per minute, 6 room id
-- Returns when its keys expire (ms), for the caller's other keys of the room
local t = redis.call('TIME')
local expire_at = math.max(tonumber(ARGV[1]), tonumber(t[1]) * 1000 + 86400000)
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'release_ms', ARGV[2], 'opens_ms', ARGV[3], 'closes_ms', ARGV[4],
             'rate', ARGV[5], 'base_ms', ARGV[2], 'base_index', 0, 'room', ARGV[6], 'next_index', 0)
  redis.call('PEXPIREAT', KEYS[1], expire_at)
end
return expire_at
