-- Settle one SMS event (sent, failed, skipped or expired) and take it off the outbox (or, for
-- a reminder, off the branch's reminders).
-- The settled record moves into the booking's own hash, packed in two fields, and its key goes:
-- an empty key costs Redis far more than a field of a hash that exists. Only its verdict and
-- what a status callback needs stay; the text and the attempt's details, which only attempts
-- read, go (the message, with its queue number and name, is not kept for the booking's life).
-- A settled event keeps its first verdict.
-- A message that went by WhatsApp (or was meant to) also keeps its channel, and the WhatsApp
-- error that sent it by SMS instead: ``sms:<event>:via``, 'whatsapp', 'sms,<error code>', or
-- 'sms,<error code>,<SID>' when WhatsApp had taken the message first (sms_reopen.lua).
-- A confirmation that went out before its reminder was due, but is settled only after the eve
-- planned its day (a slow send at the turn of the hour), puts that reminder on at once.
-- KEYS: 1 the delivery record, 2 the branch's outbox, 3 the branch's reminders, 4 the booking,
--       5 the branch's days whose reminders are planned
-- ARGV: 1 state, 2 outbox member (code:event), 3 error code ('' for none), 4 event,
--       5 settled at (ms, the caller's clock: the eve's planning compares it with its own),
--       6 the reminder's member ('' for none: not a confirmation sent before it was due),
--       7 the visit date
-- Returns the event's state
local field = 'sms:' .. ARGV[4]
local packed = redis.call('HGET', KEYS[4], field)
local state
if packed then
  state = string.match(packed, '^[^,]*')
else
  -- The record holds only the attempts' details (and what status callbacks said meanwhile).
  local d = redis.call('HMGET', KEYS[1], 'attempts', 'uncertain', 'status', 'status_rank',
                       'error_code', 'sid', 'channel', 'fallback', 'whatsapp_sid')
  state = ARGV[1]
  local error_code = ARGV[3] ~= '' and ARGV[3] or d[5]
  -- A booking purged meanwhile keeps nothing: no booking, nothing left to send.
  if redis.call('EXISTS', KEYS[4]) == 1 then
    redis.call('HSET', KEYS[4], field, table.concat({state, ARGV[5], d[1] or '0', d[2] or '',
               d[3] or '', d[4] or '', error_code or ''}, ','))
    if d[6] then
      redis.call('HSET', KEYS[4], field .. ':sid', d[6])
    end
    -- An SMS from the start ('sms' without a fallback) keeps no channel, as before there was one.
    if d[7] and (d[7] ~= 'sms' or d[8]) then
      local via = d[7]
      if d[8] then
        via = via .. ',' .. d[8]
      end
      if d[9] then
        via = via .. ',' .. d[9]
      end
      redis.call('HSET', KEYS[4], field .. ':via', via)
    end
  end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
if not packed and state == 'sent' and ARGV[6] ~= '' and redis.call('HEXISTS', KEYS[5], ARGV[7]) == 1
    and redis.call('HGET', KEYS[4], 'status') == 'booked' then
  redis.call('ZADD', KEYS[3], 'NX', 0, ARGV[6])
end
return state
