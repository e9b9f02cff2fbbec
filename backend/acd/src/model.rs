//! The ACD as a pure state machine: every operation takes the current time in milliseconds and
//! returns the events it caused. [`crate::redis_acd`] runs the same rules atomically in Redis
//! (Lua); `tests/redis_model.rs` replays random operation sequences on both and demands the
//! same events, errors and state.
//!
//! The records are flat (strings and integers) because they are exactly what the Lua script
//! stores as JSON: lists are comma-separated (`"q1,q2"`, skills as `"sales=5,billing=3"`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An agent as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentRec {
    /// `logged_out`, `ready`, `not_ready`, `break`, `ringing`, `on_call`, `wrap_up`.
    pub state: String,
    /// Reason of `not_ready` (`login`, `missed`, `rejected`, or the agent's reason code).
    pub reason: String,
    /// The call of `ringing` / `on_call`.
    pub call: String,
    /// End of `wrap_up` (ms).
    pub until: u64,
    /// Since when the agent has been waiting for a call (ms): longest-idle order.
    pub idle_since: u64,
    /// Calls answered since login (fewest-calls order).
    pub answered: u64,
    /// Queues the agent serves, comma-separated.
    pub queues: String,
    /// Skills `name=level` (1–10), comma-separated.
    pub skills: String,
}

/// A queue's configuration (and its round-robin cursor).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueRec {
    /// `longest_idle`, `round_robin`, `fewest_calls`, `skills` or `ring_all` (every eligible
    /// Ready agent rings at once; the first to answer takes the call).
    pub strategy: String,
    /// Required skills with minimum levels, `name=min`, comma-separated.
    pub skills: String,
    /// How long an offer rings before the call goes back to the head of the queue.
    pub ring_timeout_ms: u64,
    /// Longest wait before overflow (0: none).
    pub max_wait_ms: u64,
    /// Where calls go after `max_wait_ms`: another queue's id or `voicemail`.
    pub overflow: String,
    /// After-call work time; the agent is offered nothing meanwhile.
    pub wrapup_ms: u64,
    /// Round-robin: the agent offered last.
    pub last_agent: String,
}

/// A call in the ACD (from arrival until answered-and-finished or abandoned).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallRec {
    /// Queue it waits in.
    pub queue: String,
    /// Higher first.
    pub priority: u64,
    /// Arrival order (FIFO within a priority; kept when a call goes back after no answer).
    pub seq: u64,
    /// When it entered its current queue.
    pub enqueued_at: u64,
    /// `waiting`, `offered` or `connected`.
    pub state: String,
    /// The agent of `offered` (one agent rings) / `connected`.
    pub agent: String,
    /// A ring-all offer: the agents ringing for the call, comma-separated in id order (`agent`
    /// stays empty until one of them answers). Empty for a one-agent offer.
    pub ringing: String,
    /// Offer expiry.
    pub until: u64,
    /// After a transfer to a named agent: only that agent may be offered the call (cleared
    /// when they do not take it, so the call falls back to its queue).
    pub target: String,
}

/// What happened, for the backend to act on (ring the agent, play messages, write CDRs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Event {
    /// `offered`, `connected`, `rejected`, `ring_no_answer`, `offer_cancelled`, `abandoned`,
    /// `completed`, `overflowed`, `wrapup_ended`, `transferred` (`agent`: who let go of it;
    /// `to`: the queue it waits in now).
    pub ev: String,
    pub call: String,
    pub agent: String,
    /// `overflowed`: target queue or `voicemail`.
    pub to: String,
    /// `abandoned`: how long the caller waited.
    pub waited_ms: u64,
    /// `offer_cancelled`: why the agent's offer ended without their doing, the agent being
    /// Ready again: [`ANSWERED_ELSEWHERE`], [`NO_ANSWER`] or [`ABANDONED`].
    pub reason: String,
}

/// `offer_cancelled`: another agent ringing for the same ring-all call answered it.
pub const ANSWERED_ELSEWHERE: &str = "answered_elsewhere";
/// `offer_cancelled`: nobody answered a ring-all call within the ring time-out; the call went
/// back to the head of its queue (and rings the Ready agents again).
pub const NO_ANSWER: &str = "no_answer";
/// `offer_cancelled`: the caller hung up while the agent's phone rang.
pub const ABANDONED: &str = "abandoned";

impl Event {
    fn new(ev: &str, call: &str, agent: &str) -> Self {
        Event {
            ev: ev.into(),
            call: call.into(),
            agent: agent.into(),
            ..Event::default()
        }
    }

    fn cancelled(call: &str, agent: &str, reason: &str) -> Self {
        Event {
            reason: reason.into(),
            ..Event::new("offer_cancelled", call, agent)
        }
    }
}

/// The ids of a comma-separated list.
fn ids(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').filter(|x| !x.is_empty())
}

impl CallRec {
    /// Whether `agent` is offered this call (alone or as one of a ring-all).
    pub fn offered_to(&self, agent: &str) -> bool {
        self.state == "offered" && (self.agent == agent || ids(&self.ringing).any(|a| a == agent))
    }
}

/// Why an operation was refused (the same codes come back from Redis).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcdError {
    #[error("unknown_agent")]
    UnknownAgent,
    #[error("unknown_queue")]
    UnknownQueue,
    #[error("unknown_call")]
    UnknownCall,
    #[error("call_exists")]
    CallExists,
    #[error("busy")]
    Busy,
    #[error("logged_out")]
    LoggedOut,
    #[error("not_offered")]
    NotOffered,
    #[error("bad_value")]
    BadValue,
    #[error("not_connected")]
    NotConnected,
}

impl AcdError {
    /// Parses a code as the Lua script returns it.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "unknown_agent" => Self::UnknownAgent,
            "unknown_queue" => Self::UnknownQueue,
            "unknown_call" => Self::UnknownCall,
            "call_exists" => Self::CallExists,
            "busy" => Self::Busy,
            "logged_out" => Self::LoggedOut,
            "not_offered" => Self::NotOffered,
            "bad_value" => Self::BadValue,
            "not_connected" => Self::NotConnected,
            _ => return None,
        })
    }
}

/// One operation. [`Op::args`] is its wire form for the Lua script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Creates or replaces a queue's configuration (keeps its round-robin cursor).
    Queue { id: String, cfg: QueueRec },
    /// Agent logs in (state `not_ready`/`login`) with its queues and skills.
    Login {
        agent: String,
        queues: String,
        skills: String,
    },
    /// `ready`, `not_ready` (with reason), `break` or `logged_out`.
    SetState {
        agent: String,
        state: String,
        reason: String,
    },
    /// A call enters a queue.
    Arrive {
        call: String,
        queue: String,
        priority: u64,
    },
    /// The agent accepts the call offered to them.
    Answer { agent: String, call: String },
    /// The agent declines the offer: the call goes back to the head of its queue.
    Reject { agent: String, call: String },
    /// The caller (or the agent) ended the call.
    Hangup { call: String },
    /// The connected agent hands the call on (blind transfer): they go to wrap-up and the call
    /// waits again, keeping its place in line, in `queue` (empty: the same queue) and, when
    /// `agent` is given, for that agent only.
    Transfer {
        call: String,
        queue: String,
        agent: String,
    },
    /// Time passed: wrap-ups end, offers time out, long waits overflow.
    Tick,
}

impl Op {
    /// `[name, args...]` for the Lua script (after `now`).
    pub fn args(&self) -> Vec<String> {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        match self {
            Op::Queue { id, cfg } => vec![
                "queue".into(),
                id.clone(),
                serde_json::to_string(cfg).expect("queue json"),
            ],
            Op::Login {
                agent,
                queues,
                skills,
            } => s(&["login", agent, queues, skills]),
            Op::SetState {
                agent,
                state,
                reason,
            } => s(&["set_state", agent, state, reason]),
            Op::Arrive {
                call,
                queue,
                priority,
            } => vec![
                "arrive".into(),
                call.clone(),
                queue.clone(),
                priority.to_string(),
            ],
            Op::Answer { agent, call } => s(&["answer", agent, call]),
            Op::Reject { agent, call } => s(&["reject", agent, call]),
            Op::Hangup { call } => s(&["hangup", call]),
            Op::Transfer { call, queue, agent } => s(&["transfer", call, queue, agent]),
            Op::Tick => s(&["tick"]),
        }
    }
}

/// The whole ACD state of one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acd {
    pub agents: BTreeMap<String, AgentRec>,
    pub queues: BTreeMap<String, QueueRec>,
    pub calls: BTreeMap<String, CallRec>,
    /// Last arrival number.
    pub seq: u64,
}

/// `"a=1,b=2"` → pairs (levels that do not parse count as 0).
pub fn parse_skills(s: &str) -> Vec<(&str, u64)> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k, v.parse().unwrap_or(0)),
            None => (p, 0),
        })
        .collect()
}

const STRATEGIES: [&str; 5] = [
    "longest_idle",
    "round_robin",
    "fewest_calls",
    "skills",
    "ring_all",
];

impl Acd {
    /// Applies `op` at time `now`.
    pub fn apply(&mut self, now: u64, op: &Op) -> Result<Vec<Event>, AcdError> {
        let mut evs = Vec::new();
        match op {
            Op::Queue { id, cfg } => {
                if !STRATEGIES.contains(&cfg.strategy.as_str()) {
                    return Err(AcdError::BadValue);
                }
                let last = self
                    .queues
                    .get(id)
                    .map(|q| q.last_agent.clone())
                    .unwrap_or_default();
                let mut q = cfg.clone();
                q.last_agent = last;
                self.queues.insert(id.clone(), q);
            }
            Op::Login {
                agent,
                queues,
                skills,
            } => {
                let a = self.agents.entry(agent.clone()).or_default();
                if !(a.state.is_empty() || a.state == "logged_out") {
                    return Err(AcdError::Busy);
                }
                *a = AgentRec {
                    state: "not_ready".into(),
                    reason: "login".into(),
                    idle_since: now,
                    queues: queues.clone(),
                    skills: skills.clone(),
                    ..AgentRec::default()
                };
            }
            Op::SetState {
                agent,
                state,
                reason,
            } => {
                let a = self.agents.get_mut(agent).ok_or(AcdError::UnknownAgent)?;
                if !["ready", "not_ready", "break", "logged_out"].contains(&state.as_str()) {
                    return Err(AcdError::BadValue);
                }
                if a.state == "ringing" || a.state == "on_call" {
                    return Err(AcdError::Busy);
                }
                if a.state == "logged_out" && state != "logged_out" {
                    return Err(AcdError::LoggedOut);
                }
                if state == "ready" && a.state != "ready" {
                    a.idle_since = now;
                }
                a.state = state.clone();
                a.reason = if state == "not_ready" {
                    reason.clone()
                } else {
                    String::new()
                };
                a.until = 0;
            }
            Op::Arrive {
                call,
                queue,
                priority,
            } => {
                if self.calls.contains_key(call) {
                    return Err(AcdError::CallExists);
                }
                if !self.queues.contains_key(queue) {
                    return Err(AcdError::UnknownQueue);
                }
                self.seq += 1;
                self.calls.insert(
                    call.clone(),
                    CallRec {
                        queue: queue.clone(),
                        priority: *priority,
                        seq: self.seq,
                        enqueued_at: now,
                        state: "waiting".into(),
                        ..CallRec::default()
                    },
                );
            }
            Op::Answer { agent, call } | Op::Reject { agent, call } => {
                let c = self.calls.get_mut(call).ok_or(AcdError::UnknownCall)?;
                if !self.agents.contains_key(agent) {
                    return Err(AcdError::UnknownAgent);
                }
                if !c.offered_to(agent) {
                    return Err(AcdError::NotOffered);
                }
                let others: Vec<String> = ids(&c.ringing)
                    .filter(|a| a != agent)
                    .map(String::from)
                    .collect();
                if matches!(op, Op::Answer { .. }) {
                    c.state = "connected".into();
                    c.agent = agent.clone();
                    c.ringing.clear();
                    c.until = 0;
                    let a = self.agents.get_mut(agent).expect("checked");
                    a.state = "on_call".into();
                    a.answered += 1;
                    evs.push(Event::new("connected", call, agent));
                    // The rest of a ring-all stop ringing and wait again as they did.
                    for other in others {
                        if let Some(o) = self.agents.get_mut(&other) {
                            o.state = "ready".into();
                            o.call.clear();
                        }
                        evs.push(Event::cancelled(call, &other, ANSWERED_ELSEWHERE));
                    }
                } else {
                    // A ring-all call keeps ringing the others; the last refusal (or the one
                    // agent's) sends it back to the head of its queue.
                    if others.is_empty() {
                        c.state = "waiting".into();
                        c.until = 0;
                        c.target.clear();
                    }
                    c.agent.clear();
                    c.ringing = others.join(",");
                    let a = self.agents.get_mut(agent).expect("checked");
                    a.state = "not_ready".into();
                    a.reason = "rejected".into();
                    a.call.clear();
                    evs.push(Event::new("rejected", call, agent));
                }
            }
            Op::Transfer { call, queue, agent } => {
                let c = self.calls.get(call).ok_or(AcdError::UnknownCall)?;
                if c.state != "connected" {
                    return Err(AcdError::NotConnected);
                }
                let to = if queue.is_empty() {
                    c.queue.clone()
                } else {
                    queue.clone()
                };
                if !self.queues.contains_key(&to) {
                    return Err(AcdError::UnknownQueue);
                }
                if !agent.is_empty() {
                    if !self.agents.contains_key(agent) {
                        return Err(AcdError::UnknownAgent);
                    }
                    if *agent == c.agent {
                        return Err(AcdError::BadValue);
                    }
                }
                let (from_queue, from_agent) = (c.queue.clone(), c.agent.clone());
                self.release(now, &from_queue, &from_agent);
                let c = self.calls.get_mut(call).expect("checked");
                c.state = "waiting".into();
                c.queue = to.clone();
                c.agent.clear();
                c.until = 0;
                c.enqueued_at = now;
                c.target = agent.clone();
                evs.push(Event {
                    to,
                    ..Event::new("transferred", call, &from_agent)
                });
            }
            Op::Hangup { call } => {
                let c = self.calls.remove(call).ok_or(AcdError::UnknownCall)?;
                match c.state.as_str() {
                    "connected" => {
                        self.release(now, &c.queue, &c.agent);
                        evs.push(Event::new("completed", call, &c.agent));
                    }
                    state => {
                        if state == "offered" {
                            for id in ids(&c.agent).chain(ids(&c.ringing)) {
                                if let Some(a) = self.agents.get_mut(id) {
                                    a.state = "ready".into();
                                    a.call.clear();
                                }
                                evs.push(Event::cancelled(call, id, ABANDONED));
                            }
                        }
                        evs.push(Event {
                            waited_ms: now.saturating_sub(c.enqueued_at),
                            ..Event::new("abandoned", call, "")
                        });
                    }
                }
            }
            Op::Tick => {
                for (id, a) in self.agents.iter_mut() {
                    if a.state == "wrap_up" && a.until <= now {
                        a.state = "ready".into();
                        a.until = 0;
                        a.idle_since = now;
                        evs.push(Event::new("wrapup_ended", "", id));
                    }
                }
                let call_ids: Vec<String> = self.calls.keys().cloned().collect();
                for id in call_ids {
                    let c = self.calls.get(&id).expect("listed").clone();
                    if c.state == "offered" && c.until <= now {
                        let cm = self.calls.get_mut(&id).expect("listed");
                        cm.state = "waiting".into();
                        cm.agent.clear();
                        cm.ringing.clear();
                        cm.until = 0;
                        cm.target.clear();
                        if c.ringing.is_empty() {
                            if let Some(a) = self.agents.get_mut(&c.agent) {
                                a.state = "not_ready".into();
                                a.reason = "missed".into();
                                a.call.clear();
                            }
                            evs.push(Event::new("ring_no_answer", &id, &c.agent));
                        } else {
                            // Nobody of a ring-all answered: no one of them missed the call
                            // more than the others, so none is set not ready; they ring again
                            // for it (dispatch below) unless something more urgent came.
                            for aid in ids(&c.ringing) {
                                if let Some(a) = self.agents.get_mut(aid) {
                                    a.state = "ready".into();
                                    a.call.clear();
                                }
                                evs.push(Event::cancelled(&id, aid, NO_ANSWER));
                            }
                        }
                    } else if c.state == "waiting" {
                        let Some(q) = self.queues.get(&c.queue) else {
                            continue;
                        };
                        if q.max_wait_ms == 0
                            || q.overflow.is_empty()
                            || now.saturating_sub(c.enqueued_at) < q.max_wait_ms
                        {
                            continue;
                        }
                        let to = q.overflow.clone();
                        if to != "voicemail" && !self.queues.contains_key(&to) {
                            continue;
                        }
                        if to == "voicemail" {
                            self.calls.remove(&id);
                        } else {
                            let cm = self.calls.get_mut(&id).expect("listed");
                            cm.queue = to.clone();
                            cm.enqueued_at = now;
                        }
                        evs.push(Event {
                            to,
                            ..Event::new("overflowed", &id, "")
                        });
                    }
                }
            }
        }
        self.dispatch(now, &mut evs);
        Ok(evs)
    }

    /// The agent of a call that ended or moved on: wrap-up (the queue's time) or ready.
    fn release(&mut self, now: u64, queue: &str, agent: &str) {
        let wrapup = self.queues.get(queue).map(|q| q.wrapup_ms).unwrap_or(0);
        if let Some(a) = self.agents.get_mut(agent) {
            a.call.clear();
            if wrapup == 0 {
                a.state = "ready".into();
                a.idle_since = now;
            } else {
                a.state = "wrap_up".into();
                a.until = now + wrapup;
            }
        }
    }

    fn eligible(&self, agent: &AgentRec, queue_id: &str, queue: &QueueRec) -> bool {
        agent.state == "ready"
            && agent.queues.split(',').any(|q| q == queue_id)
            && parse_skills(&queue.skills).iter().all(|(name, min)| {
                parse_skills(&agent.skills)
                    .iter()
                    .any(|(n, l)| n == name && l >= min)
            })
    }

    fn score(agent: &AgentRec, queue: &QueueRec) -> u64 {
        let have = parse_skills(&agent.skills);
        parse_skills(&queue.skills)
            .iter()
            .map(|(name, _)| {
                have.iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, l)| *l)
                    .unwrap_or(0)
            })
            .sum()
    }

    /// Offers waiting calls (highest priority, then earliest arrival, across queues) to
    /// eligible ready agents, chosen by each queue's strategy.
    fn dispatch(&mut self, now: u64, evs: &mut Vec<Event>) {
        let mut waiting: Vec<(String, u64, u64)> = self
            .calls
            .iter()
            .filter(|(_, c)| c.state == "waiting")
            .map(|(id, c)| (id.clone(), c.priority, c.seq))
            .collect();
        waiting.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
        for (call_id, _, _) in waiting {
            let queue_id = self.calls[&call_id].queue.clone();
            let target = self.calls[&call_id].target.clone();
            let Some(queue) = self.queues.get(&queue_id) else {
                continue;
            };
            // A call transferred to a named agent waits for that agent alone.
            let mut cands: Vec<(&String, &AgentRec)> = self
                .agents
                .iter()
                .filter(|(id, a)| {
                    if target.is_empty() {
                        self.eligible(a, &queue_id, queue)
                    } else {
                        **id == target && a.state == "ready"
                    }
                })
                .collect();
            if cands.is_empty() {
                continue;
            }
            let ring = queue.ring_timeout_ms;
            if queue.strategy == "ring_all" && target.is_empty() {
                let all: Vec<String> = cands.iter().map(|(id, _)| (*id).clone()).collect();
                for id in &all {
                    let a = self.agents.get_mut(id).expect("candidate");
                    a.state = "ringing".into();
                    a.call = call_id.clone();
                    evs.push(Event::new("offered", &call_id, id));
                }
                let c = self.calls.get_mut(&call_id).expect("waiting call");
                c.state = "offered".into();
                c.ringing = all.join(",");
                c.until = now + ring;
                continue;
            }
            let chosen = match queue.strategy.as_str() {
                "round_robin" => {
                    // Agents in id order, the first after the one offered last (cyclic).
                    cands
                        .iter()
                        .find(|(id, _)| **id > queue.last_agent)
                        .unwrap_or(&cands[0])
                        .0
                        .clone()
                }
                strategy => {
                    cands.sort_by(|(ia, a), (ib, b)| {
                        let key = |x: &AgentRec| match strategy {
                            "fewest_calls" => (0, x.answered, x.idle_since),
                            "skills" => (u64::MAX - Self::score(x, queue), 0, x.idle_since),
                            _ => (0, 0, x.idle_since),
                        };
                        key(a).cmp(&key(b)).then(ia.cmp(ib))
                    });
                    cands[0].0.clone()
                }
            };
            if queue.strategy == "round_robin" {
                self.queues.get_mut(&queue_id).expect("exists").last_agent = chosen.clone();
            }
            let a = self.agents.get_mut(&chosen).expect("candidate");
            a.state = "ringing".into();
            a.call = call_id.clone();
            let c = self.calls.get_mut(&call_id).expect("waiting call");
            c.state = "offered".into();
            c.agent = chosen.clone();
            c.until = now + ring;
            evs.push(Event::new("offered", &call_id, &chosen));
        }
    }

    /// 1-based position of a waiting call in its queue (for "you are number N" messages).
    pub fn position(&self, call: &str) -> Option<usize> {
        let c = self.calls.get(call).filter(|c| c.state == "waiting")?;
        Some(
            1 + self
                .calls
                .values()
                .filter(|o| {
                    o.state == "waiting"
                        && o.queue == c.queue
                        && (o.priority > c.priority || (o.priority == c.priority && o.seq < c.seq))
                })
                .count(),
        )
    }
}
