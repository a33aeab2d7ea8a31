-- Put a session into its user's session hash unless the user already has
-- the most sessions allowed. Check and write are one atomic step, so
-- racing CONNECTs of one user cannot overshoot the cap. A session already
-- in the hash (a retry after a lost reply) passes whatever the count.
-- KEYS[1] user sessions hash
-- ARGV[1] session id   ARGV[2] room id (0: none)   ARGV[3] most sessions
-- Returns 1 when the session is in the hash, 0 when the cap refused it.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
