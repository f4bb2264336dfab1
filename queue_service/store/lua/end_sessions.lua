-- End an account's console and counter sessions at once, but the one ARGV[2] names (its
-- digest; '' for none): their cookies are worth nothing from the next request on.
-- KEYS: 1 the account's session index
-- ARGV: 1 the prefix of a session's key (its digest appended; same tag as the index),
--       2 the digest of a session to keep, or ''
-- Returns how many sessions ended
local ended = 0
for _, digest in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if digest ~= ARGV[2] then
    ended = ended + redis.call('DEL', ARGV[1] .. digest)
    redis.call('ZREM', KEYS[1], digest)
  end
end
return ended
