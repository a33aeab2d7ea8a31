-- Put a session into its user's session hash unless the user already has
-- the most sessions allowed. Check and write are one atomic step, so
-- racing CONNECTs of one user cannot overshoot the cap. A session already
-- in the hash (a retry after a lost reply) passes whatever the count.
-- With KEYS[2], a new session must first pass its room's membership: each
-- user of ARGV[4..] (the session's user, then its receiver) must be in the
-- room's member set, the set room.QueueIsMember and send.lua check.
-- KEYS[1] user sessions hash   KEYS[2] (optional) the room's member set
-- ARGV[1] session id   ARGV[2] room id (0: none)   ARGV[3] most sessions
-- ARGV[4], ARGV[5] (with KEYS[2]) users who must be members of the room
-- Returns 1 when the session is in the hash, 0 when the cap refused it,
-- -1 when ARGV[4] is not a member, -2 when ARGV[5] is not (nothing written).
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  if KEYS[2] then
    for i = 4, #ARGV do
      if redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 0 then return 3 - i end
    end
  end
  if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
