-- Create one session hash unless it exists. Returns 1 when created, 0 when
-- the session was already registered, so views are updated once.
-- KEYS[1] session hash; ARGV field/value pairs
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
