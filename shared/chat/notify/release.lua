-- Release a claim (notify.Outbox.Done): remove the user from the pending
-- index, provided its score is still the claim's deadline (the claim was
-- not lost to another worker after its lease ran out).
-- KEYS[1] the pending index   ARGV[1] user id   ARGV[2] the claim's deadline
-- Returns 1 when removed, 0 when the claim was no longer held.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
