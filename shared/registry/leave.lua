-- Drop a user's presence counter once it reached zero, unless a new session
-- raced in meanwhile. KEYS[1] room presence hash; ARGV[1] user id
if tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') <= 0 then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
