-- Hotline ACD: one atomic step of the reservation state machine (the same rules as
-- src/model.rs, which is the specification; tests/redis_model.rs checks they agree).
-- KEYS[1] agents hash, KEYS[2] queues hash, KEYS[3] calls hash, KEYS[4] meta hash, KEYS[5]
-- index and KEYS[6] timers (sorted sets, below); all six carry the tenant's hash tag {t:<tenant>} so the script also runs on Redis Cluster.
-- ARGV[1] = now (ms), ARGV[2] = operation, ARGV[3..] = its arguments.
-- Returns {"ok", event json...} or {"err", code}.

local AK, QK, CK, MK, IK, TK = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local now = tonumber(ARGV[1])
local op = ARGV[2]

-- Records are read and decoded on first use (a tenant has many agents; most steps touch a
-- few). raw[id] is an id's stored JSON, `true` for a record created by this step, `false` for
-- one removed by it; the record table reads (HGET) and decodes an id when it is first used and
-- keeps, in orig[id], the fields the indexes below use as it had them stored.
local function load(key)
  local raw, full, orig = {}, false, {}
  local t = setmetatable({}, {__index = function(t, id)
    local r = raw[id]
    if r == nil and not full then
      r = redis.call('HGET', key, id)
      raw[id] = r  -- false: not stored
    end
    if type(r) ~= 'string' then return nil end
    local v = cjson.decode(r)
    if orig[id] == nil then
      orig[id] = {state = v.state, queues = v.queues, ['until'] = v['until'],
        idle_since = v.idle_since, answered = v.answered, skills = v.skills}
    end
    rawset(t, id, v)
    return v
  end})
  local function all()
    if not full then
      local kv = redis.call('HGETALL', key)
      for i = 1, #kv, 2 do
        if raw[kv[i]] == nil then raw[kv[i]] = kv[i + 1] end
      end
      full = true
    end
    return raw
  end
  return t, all, raw, orig
end

local agents, all_agents, raw_a, orig_a = load(AK)
local queues = load(QK)
local calls, all_calls, raw_c, orig_c = load(CK)
local dirty_a, dirty_q, dirty_c, removed_c = {}, {}, {}, {}

-- Two sorted sets list, as they are stored, the records a step has to find without reading
-- all of them. The index (KEYS[5], every score 0, read by prefix with ZRANGEBYLEX):
--   'c\0waiting\0<call>'    waiting calls (dispatch, tick)
--   'q\0<queue>\0<agent>\0<idle_since>\0<answered>\0<skills>'
--                           Ready agents, once per queue they serve, with what dispatch
--                           orders them by (none of it changes while an agent is Ready)
--   'v3'                    the index is complete
-- The timers (KEYS[6], score = the record's `until`, read with ZRANGEBYSCORE up to now):
--   'a\0<agent>'             agents in wrap-up (tick)
--   'c\0<call>'              offered calls (tick)
--   'v3' (score +inf)       the timers are complete
-- Lookups re-check the records they list (state, queues, skills, until), except that dispatch
-- takes a Ready agent's order fields from the index unless this step read the agent; so the
-- index must be exact: the script updates both sets at the end of every step and rebuilds
-- both when a marker is missing (data stored before they existed, or a hash written by
-- something else: delete the index key after such a write).
local IDX_C = {waiting = true}

local function zadd_all(members)
  for i = 1, #members, 500 do
    local args = {}
    for j = i, math.min(i + 499, #members) do
      args[#args + 1] = 0
      args[#args + 1] = members[j]
    end
    redis.call('ZADD', IK, unpack(args))
  end
end

local function agent_entries(id, a, out)
  if a and a.state == 'ready' then
    local tail = '\0' .. id .. '\0' .. string.format('%d', a.idle_since or 0) .. '\0'
      .. string.format('%d', a.answered or 0) .. '\0' .. (a.skills or '')
    for q in string.gmatch(a.queues or '', '[^,]+') do out[#out + 1] = 'q\0' .. q .. tail end
  end
end

-- Timer entries ({score, member}) of a record as it is stored (`kind` 'a' or 'c').
local function timer_entry(kind, id, rec, out)
  if rec and rec.state == (kind == 'a' and 'wrap_up' or 'offered') then
    out[#out + 1] = {rec['until'] or 0, kind .. '\0' .. id}
  end
end

local function zadd_timers(entries)
  for i = 1, #entries, 500 do
    local args = {}
    for j = i, math.min(i + 499, #entries) do
      args[#args + 1] = entries[j][1]
      args[#args + 1] = entries[j][2]
    end
    redis.call('ZADD', TK, unpack(args))
  end
end

-- Whether dispatch must look at every Ready agent for every waiting call (see dispatch).
local full_dispatch = op == 'queue'

if not redis.call('ZSCORE', IK, 'v3') or not redis.call('ZSCORE', TK, 'v3') then
  full_dispatch = true
  redis.call('DEL', IK, TK)
  local members, timers = {'v3'}, {{'+inf', 'v3'}}
  for id in pairs(all_agents()) do
    local a = agents[id]
    if a then
      agent_entries(id, a, members)
      timer_entry('a', id, a, timers)
    end
  end
  for id in pairs(all_calls()) do
    local c = calls[id]
    if c and IDX_C[c.state] then members[#members + 1] = 'c\0' .. c.state .. '\0' .. id end
    timer_entry('c', id, c, timers)
  end
  zadd_all(members)
  zadd_timers(timers)
end

-- Ids after `prefix` (which ends in '\0') in the index, in byte order.
local function indexed(prefix)
  local m = redis.call('ZRANGEBYLEX', IK, '[' .. prefix, '(' .. prefix:sub(1, -2) .. '\1')
  for i, v in ipairs(m) do m[i] = v:sub(#prefix + 1) end
  return m
end

-- Ids (sorted) of records whose state is `state` now: of `listed` (ids from an index) and
-- of the ones this step changed, each checked as it is now.
local function now_in_state(t, dirty, state, listed)
  local ids, seen = {}, {}
  local function consider(id)
    if seen[id] then return end
    seen[id] = true
    local rec = t[id]
    if rec ~= nil and rec.state == state then ids[#ids + 1] = id end
  end
  for _, id in ipairs(listed) do consider(id) end
  for id in pairs(dirty) do consider(id) end
  table.sort(ids)
  return ids
end

-- Records (of an indexed state) whose state is `state` now.
local function in_state(t, dirty, kind, state)
  return now_in_state(t, dirty, state, indexed(kind .. '\0' .. state .. '\0'))
end

-- Records of `kind` whose state is `state` now and whose time is up (a timer state:
-- wrap_up, offered): the stored ones with `until` <= now plus the ones this step changed
-- (their `until` is checked by the caller).
local function expired(t, dirty, kind, state)
  local listed, prefix = {}, kind .. '\0'
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', TK, '-inf', now)) do
    if m:sub(1, #prefix) == prefix then listed[#listed + 1] = m:sub(#prefix + 1) end
  end
  return now_in_state(t, dirty, state, listed)
end

-- Ids (sorted) of the agents that may be Ready in queue `qid` (a superset: callers check),
-- and for the stored ones the fields dispatch needs (from the index: state, queues as far as
-- `qid` goes, idle_since, answered, skills).
local ready_cache = {}
local function ready_in(qid)
  if ready_cache[qid] then return ready_cache[qid][1], ready_cache[qid][2] end
  local ids, seen, stored = {}, {}, {}
  for _, m in ipairs(indexed('q\0' .. qid .. '\0')) do
    local e1 = string.find(m, '\0', 1, true)
    local e2 = e1 and string.find(m, '\0', e1 + 1, true)
    local e3 = e2 and string.find(m, '\0', e2 + 1, true)
    local id = e3 and string.sub(m, 1, e1 - 1) or m  -- (not written by this script: no fields)
    if not seen[id] then
      seen[id] = true
      ids[#ids + 1] = id
    end
    if e3 then
      stored[id] = {state = 'ready', queues = qid,
        idle_since = tonumber(string.sub(m, e1 + 1, e2 - 1)),
        answered = tonumber(string.sub(m, e2 + 1, e3 - 1)), skills = string.sub(m, e3 + 1)}
    end
  end
  for id in pairs(dirty_a) do
    if not seen[id] then seen[id] = true ids[#ids + 1] = id end
  end
  table.sort(ids)
  ready_cache[qid] = {ids, stored}
  return ids, stored
end

-- Ids (sorted) of the agents this step changed.
local changed_cache
local function changed_agents()
  if not changed_cache then
    changed_cache = {}
    for id in pairs(dirty_a) do changed_cache[#changed_cache + 1] = id end
    table.sort(changed_cache)
  end
  return changed_cache
end

-- Whether dispatch may take agents from their index entries (see dispatch).
local trust_index = true

local function put_call(id, c) rawset(calls, id, c) raw_c[id] = true end
local function drop_call(id) rawset(calls, id, nil) raw_c[id] = false end
local events = {}

local function emit(ev, call, agent, to, waited, reason)
  events[#events + 1] = cjson.encode({ev = ev, call = call or '', agent = agent or '',
    to = to or '', waited_ms = waited or 0, reason = reason or ''})
end

-- The ids of a comma-separated list, in order.
local function ids(list)
  local out = {}
  for id in string.gmatch(list or '', '[^,]+') do out[#out + 1] = id end
  return out
end

-- Whether call record `c` is offered to agent `aid` (alone or as one of a ring-all).
local function offered_to(c, aid)
  if c.state ~= 'offered' then return false end
  if c.agent == aid then return true end
  for _, id in ipairs(ids(c.ringing)) do
    if id == aid then return true end
  end
  return false
end

-- The agents of a ring-all offer that ended without their doing: Ready again as they were
-- (their idle time kept), each told why.
local function cancel_offers(cid, list, reason)
  for _, aid in ipairs(list) do
    local a = agents[aid]
    if a then
      a.state, a.call = 'ready', ''
      dirty_a[aid] = true
    end
    emit('offer_cancelled', cid, aid, '', 0, reason)
  end
end

local skill_cache = {}
local function skills(s)
  s = s or ''
  if skill_cache[s] then return skill_cache[s] end
  local out = {}
  for part in string.gmatch(s, '[^,]+') do
    local i = string.find(part, '=', 1, true)
    if i then
      out[#out + 1] = {string.sub(part, 1, i - 1), tonumber(string.sub(part, i + 1)) or 0}
    else
      out[#out + 1] = {part, 0}
    end
  end
  skill_cache[s] = out
  return out
end

local function level(agent, name)
  for _, p in ipairs(skills(agent.skills)) do
    if p[1] == name then return p[2] end
  end
  return nil
end

local function serves(agent, qid)
  if agent.queues == qid then return true end
  for q in string.gmatch(agent.queues or '', '[^,]+') do
    if q == qid then return true end
  end
  return false
end

local function eligible(agent, qid, queue)
  if agent.state ~= 'ready' or not serves(agent, qid) then return false end
  for _, req in ipairs(skills(queue.skills)) do
    local l = level(agent, req[1])
    if l == nil or l < req[2] then return false end
  end
  return true
end

local function score(agent, queue)
  local s = 0
  for _, req in ipairs(skills(queue.skills)) do s = s + (level(agent, req[1]) or 0) end
  return s
end

local function fail(code) return {'err', code} end

-- Whether agent record `a` is what index entry `e` (of queue `qid`) says.
local function same_as_entry(a, e, qid)
  return a ~= nil and a.state == 'ready' and a.idle_since == e.idle_since
    and a.answered == e.answered and (a.skills or '') == e.skills and serves(a, qid)
end

local function dispatch()
  local waiting = in_state(calls, dirty_c, 'c', 'waiting')
  if #waiting == 0 then return end
  table.sort(waiting, function(a, b)
    local ca, cb = calls[a], calls[b]
    if ca.priority ~= cb.priority then return ca.priority > cb.priority end
    if ca.seq ~= cb.seq then return ca.seq < cb.seq end
    return a < b
  end)
  for _, cid in ipairs(waiting) do
    local c = calls[cid]
    local queue = queues[c.queue]
    if queue then
      local chosen
      for _ = 1, 2 do
        local cands, rec = {}, {}
        local target = c.target or ''
        if target == '' then
          -- Only Ready agents can be offered a call (and none becomes Ready during dispatch).
          -- An agent this step has read (or changed) is taken as it is now, any other as the
          -- index has it (the same as stored).
          -- Every step ends with dispatch, after which no waiting call has an eligible Ready
          -- agent (agents only leave Ready during dispatch). So a call this step has not
          -- changed can only go to an agent this step changed, unless a queue's
          -- configuration changed or the index was rebuilt (the data may come from elsewhere).
          local ids, stored
          if full_dispatch or dirty_c[cid] then
            ids, stored = ready_in(c.queue)
          else
            ids, stored = changed_agents(), {}
          end
          for _, aid in ipairs(ids) do
            local a = rawget(agents, aid) or (trust_index and stored[aid]) or agents[aid]
            if a and eligible(a, c.queue, queue) then
              cands[#cands + 1] = aid
              rec[aid] = a
            end
          end
        elseif agents[target] and agents[target].state == 'ready' then
          cands[1] = target
          rec[target] = agents[target]
        end
        chosen = nil
        if #cands > 0 and queue.strategy == 'ring_all' and target == '' then
          -- Every candidate rings; each one taken from the index is checked below.
          chosen = cands
        elseif #cands > 0 then
          if queue.strategy == 'round_robin' then
            for _, aid in ipairs(cands) do
              if aid > (queue.last_agent or '') then chosen = aid break end
            end
            chosen = chosen or cands[1]
          else
            local function key(a)
              if queue.strategy == 'fewest_calls' then return 0, a.answered, a.idle_since end
              if queue.strategy == 'skills' then return -score(a, queue), 0, a.idle_since end
              return 0, 0, a.idle_since
            end
            local y1, y2, y3
            for _, aid in ipairs(cands) do
              local x1, x2, x3 = key(rec[aid])
              if chosen == nil or x1 < y1 or (x1 == y1 and (x2 < y2 or (x2 == y2 and x3 < y3)))
              then
                chosen, y1, y2, y3 = aid, x1, x2, x3
              end
            end
          end
        end
        -- The agent chosen from its index entry must be stored as the entry says; if not,
        -- the index is stale (the hashes were written by something else): choose again from
        -- the records themselves and have the next step rebuild the index.
        local fresh = true
        for _, aid in ipairs(type(chosen) == 'table' and chosen or {chosen}) do
          if not (rec[aid] == rawget(agents, aid) or same_as_entry(agents[aid], rec[aid], c.queue))
          then
            fresh = false
          end
        end
        if fresh then break end
        trust_index = false
        redis.call('ZREM', IK, 'v3')
      end
      if type(chosen) == 'table' then
        for _, aid in ipairs(chosen) do
          local a = agents[aid]
          a.state = 'ringing'
          a.call = cid
          dirty_a[aid] = true
          emit('offered', cid, aid)
        end
        c.state = 'offered'
        c.ringing = table.concat(chosen, ',')
        c['until'] = now + queue.ring_timeout_ms
        dirty_c[cid] = true
      elseif chosen then
        if queue.strategy == 'round_robin' then
          queue.last_agent = chosen
          dirty_q[c.queue] = true
        end
        local a = agents[chosen]
        a.state = 'ringing'
        a.call = cid
        dirty_a[chosen] = true
        c.state = 'offered'
        c.agent = chosen
        c['until'] = now + queue.ring_timeout_ms
        dirty_c[cid] = true
        emit('offered', cid, chosen)
      end
    end
  end
end

-- The agent of a call that ended or moved on: wrap-up (the queue's time) or ready.
local function release(qid, aid)
  local a = agents[aid]
  if not a then return end
  local wrapup = queues[qid] and queues[qid].wrapup_ms or 0
  a.call = ''
  if wrapup == 0 then
    a.state, a.idle_since = 'ready', now
  else
    a.state, a['until'] = 'wrap_up', now + wrapup
  end
  dirty_a[aid] = true
end

local function new_agent()
  return {state = '', reason = '', call = '', ['until'] = 0, idle_since = 0, answered = 0,
    queues = '', skills = ''}
end

if op == 'queue' then
  local id, cfg = ARGV[3], cjson.decode(ARGV[4])
  local ok = false
  for _, s in ipairs({'longest_idle', 'round_robin', 'fewest_calls', 'skills', 'ring_all'}) do
    if cfg.strategy == s then ok = true end
  end
  if not ok then return fail('bad_value') end
  cfg.last_agent = queues[id] and queues[id].last_agent or ''
  queues[id] = cfg
  dirty_q[id] = true
elseif op == 'login' then
  local id = ARGV[3]
  local a = agents[id]
  if a and a.state ~= '' and a.state ~= 'logged_out' then return fail('busy') end
  a = new_agent()
  a.state, a.reason, a.idle_since, a.queues, a.skills = 'not_ready', 'login', now, ARGV[4], ARGV[5]
  agents[id] = a
  if type(raw_a[id]) ~= 'string' then raw_a[id] = true end
  dirty_a[id] = true
elseif op == 'set_state' then
  local id, state, reason = ARGV[3], ARGV[4], ARGV[5]
  local a = agents[id]
  if not a then return fail('unknown_agent') end
  if state ~= 'ready' and state ~= 'not_ready' and state ~= 'break' and state ~= 'logged_out' then
    return fail('bad_value')
  end
  if a.state == 'ringing' or a.state == 'on_call' then return fail('busy') end
  if a.state == 'logged_out' and state ~= 'logged_out' then return fail('logged_out') end
  if state == 'ready' and a.state ~= 'ready' then a.idle_since = now end
  a.state = state
  if state == 'not_ready' then a.reason = reason else a.reason = '' end
  a['until'] = 0
  dirty_a[id] = true
elseif op == 'arrive' then
  local id, qid, prio = ARGV[3], ARGV[4], tonumber(ARGV[5])
  if calls[id] then return fail('call_exists') end
  if not queues[qid] then return fail('unknown_queue') end
  local seq = redis.call('HINCRBY', MK, 'seq', 1)
  put_call(id, {queue = qid, priority = prio, seq = seq, enqueued_at = now, state = 'waiting',
    agent = '', ringing = '', ['until'] = 0, target = ''})
  dirty_c[id] = true
elseif op == 'answer' or op == 'reject' then
  local aid, cid = ARGV[3], ARGV[4]
  local c = calls[cid]
  if not c then return fail('unknown_call') end
  local a = agents[aid]
  if not a then return fail('unknown_agent') end
  if not offered_to(c, aid) then return fail('not_offered') end
  local others = {}
  for _, id in ipairs(ids(c.ringing)) do
    if id ~= aid then others[#others + 1] = id end
  end
  if op == 'answer' then
    c.state, c.agent, c.ringing, c['until'] = 'connected', aid, '', 0
    a.state = 'on_call'
    a.answered = a.answered + 1
    emit('connected', cid, aid)
    cancel_offers(cid, others, 'answered_elsewhere')
  else
    if #others == 0 then
      c.state, c['until'], c.target = 'waiting', 0, ''
    end
    c.agent, c.ringing = '', table.concat(others, ',')
    a.state, a.reason, a.call = 'not_ready', 'rejected', ''
    emit('rejected', cid, aid)
  end
  dirty_a[aid] = true
  dirty_c[cid] = true
elseif op == 'transfer' then
  local cid, qid, target = ARGV[3], ARGV[4], ARGV[5]
  local c = calls[cid]
  if not c then return fail('unknown_call') end
  if c.state ~= 'connected' then return fail('not_connected') end
  local to = qid
  if to == '' then to = c.queue end
  if not queues[to] then return fail('unknown_queue') end
  if target ~= '' then
    if not agents[target] then return fail('unknown_agent') end
    if target == c.agent then return fail('bad_value') end
  end
  local from = c.agent
  release(c.queue, from)
  c.state, c.queue, c.agent, c['until'], c.enqueued_at, c.target =
    'waiting', to, '', 0, now, target
  dirty_c[cid] = true
  emit('transferred', cid, from, to)
elseif op == 'hangup' then
  local cid = ARGV[3]
  local c = calls[cid]
  if not c then return fail('unknown_call') end
  drop_call(cid)
  removed_c[cid] = true
  if c.state == 'connected' then
    release(c.queue, c.agent)
    emit('completed', cid, c.agent)
  else
    if c.state == 'offered' then
      local offered = ids(c.ringing)
      if c.agent ~= '' then offered = {c.agent} end
      cancel_offers(cid, offered, 'abandoned')
    end
    local waited = now - c.enqueued_at
    if waited < 0 then waited = 0 end
    emit('abandoned', cid, '', '', waited)
  end
elseif op == 'tick' then
  for _, aid in ipairs(expired(agents, dirty_a, 'a', 'wrap_up')) do
    local a = agents[aid]
    if a['until'] <= now then
      a.state, a['until'], a.idle_since = 'ready', 0, now
      dirty_a[aid] = true
      emit('wrapup_ended', '', aid)
    end
  end
  local ticking = expired(calls, dirty_c, 'c', 'offered')
  for _, cid in ipairs(in_state(calls, dirty_c, 'c', 'waiting')) do ticking[#ticking + 1] = cid end
  table.sort(ticking)
  for _, cid in ipairs(ticking) do
    local c = calls[cid]
    if c.state == 'offered' and c['until'] <= now then
      local aid, ringing = c.agent, c.ringing or ''
      c.state, c.agent, c.ringing, c['until'], c.target = 'waiting', '', '', 0, ''
      dirty_c[cid] = true
      if ringing == '' then
        local a = agents[aid]
        if a then
          a.state, a.reason, a.call = 'not_ready', 'missed', ''
          dirty_a[aid] = true
        end
        emit('ring_no_answer', cid, aid)
      else
        -- Nobody of a ring-all answered: none is set not ready (see model.rs).
        cancel_offers(cid, ids(ringing), 'no_answer')
      end
    elseif c.state == 'waiting' then
      local q = queues[c.queue]
      if q and q.max_wait_ms > 0 and q.overflow ~= '' and now - c.enqueued_at >= q.max_wait_ms
        and (q.overflow == 'voicemail' or queues[q.overflow]) then
        local to = q.overflow
        if to == 'voicemail' then
          drop_call(cid)
          removed_c[cid] = true
        else
          c.queue, c.enqueued_at = to, now
          dirty_c[cid] = true
        end
        emit('overflowed', cid, '', to)
      end
    end
  end
else
  return fail('bad_value')
end

dispatch()

for id in pairs(dirty_a) do redis.call('HSET', AK, id, cjson.encode(agents[id])) end
for id in pairs(dirty_q) do redis.call('HSET', QK, id, cjson.encode(queues[id])) end
for id in pairs(removed_c) do
  if calls[id] == nil then redis.call('HDEL', CK, id) end
end
for id in pairs(dirty_c) do
  if calls[id] ~= nil then redis.call('HSET', CK, id, cjson.encode(calls[id])) end
end
-- The index follows the records' stored states (see above).
local rem, add, trem, tadd = {}, {}, {}, {}
-- A record's timer entry: removed when it had one and has none now, (re)added when it has one
-- that differs from the stored.
local function timer_update(kind, id, o, n)
  local was, is = {}, {}
  timer_entry(kind, id, o, was)
  timer_entry(kind, id, n, is)
  if is[1] then
    if not was[1] or was[1][1] ~= is[1][1] then tadd[#tadd + 1] = is[1] end
  elseif was[1] then
    trem[#trem + 1] = was[1][2]
  end
end
for id in pairs(dirty_a) do
  local n = agents[id]
  local was, is = {}, {}
  agent_entries(id, orig_a[id], was)
  agent_entries(id, n, is)
  if table.concat(was, '\1') ~= table.concat(is, '\1') then
    for _, m in ipairs(was) do rem[#rem + 1] = m end
    for _, m in ipairs(is) do add[#add + 1] = m end
  end
  timer_update('a', id, orig_a[id], n)
end
local function call_entry(id, c, out)
  if c and IDX_C[c.state] then out[#out + 1] = 'c\0' .. c.state .. '\0' .. id end
end
local touched_c = {}
for id in pairs(dirty_c) do touched_c[id] = true end
for id in pairs(removed_c) do touched_c[id] = true end
for id in pairs(touched_c) do
  local o, n = orig_c[id], calls[id]
  if (o and o.state) ~= (n and n.state) then
    call_entry(id, o, rem)
    call_entry(id, n, add)
  end
  timer_update('c', id, o, n)
end
for i = 1, #rem, 500 do
  redis.call('ZREM', IK, unpack(rem, i, math.min(i + 499, #rem)))
end
zadd_all(add)
for i = 1, #trem, 500 do
  redis.call('ZREM', TK, unpack(trem, i, math.min(i + 499, #trem)))
end
zadd_timers(tadd)

local out = {'ok'}
for _, e in ipairs(events) do out[#out + 1] = e end
return out
