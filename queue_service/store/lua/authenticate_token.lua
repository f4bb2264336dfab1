-- The account an API token belongs to, in one step with its checks and its last use: refused
-- when the token is unknown (or revoked), past its expiry, or its account is gone or
-- disabled. The token's last use is written when it is at least ARGV[3] ms older than now,
-- so a busy script costs one write a minute, not one a request.
-- KEYS: 1 tokens, 2 accounts, 3 tokens' last use
-- ARGV: 1 token digest, 2 now (ms), 3 how often the last use is written (ms)
-- Returns {'ok', account JSON}, or {'unknown'}, {'expired'}, {'disabled'}
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then
  return {'unknown'}
end
local now = tonumber(ARGV[2])
local token = cjson.decode(record)
if type(token.expires_ms) == 'number' and now >= token.expires_ms then
  return {'expired'}
end
local account = redis.call('HGET', KEYS[2], token.username)
if not account then
  return {'unknown'}
end
if cjson.decode(account).disabled == true then
  return {'disabled'}
end
local last = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
if now - last >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[3], ARGV[1], now)
end
return {'ok', account}
