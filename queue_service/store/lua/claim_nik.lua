-- Claim a NIK's date for a booking about to be made (the one-booking-per-NIK-per-date rule).
-- The claim lives in the NIK's own cluster slot; the branch reservation follows it.
-- Each attempt claims with a fresh code, so a second run of the same call finds its own
-- claim and answers as the first did.
-- KEYS: 1 the NIK's day claim
-- ARGV: 1 code, 2 branch, 3 stale_ms, 4 the claim to take over as '<code>@<at>' ('' for none),
--       5 expire_at_ms, 6 least time to keep keys (ms)
-- The claim to take over is named by its time too: a claim its code made again since the
-- caller looked (a booking moved away and back) is a new claim, to be looked at afresh.
-- Returns {'claimed', at_ms} | {'busy'} (another attempt is in flight)
--       | {'held', code, branch, at}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local current = redis.call('HMGET', KEYS[1], 'code', 'branch', 'state', 'at')
if current[1] == ARGV[1] then
  return {'claimed', current[4]}
end
if current[1] and current[1] .. '@' .. (current[4] or '') ~= ARGV[4] then
  if current[3] == 'pending' and now - tonumber(current[4]) < tonumber(ARGV[3]) then
    return {'busy'}
  end
  return {'held', current[1], current[2], current[4]}
end
local expire_at = math.max(tonumber(ARGV[5]), now + tonumber(ARGV[6]))
redis.call('HSET', KEYS[1], 'code', ARGV[1], 'branch', ARGV[2], 'state', 'pending', 'at', now)
redis.call('PEXPIREAT', KEYS[1], expire_at)
return {'claimed', tostring(now)}
