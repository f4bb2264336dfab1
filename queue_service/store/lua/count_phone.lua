-- Count a booking about to be made against its phone's cap (BOOKINGS_PER_PHONE): the active
-- bookings of one phone number across all branches and dates. The count lives in the phone's
-- own cluster slot, apart from any branch; the branch reservation follows it, and a refused
-- reservation takes it back (release_phone.lua), as the NIK's claim is.
-- An entry whose visit day is over (by the caller's clock, which judges every day's rules) is
-- dropped here; a cancellation removes its booking's entry; a move to another date changes
-- its day (move_phone.lua).
-- Safe to run twice: a code already counted answers 'counted' again and counts once.
-- KEYS: 1 the phone's bookings (hash code -> '<day ends ms> <branch> <counted at ms>')
-- ARGV: 1 code, 2 branch, 3 when the visit day ends (ms), 4 the cap,
--       5 now by the caller's clock (ms), 6 least time to keep keys (ms)
-- Returns {'counted'} | {'too_many', now_ms (Redis clock), code, branch, at, ...}: every
-- entry still counted, for the caller to find any whose booking is gone
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  return {'counted'}
end
local entries = redis.call('HGETALL', KEYS[1])
local live = {}
local count = 0
local last = tonumber(ARGV[3])
for i = 1, #entries, 2 do
  local ends, branch, at = string.match(entries[i + 1], '^(%d+) (%S+) (%d+)$')
  if not ends or tonumber(ends) <= tonumber(ARGV[5]) then
    redis.call('HDEL', KEYS[1], entries[i])
  else
    count = count + 1
    live[#live + 1] = entries[i]
    live[#live + 1] = branch
    live[#live + 1] = at
    last = math.max(last, tonumber(ends))
  end
end
if count >= tonumber(ARGV[4]) then
  return {'too_many', tostring(now), unpack(live)}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3] .. ' ' .. ARGV[2] .. ' ' .. now)
redis.call('PEXPIREAT', KEYS[1], math.max(last, now + tonumber(ARGV[6])))
return {'counted'}
