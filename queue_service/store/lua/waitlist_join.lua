--! uses place_refusal line_up record_fields
-- Put a participant on a day's waitlist, for one slot or for any: only when no place they
-- could book is free (place_refusal.lua says every slot asked for is full, counting those who
-- wait already, whose places a booking cannot take either), all in one step with the check.
-- The entry is a record under the booking's key, 'waiting', without a queue number (one is
-- issued only when an offer is accepted), counted among the day's waiters as one of its
-- service for its slot ('<service>/<slot>') or for any ('<service>/*'). The NIK's date and
-- the phone's count, in other cluster slots, are claimed by the caller first, as for a booking.
-- With a hold time (PHONE_VERIFICATION) the entry is first held 'pending' for its phone's
-- one-time code, as a new booking is (its code's message on the outbox, in the branch's holds,
-- released as they are), and joins the line only once the code comes back
-- (waitlist_verify.lua): a made-up phone never holds a place in line.
-- Safe to run twice for one attempt (a re-sent call): it finds its own entry and answers so.
-- KEYS: 1 settings, 2 date overrides, 3 the branch's copy of the national closures,
--       4 day counts, 5 slot counts, 6 the day's waiters, 7 the entry, 8 the day's waitlist,
--       9 the branch's days with a waitlist, 10 the branch's holds, 11 the branch's SMS outbox
-- ARGV: 1 code, 2 date, 3 service, 4 SHA-1 of the settings the slots were computed from,
--       5 entry fields (JSON object of strings), 6 attempt token, 7 claim_at_ms,
--       8 claim_window_ms, 9 expire_at_ms, 10 least time to keep keys (ms), 11 the date's
--       ordinal, 12 the slot waited for ('' for any), 13 how long the entry is held for its
--       phone's code (ms; 0: in line at once), 14 the one-time code, 15.. the slots still
--       bookable that day (the one waited for, or every one)
-- Returns {'ok', position, created_ms, 'waiting', ''} (as reserve.lua's 'ok', the position in
-- the queue number's place; {'ok', '0', created_ms, 'pending', verify_by_ms} when held), {'not_full'} (a slot asked for has a free place: book it) or
-- {refusal} as place_refusal.lua's (never 'slot_full' or 'day_full'), or 'code_taken',
-- 'claim_expired'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local mine = redis.call('HMGET', KEYS[7], 'attempt', 'created_ms')
if mine[1] then
  if mine[1] == ARGV[6] then
    local again = redis.call('HMGET', KEYS[7], 'status', 'verify_by_ms')
    local rank = redis.call('ZRANK', KEYS[8], ARGV[1])
    return {'ok', tostring(rank and rank + 1 or 0), mine[2], again[1], again[2] or ''}
  end
  return {'code_taken'}
end
if now - tonumber(ARGV[7]) > tonumber(ARGV[8]) then
  return {'claim_expired'}
end
for i = 15, #ARGV do
  local refused = place_refusal({KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]},
                                {ARGV[4], ARGV[2], ARGV[3], ARGV[i], '1', ''})
  if not refused then
    return {'not_full'}
  end
  if refused[1] ~= 'slot_full' and refused[1] ~= 'day_full' then
    return refused
  end
end
if #ARGV < 15 then
  return {'not_bookable'}
end
local flat, held_until = record_fields({}, {ARGV[5], ARGV[13], ARGV[14], now})
local status, verify_by = 'waiting', ''
if held_until then
  status, verify_by = 'pending', held_until
end
redis.call('HSET', KEYS[7], 'status', status, 'queue_number', '', 'created_ms', now,
           'attempt', ARGV[6], 'slot', ARGV[12], 'slot_end', '', unpack(flat))
if held_until then
  redis.call('ZADD', KEYS[10], verify_by, ARGV[1])
  redis.call('ZADD', KEYS[11], 'NX', now, ARGV[1] .. ':otp')
else
  line_up({KEYS[8]}, {ARGV[1], now})
  redis.call('HINCRBY', KEYS[6], ARGV[3] .. '/' .. (ARGV[12] == '' and '*' or ARGV[12]), 1)
  redis.call('HINCRBY', KEYS[4], 'wl:joined', 1)
  redis.call('ZADD', KEYS[9], tonumber(ARGV[11]), ARGV[2])
end
local expire_at = math.max(tonumber(ARGV[9]), now + tonumber(ARGV[10]))
for i = 4, 8 do
  if redis.call('PTTL', KEYS[i]) < expire_at - now then
    redis.call('PEXPIREAT', KEYS[i], expire_at)
  end
end
if held_until then
  return {'ok', '0', tostring(now), 'pending', tostring(verify_by)}
end
return {'ok', tostring(redis.call('ZRANK', KEYS[8], ARGV[1]) + 1), tostring(now), 'waiting', ''}
