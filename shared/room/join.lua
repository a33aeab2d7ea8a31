-- Add a member to a set unless the set is full, in one atomic step, so
-- racing adds cannot overshoot the cap. Used on both sides of a room
-- membership: a user's room set (cap: rooms per user) and a room's member
-- set (cap: members per group).
-- KEYS[1] set   ARGV[1] member   ARGV[2] most members
-- ARGV[3] (optional) a member the set must hold already (the actor)
-- Returns 1 added, 2 already a member, 0 full, -1 ARGV[3] is missing.
if ARGV[3] and redis.call('SISMEMBER', KEYS[1], ARGV[3]) == 0 then return -1 end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 2 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
