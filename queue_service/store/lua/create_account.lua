-- Create an account with its first API token, unless the username is taken. Safe to run
-- twice: a second run finds its own token already there and answers 'created' again.
-- KEYS: 1 accounts, 2 tokens, 3 the account's token index
-- ARGV: 1 username, 2 account JSON, 3 token digest, 4 token record JSON, 5 token id
if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then
  return 'created'
end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return 'taken'
end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[5], ARGV[3])
return 'created'
