-- Turn an SMS event's WhatsApp attempt into an SMS one, once: WhatsApp refused the message
-- for good (no account, a template refused: backends.WHATSAPP_FALLBACK_CODES), so nothing went
-- out and the same attempt sends it by SMS. The record keeps the error that did it, and every
-- later attempt (a retry after no answer) goes by SMS and looks for an SMS.
-- Only the attempt's own, and only from WhatsApp: a second refusal is the SMS's own failure.
-- KEYS: 1 the delivery record
-- ARGV: 1 the attempt's token, 2 WhatsApp's error code
-- Returns 1 if it now goes by SMS, 0 if not (another attempt's, or fallen back already)
local d = redis.call('HMGET', KEYS[1], 'state', 'token', 'channel')
if d[1] ~= 'attempting' or d[2] ~= ARGV[1] or d[3] ~= 'whatsapp' then
  return 0
end
redis.call('HSET', KEYS[1], 'channel', 'sms', 'fallback', ARGV[2])
return 1
