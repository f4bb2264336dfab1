-- Revoke one API token: it is refused from the next request on. Safe to run twice.
-- KEYS: 1 tokens, 2 the account's token index, 3 tokens' last use
-- ARGV: 1 token id
-- Returns 1 if the token was there, else 0
local digest = redis.call('HGET', KEYS[2], ARGV[1])
if not digest then
  return 0
end
redis.call('HDEL', KEYS[1], digest)
redis.call('HDEL', KEYS[3], digest)
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
