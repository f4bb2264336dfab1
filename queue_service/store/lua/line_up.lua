-- Put a waitlist entry at the end of its day's line (domain.waitlist): its score is the time
-- it joined (Redis's clock, ms), or just after the last one in line when that is no sooner,
-- so that the line keeps the order of joining even for entries joining in the same
-- millisecond (equal scores would be ordered by their codes, at random).
-- KEYS: 1 the day's waitlist
-- ARGV: 1 the entry's code, 2 now (ms)
local score = tonumber(ARGV[2])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] and tonumber(last[2]) >= score then
  score = tonumber(last[2]) + 1
end
redis.call('ZADD', KEYS[1], score, ARGV[1])
