-- Start a console or counter session of an account, indexed under the account so that its
-- sessions can be listed and ended; members whose session has expired leave the index here.
-- KEYS: 1 the session, 2 the account's session index
-- ARGV: 1 username, 2 surface, 3 address, 4 now (ms), 5 life (ms), 6 the session's digest,
--       7 the prefix of a session's key
redis.call('HSET', KEYS[1], 'username', ARGV[1], 'surface', ARGV[2], 'address', ARGV[3],
  'started_ms', ARGV[4], 'last_used_ms', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
for _, digest in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('EXISTS', ARGV[7] .. digest) == 0 then
    redis.call('ZREM', KEYS[2], digest)
  end
end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[6])
return 1
