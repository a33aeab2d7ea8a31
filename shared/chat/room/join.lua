-- Add a member to a set unless the set is full, in one atomic step, so
-- racing adds cannot overshoot the cap. Used on both sides of a room
-- membership: a user's room set (cap: rooms per user) and a room's member
-- set (cap: members per group).
-- KEYS[1] set   ARGV[1] member   ARGV[2] most members
-- ARGV[3] (optional) a member the set must hold already (the actor; '0':
-- none)
-- KEYS[2] (optional, a room's member set with the archive feed on) the
-- room's archive stream: an add appends {type room, room ARGV[4]} to it,
-- MAXLEN ~ ARGV[5] (room.ArchiveFeed)
-- Returns 1 added, 2 already a member, 0 full, -1 ARGV[3] is missing.
if ARGV[3] and ARGV[3] ~= '0' and redis.call('SISMEMBER', KEYS[1], ARGV[3]) == 0 then return -1 end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 2 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
if KEYS[2] then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'type', 'room', 'room', ARGV[4])
end
return 1
