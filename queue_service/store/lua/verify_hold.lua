--! uses judge_one_time_code
-- Confirm a held place with the one-time code sent to its phone: the hold becomes 'booked'
-- and the booking's SMS event is written, in one step. A wrong code, or one typed too late,
-- is judged as judge_one_time_code.lua says (counted, or the hold released).
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
local verdict = judge_one_time_code({KEYS[1], KEYS[2]},
                                    {ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], b[2], b[3]})
if verdict[1] ~= 'right' then
  return verdict
end
local now = verdict[2]
redis.call('HSET', KEYS[1], 'status', 'booked', 'verified_ms', now)
redis.call('HDEL', KEYS[1], 'otp')
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], 'NX', now, ARGV[3] .. ':booked')
return {'ok'}
