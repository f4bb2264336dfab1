-- Send a held place's phone a new one-time code: at most so many sends a hold and one per
-- interval (an SMS costs money and a phone's owner is not to be flooded). The new code
-- replaces the old, and its SMS event is written in the same step; wrong codes typed so far
-- still count.
-- KEYS: 1 the booking, 2 the branch's SMS outbox
-- ARGV: 1 the new code, 2 sends allowed per hold (the first included), 3 least time between
--       two sends (ms), 4 the booking's code
-- Returns {'ok', sends} | {'missing'} | {'status', current} (not held: confirmed, cancelled,
-- expired) | {'expired'} (the deadline has passed) | {'too_many', ms until the deadline}
--       | {'too_soon', ms until the next send is allowed}
local b = redis.call('HMGET', KEYS[1], 'status', 'verify_by_ms', 'otp_sends', 'otp_sent_ms')
if not b[1] then
  return {'missing'}
end
if b[1] ~= 'pending' then
  return {'status', b[1]}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now >= tonumber(b[2]) then
  return {'expired'}
end
local sends = tonumber(b[3] or '1')
if sends >= tonumber(ARGV[2]) then
  return {'too_many', tostring(tonumber(b[2]) - now)}
end
local wait = tonumber(b[4] or '0') + tonumber(ARGV[3]) - now
if wait > 0 then
  return {'too_soon', tostring(wait)}
end
sends = sends + 1
redis.call('HSET', KEYS[1], 'otp', ARGV[1], 'otp_sends', sends, 'otp_sent_ms', now)
redis.call('ZADD', KEYS[2], 'NX', now, ARGV[4] .. ':otp' .. sends)
return {'ok', tostring(sends)}
