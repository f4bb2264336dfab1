-- Count one sign-in attempt before its password is checked (attempts made at once could
-- otherwise all pass a check of a count that none had raised yet), or refuse it:
-- - 'locked': the address has failed too often on any names, or this account name has failed
--   too often from this address (the pair is locked, not the account: a stranger elsewhere
--   cannot lock its owner out);
-- - 'slowed': the account name has failed ARGV[4] times or more from all addresses together;
--   each further attempt from an address where it has not signed in lately waits 1 s, 2 s,
--   4 s ... (at most ARGV[7] ms) after the last one counted.
-- A right password takes its attempt back (take_back_sign_in_attempt.lua). The address's
-- counter lives by Redis's clock as before; the name's record keeps its times from ARGV[1]
-- (the caller's clock) and goes by Redis's clock once quiet for a window and a lock-out.
-- KEYS: 1 the account name's failures (hash: n = failures, t = the last one (ms), and per
--       address p:<digest> = failures, w:<digest> = since (ms) the first, or the lock-out),
--       2 the address's counter, 3 the account name's known addresses
-- ARGV: 1 now (ms), 2 address digest, 3 window (ms), 4 failures of a name from one address
--       that lock the pair out (and from all that slow the name down), 5 failures of an
--       address that lock it out, 6 lock-out (ms), 7 the longest slow-down (ms),
--       8 how long a sign-in keeps its address known (ms)
-- Returns {'counted', 0}, {'locked', ms left} or {'slowed', ms left}
local now, window, limit, lockout = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[6])
local pair_count, pair_since = 'p:' .. ARGV[2], 'w:' .. ARGV[2]

if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[5]) then
  return {'locked', math.max(redis.call('PTTL', KEYS[2]), 1)}
end

local pair = tonumber(redis.call('HGET', KEYS[1], pair_count) or '0')
local since = tonumber(redis.call('HGET', KEYS[1], pair_since) or '0')
if pair > 0 and now - since >= (pair >= limit and lockout or window) then
  redis.call('HDEL', KEYS[1], pair_count, pair_since)
  pair = 0
end
if pair >= limit then
  return {'locked', since + lockout - now}
end

local total = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
if total > 0 and now - last >= window then
  total = 0
end
if total >= limit then
  local known = redis.call('ZSCORE', KEYS[3], ARGV[2])
  if not known or now - tonumber(known) > tonumber(ARGV[8]) then
    local wait = math.min(1000 * 2 ^ (total - limit), tonumber(ARGV[7]))
    if now < last + wait then
      return {'slowed', last + wait - now}
    end
  end
end

local count = redis.call('INCR', KEYS[2])
if count == 1 then
  redis.call('PEXPIRE', KEYS[2], window)
end
if count == tonumber(ARGV[5]) then
  redis.call('PEXPIRE', KEYS[2], lockout)
end
pair = pair + 1
if pair == 1 or pair == limit then
  redis.call('HSET', KEYS[1], pair_since, now)
end
redis.call('HSET', KEYS[1], pair_count, pair, 'n', total + 1, 't', now)
redis.call('PEXPIRE', KEYS[1], window + lockout)
-- Many addresses failing on one name: forget the pairs that are over.
if redis.call('HLEN', KEYS[1]) > 2000 then
  local fields = redis.call('HGETALL', KEYS[1])
  for i = 1, #fields, 2 do
    local digest = string.match(fields[i], '^w:(.*)$')
    if digest and now - tonumber(fields[i + 1]) >= window + lockout then
      redis.call('HDEL', KEYS[1], 'p:' .. digest, fields[i])
    end
  end
end
return {'counted', 0}
