-- Move a room's archivedSeq forwards: PostgreSQL holds every message of the
-- room up to that seq (the archiver wrote them), so send.lua may trim
-- history below it. It never moves back, and never creates a room's hash.
-- KEYS[1] room meta hash   ARGV[1] seq
-- Returns 1 when moved, 0 otherwise.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cur = tonumber(redis.call('HGET', KEYS[1], 'archivedSeq') or '0')
if tonumber(ARGV[1]) <= cur then return 0 end
redis.call('HSET', KEYS[1], 'archivedSeq', ARGV[1])
return 1
