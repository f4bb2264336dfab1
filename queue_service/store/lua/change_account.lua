--! uses end_sessions
-- Change or delete an account as it was read, in one step: its record, and as asked its
-- sessions (all, or all but the caller's) and, when it is deleted, its API tokens. Refused
-- when the account changed meanwhile (the caller reads it again and decides again), and when
-- it would leave no enabled national admin: two admins disabling each other at once cannot
-- leave the service with none.
-- KEYS: 1 accounts, 2 tokens, 3 tokens' last use, 4 the account's token index,
--       5 the account's session index
-- ARGV: 1 username, 2 the record as read, 3 the new record ('' deletes the account),
--       4 the prefix of a session's key, 5 'all' / 'none' / a session digest to keep,
--       6 '1' when the change takes an enabled national admin away
-- Returns 'ok', 'changed', or 'last_national_admin'
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 'changed'
end
if ARGV[6] == '1' then
  local others = 0
  for _, raw in ipairs(redis.call('HVALS', KEYS[1])) do
    local account = cjson.decode(raw)
    if account.role == 'national_admin' and account.disabled ~= true and account.username ~= ARGV[1] then
      others = 1
      break
    end
  end
  if others == 0 then
    return 'last_national_admin'
  end
end
if ARGV[3] == '' then
  for _, digest in ipairs(redis.call('HVALS', KEYS[4])) do
    redis.call('HDEL', KEYS[2], digest)
    redis.call('HDEL', KEYS[3], digest)
  end
  redis.call('DEL', KEYS[4])
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
if ARGV[5] ~= 'none' then
  end_sessions({KEYS[5]}, {ARGV[4], ARGV[5] == 'all' and '' or ARGV[5]})
end
return 'ok'
