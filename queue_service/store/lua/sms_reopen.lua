-- Send a settled WhatsApp message's event again, by SMS, once: Twilio accepted the message and
-- then reported it undelivered or failed with a WhatsApp error (no WhatsApp account, outside the
-- 24-hour window with no template, a template refused: backends.WHATSAPP_FALLBACK_CODES).
-- The event goes back on its outbox (a reminder on the branch's reminders) with a delivery
-- record that already says SMS, which sms_begin.lua keeps, and names the WhatsApp message, whose
-- later callbacks then change nothing (sms_status.lua).
-- KEYS: 1 the delivery record, 2 the booking, 3 the event's outbox (or the branch's reminders)
-- ARGV: 1 event, 2 the WhatsApp message's SID, 3 WhatsApp's error code, 4 outbox member
-- Returns 1 if it is to go again by SMS, 0 if not (not this event's WhatsApp message as settled
-- sent, fallen back already, an attempt under way, or delivered or read already)
local field = 'sms:' .. ARGV[1]
local d = redis.call('HMGET', KEYS[2], field, field .. ':sid', field .. ':via')
if not d[1] or d[2] ~= ARGV[2] or d[3] ~= 'whatsapp' or string.match(d[1], '^[^,]*') ~= 'sent'
    or redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
-- News of a failure that comes after the phone said delivered (or read) is stale: it reached
-- the participant, and an SMS would be a second message.
local status = string.match(d[1], '^[^,]*,[^,]*,[^,]*,[^,]*,([^,]*)')
if status == 'delivered' or status == 'read' then
  return 0
end
redis.call('HDEL', KEYS[2], field, field .. ':sid', field .. ':via')
redis.call('HSET', KEYS[1], 'channel', 'sms', 'fallback', ARGV[3], 'whatsapp_sid', ARGV[2])
local ttl = redis.call('PTTL', KEYS[2])
redis.call('PEXPIRE', KEYS[1], ttl > 0 and ttl or 7 * 86400000)
-- A reminder is due at once: the reminders are swept by their score on the worker's clock, not
-- Redis's (as sms_settle.lua puts one on, 0); the outbox's score only orders it.
local score = 0
if ARGV[1] ~= 'reminder' then
  local t = redis.call('TIME')
  score = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
redis.call('ZADD', KEYS[3], 'NX', score, ARGV[4])
return 1
