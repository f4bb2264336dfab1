-- A booking moved to another date: its entry in its phone's count now ends with the new day.
-- Safe to run twice: it only sets what is already set. A booking not counted (made before
-- the cap existed) stays uncounted.
-- KEYS: 1 the phone's bookings
-- ARGV: 1 code, 2 when the new visit day ends (ms), 3 least time to keep keys (ms)
-- Returns 1 if the entry was there, else 0
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then
  return 0
end
local branch, at = string.match(entry, '^%d+ (%S+) (%d+)$')
if not branch then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. branch .. ' ' .. at)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expire_at = math.max(tonumber(ARGV[2]), now + tonumber(ARGV[3]))
local ttl = redis.call('PTTL', KEYS[1])
if ttl >= 0 and ttl < expire_at - now then
  redis.call('PEXPIREAT', KEYS[1], expire_at)
end
return 1
