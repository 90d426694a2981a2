// SPDX-License-Identifier: Apache-2.0
// The queue's multi-key steps as Lua scripts, so that each runs atomically
// on the server (doc/queue.md section 4 gives each one's contract and the
// crash analysis). KEYS[1] is always the job's key prefix
// ("coffer:{<job>}:", or the Asperathos list name): every key a script
// builds from it carries the same hash tag, so in Redis Cluster they all
// live in KEYS[1]'s slot. Times come from the server's clock (TIME), never
// from a client's, so skewed machines cannot expire each other's leases.
#include "queue/scripts.h"

#define NOW                                                                  \
	"local t = redis.call('TIME')\n"                                     \
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

/* Section 4.5: the first ack of an item adds its processing time (ms, the
 * ARGV named; negative, absent or not a number: unknown) to the sums in
 * the meta hash: item_n, item_ms_sum (integers) and item_ms_sq_sum (a
 * float). Only while the job exists: an ack after a destroy must not
 * create a meta hash, which would make the job id look loaded. */
#define ITEM_TIME(arg)                                                       \
	"local d = tonumber(" arg ")\n"                                      \
	"if added == 1 and d and d >= 0 and d < 1e10 and"                   \
	" redis.call('EXISTS', p..'meta') == 1 then\n"                      \
	"  d = math.floor(d)\n"                                              \
	"  redis.call('HINCRBY', p..'meta', 'item_n', 1)\n"                  \
	"  redis.call('HINCRBY', p..'meta', 'item_ms_sum', string.format('%d', d))\n" \
	"  redis.call('HINCRBYFLOAT', p..'meta', 'item_ms_sq_sum',"         \
	" string.format('%.17g', d * d))\n"                                   \
	"end\n"

/* Section 4.9, rules DS1 and DS2: the settlement of a job's last item
 * says so on the channel P..'drained', in the same script, so that the
 * manager ends the job at once instead of at its next poll. The queue's
 * LLEN first: one command per item while items wait. pcall: a server that
 * refuses the PUBLISH (an ACL without channels, Redis 7's default for new
 * users) loses the signal, never the settlement. */
#define DRAIN_SIGNAL                                                         \
	"if redis.call('LLEN', p..'queue') == 0 then\n"                    \
	"  local tot = tonumber(redis.call('HGET', p..'meta', 'total'))\n"  \
	"  if tot and tot > 0 and redis.call('SCARD', p..'done') +"         \
	" redis.call('LLEN', p..'dead') == tot then\n"                     \
	"    redis.pcall('PUBLISH', p..'drained', string.format('%d', tot))\n"        \
	"  end\n"                                                           \
	"end\n"

/* Sections 4.2, 4.3 and 8.1: a worker holding an item must be registered,
 * or stats would not count the item and the reaper would never return it.
 * The reaper forgets a worker whose in-flight list is empty and that was
 * silent for worker_ttl; if that worker then moves an item into its list
 * (a late ack_next, a claim), register it again, with the server's time.
 * Only when it is missing: while its list is not empty no reaper drops
 * it, so the score need not move (one ZSCORE per item, no TIME). */
#define REGISTER                                                             \
	"if not redis.call('ZSCORE', p..'workers', w) then\n"              \
	"  local t = redis.call('TIME')\n"                                  \
	"  redis.call('ZADD', p..'workers',"                                 \
	" tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), w)\n" \
	"end\n"

/* Sections 4.5 and 4.6: who may settle an item. ARGV[own] = '1' (the
 * supervisor's handle, which settles on behalf of a dead runner from what
 * the runner's page says): only an item in this worker's in-flight list.
 * Always: an item that is neither in this worker's list nor was ever
 * leased (no attempts entry) is unknown to the job and refused, so no
 * caller can make up an id and have it counted. Needs `removed` (the
 * LREM of the item from this worker's list) and `refuse` (the answer). */
#define SETTLE_CHECK(own)                                                    \
	"if removed == 0 and (" own " == '1' or"                             \
	" redis.call('HEXISTS', p..'attempts', item) == 0) then\n"         \
	"  if redis.call('SISMEMBER', p..'done', item) == 1 then return done_answer end\n" \
	"  return refuse\n"                                                 \
	"end\n"

/* Section 4.1. ARGV: total, max_attempts, lease_ms, backoff_ms.
 * Returns 1, or 0 if the job already exists. */
static const char load_begin[] =
	"local p = KEYS[1]\n" NOW
	"if redis.call('EXISTS', p..'meta') == 1 then return 0 end\n"
	"redis.call('HSET', p..'meta', 'format', '1', 'layout', 'coffer',"
	" 'state', 'loading', 'total', ARGV[1], 'max_attempts', ARGV[2],"
	" 'lease_ms', ARGV[3], 'backoff_ms', ARGV[4], 'created_ms', now)\n"
	"return 1\n";

/* Section 4.2: registration before a BLMOVE. ARGV: worker. The worker
 * sends it before every BLMOVE that follows an ack, a failure or an empty
 * wait, so a worker whose in-flight list may be empty is never silent for
 * long; while it holds an item, renew() refreshes it (section 4.7). */
static const char touch[] =
	"local p = KEYS[1]\n" NOW
	"redis.call('ZADD', p..'workers', now, ARGV[1])\n"
	"return 1\n";

/* Section 4.2: lease and attempt after a BLMOVE. ARGV: worker, item,
 * lease_ms. Returns {1, attempt}, {0, 0} if the item is already done (it
 * is dropped from the in-flight list), {-1, 0} if it is no longer in this
 * worker's in-flight list (a reaper took it back). */
static const char claim[] =
	"local p, w, item = KEYS[1], ARGV[1], ARGV[2]\n"
	"local il = p..'inflight:'..w\n"
	"if not redis.call('LPOS', il, item) then return {-1, 0} end\n"
	"if redis.call('SISMEMBER', p..'done', item) == 1 then\n"
	"  redis.call('LREM', il, -1, item)\n"
	"  return {0, 0}\n"
	"end\n"
	REGISTER
	"redis.call('SET', p..'lease:'..item, w, 'PX', ARGV[3])\n"
	"redis.call('HDEL', p..'orphans', item)\n"
	"return {1, redis.call('HINCRBY', p..'attempts', item, 1)}\n";

/* Section 4.4. ARGV: worker, item, lease_ms. Returns 1 if the lease is
 * (again) this worker's, 0 if lost, 2 if the item is done (acked: by this
 * worker's runner a moment ago, which the caller may not know yet, or by
 * another worker's late ack). A lease that merely expired is taken back
 * while the item is still in this worker's in-flight list: no reaper has
 * moved it, so nobody else can hold it. A done item never gets a lease. */
static const char renew[] =
	"local p, w, item = KEYS[1], ARGV[1], ARGV[2]\n" NOW
	"local lk = p..'lease:'..item\n"
	"redis.call('ZADD', p..'workers', now, w)\n"
	"local owner = redis.call('GET', lk)\n"
	"if owner == w then redis.call('PEXPIRE', lk, ARGV[3]) return 1 end\n"
	"if redis.call('SISMEMBER', p..'done', item) == 1 then return 2 end\n"
	"if owner then return 0 end\n"
	"if redis.call('LPOS', p..'inflight:'..w, item) then\n"
	"  redis.call('SET', lk, w, 'PX', ARGV[3])\n"
	"  redis.call('HDEL', p..'orphans', item)\n"
	"  return 1\n"
	"end\n"
	"return 0\n";

/* Section 4.5. ARGV: worker, item, time_ms (the item's processing time;
 * -1 unknown), own ('1': only an item in this worker's list). Returns
 * {added, ours}: added = 1 the first time the item is acknowledged; ours
 * = 0 when this was a late completion, after which the item is removed
 * from wherever else it is so that every item stays in exactly one place
 * (section 5); {-1, 0} when refused (SETTLE_CHECK): nothing changed. */
static const char ack[] =
	"local p, w, item = KEYS[1], ARGV[1], ARGV[2]\n"
	"local lk = p..'lease:'..item\n"
	"local refuse, done_answer = {-1, 0}, {0, 0}\n"
	"local removed = redis.call('LREM', p..'inflight:'..w, -1, item)\n"
	SETTLE_CHECK("ARGV[4]")
	"local owner = redis.call('GETDEL', lk)\n"
	"local ours = removed > 0 and (owner == w or not owner)\n"
	"if owner ~= w then redis.call('HDEL', p..'orphans', item) end\n"
	"local added = redis.call('SADD', p..'done', item)\n"
	"if added == 1 and not ours then\n"
	"  redis.call('LREM', p..'queue', 0, item)\n"
	"  redis.call('ZREM', p..'delayed', item)\n"
	"  redis.call('LREM', p..'dead', 0, item)\n"
	"  for _, w2 in ipairs(redis.call('ZRANGE', p..'workers', 0, -1)) do\n"
	"    redis.call('LREM', p..'inflight:'..w2, 0, item)\n"
	"  end\n"
	"end\n"
	ITEM_TIME("ARGV[3]")
	"if added == 1 then\n" DRAIN_SIGNAL "end\n"
	"return {added, ours and 1 or 0}\n";

/* Section 4.3: the ack of 4.5 and the take of 4.2 in one round trip:
 * ack as above, then move the next waiting item (non-blocking LMOVE) and
 * claim it. ARGV: worker, item, lease_ms, time_ms. Returns {added, ours, next,
 * attempt}: next is false when the queue is empty; attempt is 0 when next is not a well-formed item id
 * (it is then left unclaimed in the in-flight list for the client to
 * dead-letter). Items already done are dropped on the way. {-1, 0, false,
 * 0}: refused, the item is unknown to the job (SETTLE_CHECK); nothing
 * changed and nothing taken. */
static const char ack_next[] =
	"local p, w, item = KEYS[1], ARGV[1], ARGV[2]\n"
	"local lk = p..'lease:'..item\n"
	"local il = p..'inflight:'..w\n"
	"local removed = redis.call('LREM', il, -1, item)\n"
	"if removed == 0 and redis.call('HEXISTS', p..'attempts', item) == 0"
	" then return {-1, 0, false, 0} end\n"
	"local owner = redis.call('GETDEL', lk)\n"
	"local ours = removed > 0 and (owner == w or not owner)\n"
	"if owner ~= w then redis.call('HDEL', p..'orphans', item) end\n"
	"local added = redis.call('SADD', p..'done', item)\n"
	"if added == 1 and not ours then\n"
	"  redis.call('LREM', p..'queue', 0, item)\n"
	"  redis.call('ZREM', p..'delayed', item)\n"
	"  redis.call('LREM', p..'dead', 0, item)\n"
	"  for _, w2 in ipairs(redis.call('ZRANGE', p..'workers', 0, -1)) do\n"
	"    redis.call('LREM', p..'inflight:'..w2, 0, item)\n"
	"  end\n"
	"end\n"
	ITEM_TIME("ARGV[4]")
	"if added == 1 then\n" DRAIN_SIGNAL "end\n"
	"local nxt\n"
	"for _ = 1, 100 do\n"
	"  nxt = redis.call('LMOVE', p..'queue', il, 'LEFT', 'RIGHT')\n"
	"  if not nxt or redis.call('SISMEMBER', p..'done', nxt) == 0 then break end\n"
	"  redis.call('LREM', il, -1, nxt)\n"
	"  nxt = false\n"
	"end\n"
	"if not nxt then return {added, ours and 1 or 0, false, 0} end\n"
	REGISTER
	"if #nxt > 1024 or not string.find(nxt, '^[!-~]+$') then\n"
	"  return {added, ours and 1 or 0, nxt, 0}\n"
	"end\n"
	"redis.call('SET', p..'lease:'..nxt, w, 'PX', ARGV[3])\n"
	"return {added, ours and 1 or 0, nxt, redis.call('HINCRBY', p..'attempts', nxt, 1)}\n";

/* Section 4.3a: lease up to ARGV[3] items waiting now (never blocking),
 * at most this worker's share of them (the waiting items divided by the
 * registered workers, at least 1). ARGV: worker, lease_ms, want. Returns
 * {item, attempt, ...}; attempt 0 for an entry that is not a well-formed
 * item id (left unclaimed in the in-flight list for the client to
 * dead-letter). Items already done are dropped on the way. */
static const char take_more[] =
	"local p, w = KEYS[1], ARGV[1]\n"
	"local il = p..'inflight:'..w\n"
	"local nw = redis.call('ZCARD', p..'workers')\n"
	"if nw < 1 then nw = 1 end\n"
	"local n = math.floor(redis.call('LLEN', p..'queue') / nw)\n"
	"if n > tonumber(ARGV[3]) then n = tonumber(ARGV[3]) end\n"
	"if n < 1 then n = 1 end\n"
	"local out, skipped = {}, 0\n"
	"while #out < 2 * n and skipped < 100 do\n"
	"  local nxt = redis.call('LMOVE', p..'queue', il, 'LEFT', 'RIGHT')\n"
	"  if not nxt then break end\n"
	"  if redis.call('SISMEMBER', p..'done', nxt) == 1 then\n"
	"    redis.call('LREM', il, -1, nxt)\n"
	"    skipped = skipped + 1\n"
	"  elseif #nxt > 1024 or not string.find(nxt, '^[!-~]+$') then\n"
	"    out[#out + 1] = nxt\n"
	"    out[#out + 1] = 0\n"
	"  else\n"
	"    redis.call('SET', p..'lease:'..nxt, w, 'PX', ARGV[2])\n"
	"    out[#out + 1] = nxt\n"
	"    out[#out + 1] = redis.call('HINCRBY', p..'attempts', nxt, 1)\n"
	"  end\n"
	"end\n"
	"if #out > 0 then\n"
	REGISTER
	"end\n"
	"return out\n";

/* Section 4.6. ARGV: worker, item, error, max_attempts (fallback),
 * backoff_ms, permanent ("1" = dead-letter now), own ('1': only an item
 * in this worker's list). Returns "retry", "dead", "done" (already
 * acknowledged: nothing to do), "lost" (no longer this worker's: only the
 * error is recorded) or "refused" (SETTLE_CHECK: nothing changed). */
static const char fail[] =
	"local p, w, item = KEYS[1], ARGV[1], ARGV[2]\n" NOW
	"local lk = p..'lease:'..item\n"
	"local refuse, done_answer = 'refused', 'done'\n"
	"local removed = redis.call('LREM', p..'inflight:'..w, -1, item)\n"
	SETTLE_CHECK("ARGV[7]")
	"local owner = redis.call('GET', lk)\n"
	"if owner == w then redis.call('DEL', lk) end\n"
	"redis.call('HDEL', p..'orphans', item)\n"
	"if redis.call('SISMEMBER', p..'done', item) == 1 then return 'done' end\n"
	"redis.call('HSET', p..'errors', item, ARGV[3])\n"
	"if removed == 0 or (owner and owner ~= w) then return 'lost' end\n"
	"local max = tonumber(redis.call('HGET', p..'meta', 'max_attempts'))"
	" or tonumber(ARGV[4])\n"
	"local a = tonumber(redis.call('HGET', p..'attempts', item)) or 1\n"
	"if ARGV[6] == '1' or a >= max then\n"
	"  redis.call('RPUSH', p..'dead', item)\n"
	DRAIN_SIGNAL
	"  return 'dead'\n"
	"end\n"
	"local delay = tonumber(ARGV[5]) * 2 ^ (a - 1)\n"
	"if delay > 60000 then delay = 60000 end\n"
	"redis.call('ZADD', p..'delayed', now + math.floor(delay), item)\n"
	"return 'retry'\n";

/* Section 4.7. ARGV: grace_ms (the lease TTL), max_attempts (fallback),
 * worker_ttl_ms. An in-flight item without a lease is first marked with
 * the time it was seen so (its worker may not have set the lease yet);
 * only if it is still lease-less grace_ms later is it requeued, or
 * dead-lettered if its attempts are used up. Then due retries move to the
 * queue. Registered workers with an empty in-flight list that have not
 * been heard of for worker_ttl_ms are forgotten. Returns the number of
 * items moved. */
static const char reap[] =
	"local p = KEYS[1]\n" NOW
	"local grace, ttl = tonumber(ARGV[1]), tonumber(ARGV[3])\n"
	"local max = tonumber(redis.call('HGET', p..'meta', 'max_attempts'))"
	" or tonumber(ARGV[2])\n"
	"local moved = 0\n"
	"local ws = redis.call('ZRANGE', p..'workers', 0, -1, 'WITHSCORES')\n"
	"for i = 1, #ws, 2 do\n"
	"  local w, seen_w = ws[i], tonumber(ws[i + 1])\n"
	"  local il = p..'inflight:'..w\n"
	"  local items = redis.call('LRANGE', il, 0, -1)\n"
	"  if #items == 0 then\n"
	"    if now - seen_w > ttl then redis.call('ZREM', p..'workers', w) end\n"
	"  end\n"
	"  for _, item in ipairs(items) do\n"
	"    if redis.call('EXISTS', p..'lease:'..item) == 1 then\n"
	"      redis.call('HDEL', p..'orphans', item)\n"
	"    else\n"
	"      local seen = tonumber(redis.call('HGET', p..'orphans', item))\n"
	"      if not seen then\n"
	"        redis.call('HSET', p..'orphans', item, now)\n"
	"      elseif now - seen >= grace then\n"
	"        redis.call('LREM', il, 1, item)\n"
	"        redis.call('HDEL', p..'orphans', item)\n"
	"        moved = moved + 1\n"
	"        if redis.call('SISMEMBER', p..'done', item) == 0 then\n"
	"          local a = tonumber(redis.call('HGET', p..'attempts', item)) or 0\n"
	"          if a >= max then\n"
	"            local prev = redis.call('HGET', p..'errors', item)\n"
	"            local e = 'lease expired on attempt '..a..' (worker lost)'\n"
	"            if prev then e = e..'; previous error: '..prev end\n"
	"            redis.call('HSET', p..'errors', item, e)\n"
	"            redis.call('RPUSH', p..'dead', item)\n"
	"          else\n"
	"            redis.call('LPUSH', p..'queue', item)\n"
	"          end\n"
	"        end\n"
	"      end\n"
	"    end\n"
	"  end\n"
	"end\n"
	"local due = redis.call('ZRANGEBYSCORE', p..'delayed', '-inf', now,"
	" 'LIMIT', 0, 1000)\n"
	"for _, item in ipairs(due) do\n"
	"  redis.call('ZREM', p..'delayed', item)\n"
	"  redis.call('RPUSH', p..'queue', item)\n"
	"  moved = moved + 1\n"
	"end\n"
	"return moved\n";

/* Sections 4.8 and 5. Returns {total, done, dead, in_flight, queued,
 * item_n, item_ms_sum, item_ms_sq_sum}, the last three as the strings
 * stored (a Lua number would be truncated to an integer in the reply). */
static const char stats[] =
	"local p = KEYS[1]\n"
	"local total = tonumber(redis.call('HGET', p..'meta', 'total')) or 0\n"
	"local inflight = 0\n"
	"for _, w in ipairs(redis.call('ZRANGE', p..'workers', 0, -1)) do\n"
	"  inflight = inflight + redis.call('LLEN', p..'inflight:'..w)\n"
	"end\n"
	"local t = redis.call('HMGET', p..'meta', 'item_n', 'item_ms_sum',"
	" 'item_ms_sq_sum')\n"
	"return {total, redis.call('SCARD', p..'done'),"
	" redis.call('LLEN', p..'dead'), inflight,"
	" redis.call('LLEN', p..'queue') + redis.call('ZCARD', p..'delayed'),"
	" t[1] or '0', t[2] or '0', t[3] or '0'}\n";

/* Section 4.8: the workers holding items. Returns {worker, oldest item,
 * count, worker, ...} for every registered worker whose in-flight list is
 * not empty. */
static const char holders[] =
	"local p = KEYS[1]\n"
	"local out = {}\n"
	"for _, w in ipairs(redis.call('ZRANGE', p..'workers', 0, -1)) do\n"
	"  local il = p..'inflight:'..w\n"
	"  local n = redis.call('LLEN', il)\n"
	"  if n > 0 then\n"
	"    out[#out + 1] = w\n"
	"    out[#out + 1] = redis.call('LINDEX', il, 0)\n"
	"    out[#out + 1] = n\n"
	"  end\n"
	"end\n"
	"return out\n";

/* ARGV: start, count. Returns {id, attempts, error, id, ...}. */
static const char dead_page[] =
	"local p = KEYS[1]\n"
	"local s = tonumber(ARGV[1])\n"
	"local ids = redis.call('LRANGE', p..'dead', s, s + tonumber(ARGV[2]) - 1)\n"
	"local out = {}\n"
	"for _, id in ipairs(ids) do\n"
	"  out[#out + 1] = id\n"
	"  out[#out + 1] = redis.call('HGET', p..'attempts', id) or '0'\n"
	"  out[#out + 1] = redis.call('HGET', p..'errors', id) or ''\n"
	"end\n"
	"return out\n";

static const char destroy[] =
	"local p = KEYS[1]\n"
	"for _, w in ipairs(redis.call('ZRANGE', p..'workers', 0, -1)) do\n"
	"  for _, item in ipairs(redis.call('LRANGE', p..'inflight:'..w, 0, -1)) do\n"
	"    redis.call('DEL', p..'lease:'..item)\n"
	"  end\n"
	"  redis.call('DEL', p..'inflight:'..w)\n"
	"end\n"
	"return redis.call('DEL', p..'meta', p..'queue', p..'workers',"
	" p..'attempts', p..'errors', p..'dead', p..'done', p..'delayed',"
	" p..'orphans')\n";

/* A worker leaving: unregister if it holds nothing. ARGV: worker. */
static const char leave[] =
	"local p = KEYS[1]\n"
	"if redis.call('LLEN', p..'inflight:'..ARGV[1]) > 0 then return 0 end\n"
	"return redis.call('ZREM', p..'workers', ARGV[1])\n";

/* Section 6: the Asperathos layout. KEYS[1] is the list's name. ARGV:
 * total, owner ('' for none). Returns 1, or 0 if any of the keys exist. */
static const char asp_load_begin[] =
	"local n = KEYS[1]\n" NOW
	"if redis.call('EXISTS', n..':coffer', n, n..':processing') > 0 then"
	" return 0 end\n"
	"redis.call('HSET', n..':coffer', 'format', '1', 'layout', 'asperathos',"
	" 'state', 'loading', 'total', ARGV[1], 'created_ms', now)\n"
	"if ARGV[2] ~= '' then redis.call('HSET', n..':coffer', 'owner', ARGV[2]) end\n"
	"return 1\n";

/* Sections 4.8 and 6.4: who holds a job's keys. ARGV: 'asp' for the
 * Asperathos layout. Returns {keys that exist, owner, state, total}, the
 * last three '' when absent. */
static const char meta[] =
	"local p = KEYS[1]\n"
	"local mk, n\n"
	"if ARGV[1] == 'asp' then\n"
	"  mk = p..':coffer'\n"
	"  n = redis.call('EXISTS', mk, p, p..':processing')\n"
	"else\n"
	"  mk = p..'meta'\n"
	"  n = redis.call('EXISTS', mk)\n"
	"end\n"
	"local v = redis.call('HMGET', mk, 'owner', 'state', 'total')\n"
	"return {n, v[1] or '', v[2] or '', v[3] or ''}\n";

static const char asp_stats[] =
	"local n = KEYS[1]\n"
	"local total = tonumber(redis.call('HGET', n..':coffer', 'total')) or 0\n"
	"local queued = redis.call('LLEN', n)\n"
	"local processing = redis.call('LLEN', n..':processing')\n"
	"local done = total - queued - processing\n"
	"if done < 0 then done = 0 end\n"
	"return {total, done, 0, processing, queued}\n";

/* Section 6.3. ARGV: stale_ms. An item seen in :processing on two reaps
 * stale_ms apart is pushed back for another consumer. */
static const char asp_reap[] =
	"local n = KEYS[1]\n" NOW
	"local stale = tonumber(ARGV[1])\n"
	"local pl, seen = n..':processing', n..':coffer:seen'\n"
	"local here = {}\n"
	"local moved = 0\n"
	"for _, item in ipairs(redis.call('LRANGE', pl, 0, -1)) do\n"
	"  local s = tonumber(redis.call('HGET', seen, item))\n"
	"  if not s then\n"
	"    redis.call('HSET', seen, item, now)\n"
	"    here[item] = true\n"
	"  elseif now - s >= stale then\n"
	"    if redis.call('LREM', pl, 1, item) > 0 then\n"
	"      redis.call('RPUSH', n, item)\n"
	"      moved = moved + 1\n"
	"    end\n"
	"    redis.call('HDEL', seen, item)\n"
	"  else\n"
	"    here[item] = true\n"
	"  end\n"
	"end\n"
	"for _, item in ipairs(redis.call('HKEYS', seen)) do\n"
	"  if not here[item] then redis.call('HDEL', seen, item) end\n"
	"end\n"
	"return moved\n";

/* Section 6.4. ARGV: owner ('' = whoever). With an owner, only keys
 * recorded as that owner's (or recorded before owners were, with no
 * owner field) are deleted; -1 if they are another's, 0 if Coffer
 * recorded none (the lists, if any, are not Coffer's to delete). */
static const char asp_destroy[] =
	"local n = KEYS[1]\n"
	"if ARGV[1] ~= '' then\n"
	"  if redis.call('EXISTS', n..':coffer') == 0 then return 0 end\n"
	"  local o = redis.call('HGET', n..':coffer', 'owner')\n"
	"  if o and o ~= ARGV[1] then return -1 end\n"
	"end\n"
	"return redis.call('DEL', n, n..':processing', n..':coffer', n..':coffer:seen')\n";

const struct queue_script_def queue_scripts[QS_COUNT] = {
	[QS_LOAD_BEGIN] = { "load_begin", load_begin },
	[QS_TOUCH] = { "touch", touch },
	[QS_CLAIM] = { "claim", claim },
	[QS_RENEW] = { "renew", renew },
	[QS_ACK] = { "ack", ack },
	[QS_ACK_NEXT] = { "ack_next", ack_next },
	[QS_TAKE_MORE] = { "take_more", take_more },
	[QS_FAIL] = { "fail", fail },
	[QS_REAP] = { "reap", reap },
	[QS_STATS] = { "stats", stats },
	[QS_DEAD_PAGE] = { "dead_page", dead_page },
	[QS_DESTROY] = { "destroy", destroy },
	[QS_LEAVE] = { "leave", leave },
	[QS_HOLDERS] = { "holders", holders },
	[QS_ASP_LOAD_BEGIN] = { "asp_load_begin", asp_load_begin },
	[QS_ASP_STATS] = { "asp_stats", asp_stats },
	[QS_ASP_REAP] = { "asp_reap", asp_reap },
	[QS_ASP_DESTROY] = { "asp_destroy", asp_destroy },
	[QS_META] = { "meta", meta },
};
