-- Check a booking in, once: two kiosks scanning the same code at once check it in once, and
-- a repeat answers 'repeat' with the same queue number (a re-sent call, 'ok' as it first
-- did). The caller has read the booking and worked out its day and window; they must still be
-- the booking's (a reschedule moves them).
-- The participant joins their service's live queue in the same step, so no one is checked in
-- without a place in line.
-- KEYS: 1 the booking, 2 the day's check-ins, 3 the service's waiting line, 4 the day's
--       queue numbers
-- ARGV: 1 expected date, 2 expected slot, 3 kiosk id, 4 now (ms), 5 now (ISO time), 6 code,
--       7 the place in line (slot, then arrival)
-- Returns {'ok', queue_number} | {'repeat', queue_number} | {'missing'} | {'moved'}
--       | {'status', status}
local b = redis.call('HMGET', KEYS[1], 'status', 'date', 'slot', 'queue_number',
                     'checked_in_by', 'checked_in_at')
if not b[1] then
  return {'missing'}
end
if b[1] == 'checked_in' or b[1] == 'called' or b[1] == 'served' then
  -- This very call again (its reply was lost and the client sent it anew): the first answer.
  if b[5] == ARGV[3] and b[6] == ARGV[5] then
    return {'ok', b[4]}
  end
  return {'repeat', b[4]}
end
if b[2] ~= ARGV[1] or b[3] ~= ARGV[2] then
  return {'moved'}
end
if b[1] ~= 'booked' then
  return {'status', b[1]}
end
redis.call('HSET', KEYS[1], 'status', 'checked_in', 'checked_in_at', ARGV[5],
           'checked_in_by', ARGV[3], 'queue_order', ARGV[7])
redis.call('ZADD', KEYS[2], 'NX', ARGV[4], ARGV[6])
redis.call('ZADD', KEYS[3], 'NX', ARGV[7], b[4])
redis.call('HSET', KEYS[4], b[4], ARGV[6])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  for i = 2, 4 do
    if redis.call('PTTL', KEYS[i]) < ttl then
      redis.call('PEXPIRE', KEYS[i], ttl)
    end
  end
end
return {'ok', b[4]}
