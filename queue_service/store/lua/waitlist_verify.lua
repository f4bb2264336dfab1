--! uses judge_one_time_code line_up
-- Confirm a waitlist entry held for its phone's one-time code (PHONE_VERIFICATION): the right
-- code puts it in line, 'waiting', counted among the day's waiters as one of its service for its
-- slot ('<service>/<slot>') or for any ('<service>/*'), in one step, its place in line taken now
-- (the waiters kept as long as the day's counts). A wrong code, or one typed too late, is
-- judged as judge_one_time_code.lua says (counted, or the entry released), as for a booking's
-- hold (verify_hold.lua). The entry joined only because the day was full; the
-- caller runs the offer step after, in case a place freed meanwhile.
-- Safe to run twice: an entry in line already answers 'ok' again, whatever the code.
-- KEYS: 1 the entry, 2 the branch's holds, 3 the day's waitlist, 4 day counts, 5 the day's waiters,
--       6 the branch's days with a waitlist
-- ARGV: 1 the code typed, 2 wrong codes allowed, 3 the entry's code, 4-6 release_holds.lua's key
--       prefixes, 7 the date's ordinal
-- Returns {'ok'} | {'missing'} | {'status', current} (left, expired) | {'wrong', left}
-- | {'released', 'deadline' | 'wrong'}
local e = redis.call('HMGET', KEYS[1], 'status', 'verify_by_ms', 'otp', 'otp_failures', 'slot', 'date',
                     'waitlist', 'accepted_ms', 'service_id')
if not e[1] or not e[7] then
  return {'missing'}
end
if e[1] ~= 'pending' or e[8] then
  if e[1] == 'left' or e[1] == 'expired' then
    return {'status', e[1]}
  end
  return {'ok'}
end
local verdict = judge_one_time_code({KEYS[1], KEYS[2]},
                                    {ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], e[2], e[3]})
if verdict[1] ~= 'right' then
  return verdict
end
local now = verdict[2]
redis.call('HSET', KEYS[1], 'status', 'waiting', 'verified_ms', now)
redis.call('HDEL', KEYS[1], 'otp', 'verify_by_ms')
redis.call('ZREM', KEYS[2], ARGV[3])
line_up({KEYS[3]}, {ARGV[3], now})
redis.call('HINCRBY', KEYS[5], e[9] .. '/' .. (e[5] == '' and '*' or e[5]), 1)
local keep = redis.call('PTTL', KEYS[4])
if keep > 0 and redis.call('PTTL', KEYS[5]) < keep then
  redis.call('PEXPIRE', KEYS[5], keep)
end
redis.call('HINCRBY', KEYS[4], 'wl:joined', 1)
redis.call('ZADD', KEYS[6], tonumber(ARGV[7]), e[6])
return {'ok'}
