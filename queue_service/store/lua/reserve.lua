--! uses place_refusal release_holds key_booked record_fields
-- Reserve one place: check the day is open, the day's and the service's quota and the slot's
-- capacity, take the next queue number and write the booking and its SMS event, all or nothing.
-- With a hold time (PHONE_VERIFICATION) the place is held 'pending' until the phone's
-- one-time code confirms it (verify_hold.lua): its SMS event is the code's, not the booking's.
-- The branch's holds whose time ran out are released first, so their places count as free.
-- Quotas and closures are read here (place_refusal.lua), not passed in.
-- Safe to run twice for one attempt (a client that re-sent it after a lost reply): the second
-- run finds the booking of its own attempt and answers as the first did.
-- KEYS: 1 settings, 2 date overrides, 3 slot counts, 4 day counts, 5 queue sequence,
--       6 day's booking index, 7 the booking, 8 the branch's SMS outbox,
--       9 the branch's copy of the national closures, 10 the branch's holds,
--       11 the request's Idempotency-Key record (untouched when ARGV[18] is ''),
--       12 the date's waitlist waiters
-- ARGV: 1 code, 2 date, 3 slot, 4 service, 5 prefix, 6 claim_at_ms, 7 claim_window_ms,
--       8 expire_at_ms, 9 booking fields (JSON object of strings), 10 attempt token,
--       11 SHA-1 of the settings the slot was computed from, 12 least time to keep keys (ms),
--       13 how long the place is held for the phone's code (ms; 0: booked at once),
--       14 the one-time code, 15-17 release_holds.lua's key prefixes (booking, slot counts,
--       day counts), 18 the digest of the request ('' without an Idempotency-Key),
--       19 least time to keep the key's record (ms)
-- Returns {'ok', queue_number, created_ms, status, verify_by_ms ('' when booked)},
-- {'idempotent', digest, code} (the key booked already: nothing written) or {refusal}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local mine = redis.call('HMGET', KEYS[7], 'attempt', 'queue_number', 'created_ms', 'status', 'verify_by_ms')
if mine[1] then
  if mine[1] == ARGV[10] then
    return {'ok', mine[2], mine[3], mine[4], mine[5] or ''}
  end
  return {'code_taken'}
end
-- A key that booked already books nothing more: the caller answers with that booking.
local booked = key_booked({KEYS[11]}, {ARGV[18]})
if booked then
  return booked
end
-- A NIK claim older than the window may be taken over by another attempt: never book on it.
if now - tonumber(ARGV[6]) > tonumber(ARGV[7]) then
  return {'claim_expired'}
end
release_holds({KEYS[10]}, {ARGV[15], ARGV[16], ARGV[17], 50})
local refused = place_refusal({KEYS[1], KEYS[2], KEYS[9], KEYS[4], KEYS[3], KEYS[12]},
                              {ARGV[11], ARGV[2], ARGV[4], ARGV[3], '1'})
if refused then
  return refused
end
local service_field = 'svc:' .. ARGV[4]
local sequence = redis.call('HINCRBY', KEYS[5], ARGV[4], 1)
local queue_number = string.format('%s-%03d', ARGV[5], sequence)
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
redis.call('HINCRBY', KEYS[4], 'total', 1)
redis.call('HINCRBY', KEYS[4], service_field, 1)
local flat, held_until = record_fields({}, {ARGV[9], ARGV[13], ARGV[14], now})
local status, verify_by = 'booked', ''
if held_until then
  status, verify_by = 'pending', held_until
  -- No expiry on the holds: each leaves as it is verified or released (the worker sweeps
  -- every branch), and the set is gone with its last one.
  redis.call('ZADD', KEYS[10], verify_by, ARGV[1])
end
redis.call('HSET', KEYS[7], 'queue_number', queue_number, 'status', status,
           'created_ms', now, 'attempt', ARGV[10], unpack(flat))
redis.call('RPUSH', KEYS[6], ARGV[1])
redis.call('ZADD', KEYS[8], 'NX', now, ARGV[1] .. (held_until and ':otp' or ':booked'))
-- Never sooner than a floor from now on Redis's own clock, so a caller whose clock is wrong
-- (or a test standing on a fixed day) cannot write a booking that vanishes as it is written.
local expire_at = math.max(tonumber(ARGV[8]), now + tonumber(ARGV[12]))
for i = 3, 7 do
  redis.call('PEXPIREAT', KEYS[i], expire_at)
end
if (ARGV[18] or '') ~= '' then
  redis.call('SET', KEYS[11], ARGV[18] .. ' ' .. ARGV[1], 'PXAT',
             math.max(expire_at, now + tonumber(ARGV[19])))
end
return {'ok', queue_number, tostring(now), status, tostring(verify_by)}
