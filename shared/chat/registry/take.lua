-- Read and delete one session hash atomically. Exactly one caller gets the
-- fields; every later caller gets an empty reply, which makes session end
-- (and its LEAVE event) happen once however many paths race to end it.
-- KEYS[1] session hash
local f = redis.call('HGETALL', KEYS[1])
if #f > 0 then redis.call('DEL', KEYS[1]) end
return f
