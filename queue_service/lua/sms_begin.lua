-- Take one SMS event's delivery for an attempt, unless it is settled or another attempt is in
-- flight. The lease bounds how long an attempt may take; a holder that died leaves an attempt
-- whose outcome is unknown, so the next one must first ask the provider.
-- KEYS: 1 the delivery record, 2 the booking (its expiry is the record's)
-- ARGV: 1 lease_ms, 2 body (kept from the first attempt on, so every attempt sends the same text)
-- Returns {'send', body, first_attempt_ms} nothing can have been sent yet
--       | {'check', body, first_attempt_ms} an earlier attempt may have been sent: look first
--       | {'busy'} | {'settled', state}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local d = redis.call('HMGET', KEYS[1], 'state', 'attempt_ms', 'sid', 'uncertain')
local state = d[1]
if state == 'sent' or state == 'failed' or state == 'skipped' or state == 'expired' then
  return {'settled', state}
end
if d[3] then
  -- A status callback named the message of an attempt whose bookkeeping was lost.
  redis.call('HSET', KEYS[1], 'state', 'sent', 'settled_ms', now)
  return {'settled', 'sent'}
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
redis.call('HSET', KEYS[1], 'state', 'attempting', 'attempt_ms', now)
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if uncertain then
  redis.call('HSET', KEYS[1], 'uncertain', '1')
end
local ttl = redis.call('PTTL', KEYS[2])
redis.call('PEXPIRE', KEYS[1], ttl > 0 and ttl or 7 * 86400000)
local kept = redis.call('HMGET', KEYS[1], 'body', 'first_attempt_ms')
return {uncertain and 'check' or 'send', kept[1], kept[2]}
