-- Take one SMS event's delivery for an attempt, unless it is settled, moot or another attempt
-- is in flight. The lease bounds how long an attempt may take; a holder that died leaves an
-- attempt whose outcome is unknown, so the next one must first ask the provider.
-- The booking's status is read here, in the same step, so that a booking cancelled while its
-- confirmation waited never gets that confirmation after the cancellation, and a reminder
-- goes only to a booking that stands, a call-ahead only to one still waiting; a cancellation waits while its booking's confirmation
-- is in flight, so it cannot overtake it (as does a closure's cancellation, 'closed').
-- Safe to run twice for one attempt: the second run finds its own token and answers the same.
-- KEYS: 1 the delivery record, 2 the booking (its expiry is the record's),
--       3 the delivery record of the booking's confirmation
-- ARGV: 1 lease_ms, 2 body (kept from the first attempt on, so every attempt sends the same
--       text), 3 event, 4 the attempt's token, 5 the channel ('whatsapp', or '' for SMS), which
--       only the event's first attempt sets ('sms' for ''): every later one keeps it, whatever
--       its worker would choose (one without WhatsApp, in a rolling deploy), so one event never
--       goes both ways; it turns 'sms' once WhatsApp refused it (sms_fall_back.lua, sms_reopen.lua)
-- The record holds an event's attempts until it is settled; a settled event's record lives in
-- the booking (sms_settle.lua): ``sms:<event>``.
-- Returns {'send', body, first_attempt_ms, channel, fallback} nothing can have been sent yet
--       | {'check', body, first_attempt_ms, channel, fallback} an earlier attempt may have been
--         sent: look first (channel: 'sms' or '' for SMS; fallback: why a WhatsApp message goes
--         by SMS, '' for none)
--       | {'busy'} | {'settled', state} | {'moot'} (settle it as skipped)
local settled = redis.call('HGET', KEYS[2], 'sms:' .. ARGV[3])
if settled then
  return {'settled', string.match(settled, '^[^,]*')}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local d = redis.call('HMGET', KEYS[1], 'state', 'attempt_ms', 'sid', 'uncertain', 'token')
local state = d[1]
if state == 'attempting' and d[5] == ARGV[4] then
  local kept = redis.call('HMGET', KEYS[1], 'body', 'first_attempt_ms', 'channel', 'fallback')
  return {d[4] == '1' and 'check' or 'send', kept[1], kept[2], kept[3] or '', kept[4] or ''}
end
if d[3] then
  -- A status callback named the message of an attempt whose bookkeeping was lost: it went
  -- out. The caller settles it as sent, which packs the record into the booking.
  return {'settled', 'sent'}
end
local status = redis.call('HGET', KEYS[2], 'status')
-- A call-ahead after the call (or a no-show) has nothing left to say, nor a one-time code
-- once its hold is confirmed or released, nor a waitlist offer once it is accepted, declined
-- or run out.
if (ARGV[3] == 'booked' and status == 'cancelled') or (ARGV[3] == 'reminder' and status ~= 'booked')
    or (ARGV[3] == 'call_ahead' and status ~= 'checked_in')
    or (string.sub(ARGV[3], 1, 3) == 'otp' and status ~= 'pending')
    or (ARGV[3] == 'offer' and status ~= 'offered') then
  return {'moot'}
end
if (ARGV[3] == 'cancelled' or ARGV[3] == 'closed') and redis.call('HGET', KEYS[3], 'state') == 'attempting' then
  return {'busy'}
end
local uncertain = d[4] == '1'
if state == 'attempting' then
  if now - tonumber(d[2]) < tonumber(ARGV[1]) then
    return {'busy'}
  end
  uncertain = true
end
redis.call('HSETNX', KEYS[1], 'body', ARGV[2])
redis.call('HSETNX', KEYS[1], 'first_attempt_ms', now)
if redis.call('HEXISTS', KEYS[1], 'attempts') == 0 then
  redis.call('HSETNX', KEYS[1], 'channel', (ARGV[5] or '') ~= '' and ARGV[5] or 'sms')
end
redis.call('HSET', KEYS[1], 'state', 'attempting', 'attempt_ms', now, 'token', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if uncertain then
  redis.call('HSET', KEYS[1], 'uncertain', '1')
end
local ttl = redis.call('PTTL', KEYS[2])
redis.call('PEXPIRE', KEYS[1], ttl > 0 and ttl or 7 * 86400000)
local kept = redis.call('HMGET', KEYS[1], 'body', 'first_attempt_ms', 'channel', 'fallback')
return {uncertain and 'check' or 'send', kept[1], kept[2], kept[3] or '', kept[4] or ''}
