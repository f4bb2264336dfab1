--! uses release_holds
-- Confirm a held place with the one-time code sent to its phone: the hold becomes 'booked'
-- and the booking's SMS event is written, in one step. A wrong code counts; the last wrong
-- one allowed, or a code typed after the deadline (Redis's clock), releases the hold at
-- once (release_holds.lua), so its place is free for the next person.
-- Safe to run twice (a client that re-sent it after a lost reply): a hold confirmed already
-- answers 'ok' again, whatever the code.
-- KEYS: 1 the booking, 2 the branch's holds, 3 the branch's SMS outbox
-- ARGV: 1 the code typed, 2 wrong codes allowed per hold, 3 the booking's code,
--       4-6 release_holds.lua's key prefixes (booking, slot counts, day counts)
-- Returns {'ok'} | {'missing'} | {'status', current} (neither held nor confirmed: cancelled,
-- expired) | {'wrong', wrong codes left} | {'released', 'deadline' | 'wrong'} (the deadline
-- had passed, or that was the last wrong code allowed)
local b = redis.call('HMGET', KEYS[1], 'status', 'verify_by_ms', 'otp', 'otp_failures')
if not b[1] then
  return {'missing'}
end
if b[1] ~= 'pending' then
  if b[1] == 'cancelled' or b[1] == 'expired' then
    return {'status', b[1]}
  end
  return {'ok'}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local release_args = {ARGV[4], ARGV[5], ARGV[6], 0, ARGV[3]}
if now >= tonumber(b[2]) then
  release_holds({KEYS[2]}, release_args)
  return {'released', 'deadline'}
end
if b[3] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'status', 'booked', 'verified_ms', now)
  redis.call('HDEL', KEYS[1], 'otp')
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('ZADD', KEYS[3], 'NX', now, ARGV[3] .. ':booked')
  return {'ok'}
end
local failures = redis.call('HINCRBY', KEYS[1], 'otp_failures', 1)
if failures >= tonumber(ARGV[2]) then
  release_holds({KEYS[2]}, release_args)
  return {'released', 'wrong'}
end
return {'wrong', tostring(tonumber(ARGV[2]) - failures)}
