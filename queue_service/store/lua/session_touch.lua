-- The account of a live session, in one step with its checks and its last use: none when the
-- session has ended or its account is gone or disabled (the session then ends too). With
-- ARGV[2] = '1' the request counts as activity: the last use and the session's life are
-- written when the last use is at least ARGV[3] ms older than now (one write a minute).
-- KEYS: 1 the session, 2 accounts
-- ARGV: 1 now (ms), 2 '1' to count as activity, 3 how often the last use is written (ms),
--       4 the session's life (ms)
-- Returns {'ok', account JSON} or {'none'}
local found = redis.call('HMGET', KEYS[1], 'username', 'last_used_ms')
if not found[1] then
  return {'none'}
end
local account = redis.call('HGET', KEYS[2], found[1])
if not account or cjson.decode(account).disabled == true then
  redis.call('DEL', KEYS[1])
  return {'none'}
end
local now = tonumber(ARGV[1])
if ARGV[2] == '1' and now - tonumber(found[2] or '0') >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'last_used_ms', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return {'ok', account}
