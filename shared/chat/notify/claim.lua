-- Claim users with offline records for one push worker (notify.Outbox).
-- KEYS[1] the pending index: zset user id -> claimable from (unix ms)
-- ARGV[1] now (unix ms)   ARGV[2] the lease's deadline (unix ms)
-- ARGV[3] most users to claim
-- Returns the claimed user ids, longest waiting first. Each one's score
-- becomes the deadline: no other worker claims it before then, and a
-- crashed worker's claims are claimable again after it.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, u in ipairs(due) do
  redis.call('ZADD', KEYS[1], 'XX', ARGV[2], u)
end
return due
