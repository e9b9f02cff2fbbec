//! One queued call's control as a pure state machine: `Call::handle(input) -> effects`.
//!
//! A call here is the caller's leg from the moment it is handed to the ACD until it ends,
//! with every other leg it opens: agents' desk-phone legs while they ring, the consulted
//! party's leg, the outside leg of a transfer. The state says who the caller is with (the
//! queue, an agent, on hold, a consultation, a conference, an outside party, a voicemail or
//! message at maximum wait) and which legs are still up. Inputs are what the gateway, the ACD
//! and the agent's desktop report; effects are what the shell must do: gateway commands, ACD
//! operations, desktop events, the missed-calls entry and the call's one outcome.
//!
//! Inputs that make no sense in the state (a stale event, a second "conference") are refused
//! with no effect, so the shell can answer an agent 409 and drop a stale gateway event.
//!
//! `tests/control_props.rs` drives random interleavings and checks the promises: every leg
//! opened is closed, no leg is bridged twice, a caller is never left with nobody, a
//! conference ends with its last human, and every call ends with exactly one outcome.

use crate::queue_exit::Step;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Which feature the call belongs to (what its outcome and missed-call entry mean).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Owner {
    /// A caller who dialled in (through an IVR flow).
    Inbound,
    /// An outbound campaign's answered call waiting for an agent: never a missed call.
    Campaign,
    /// An agent calls back a missed call or a voicemail: the agent's device first, then the
    /// customer (the call's own leg, `caller` here) is dialled and bridged to it.
    Callback,
    /// An agent dials a number (a click in the SPA or the tenant's software).
    ClickToCall,
    /// An agent dials a preview campaign's contact.
    Preview,
    /// One employee calls another (`ext:` of the callee, the call's own leg): from the
    /// directory (the caller's softphone or desk phone rings first, like a click-to-call) or
    /// from a desk phone that dialled the extension (that phone's ringing inbound leg is the
    /// caller's device, answered by the shell when the callee answers). Never the ACD's,
    /// never a missed call.
    Internal,
}

impl Owner {
    /// Whether a caller who leaves the queue unanswered is a missed call.
    fn misses(self) -> bool {
        self == Owner::Inbound
    }

    /// The agent places the call (never queued, not the ACD's).
    pub fn agent_first(self) -> bool {
        matches!(
            self,
            Owner::Callback | Owner::ClickToCall | Owner::Preview | Owner::Internal
        )
    }
}

/// How an agent hears a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Device {
    /// The browser softphone's leg, which stays up between calls (never hung up here).
    Softphone,
    /// A desk phone, rung with a leg of its own (`leg`) for this call.
    Desk { leg: Uuid },
    /// Neither: the offer fails at once (`no_device`) and the call goes back to its queue.
    Nothing,
}

/// What a leg other than the caller's is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LegKind {
    /// An agent's desk phone ringing (or answered) for this call.
    Agent(Uuid),
    /// The consulted party.
    Consult,
    /// An outside number the caller was transferred to.
    Outside,
}

/// Who or what the caller's audio is joined to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Peer {
    /// The connected agent's device.
    Agent,
    /// An outside or consulted party's leg.
    Leg(Uuid),
    /// The conference room (named after the call).
    Room,
}

/// A member of the call's conference room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Member {
    Caller,
    Agent,
    Leg(Uuid),
}

/// A consultation in progress (the caller holds meanwhile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consult {
    pub leg: Uuid,
    pub answered: bool,
}

/// What happens, for the shell to perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Loop the tenant's music on hold to the caller.
    MusicOnHold,
    /// Stop what the caller hears and join them to `peer`.
    BridgeCaller(Peer),
    /// Cut the caller's bridge (both ways).
    UnbridgeCaller,
    /// Cut the agent's device from the consulted party (a softphone stays up).
    UnbridgeAgent,
    /// Join the agent's device to the consulted party's leg.
    BridgeAgentTo(Uuid),
    /// Put a member in the call's conference room.
    JoinRoom(Member),
    /// Take a member out of the room (the agent's softphone stays up for the next call).
    LeaveRoom(Member),
    /// Ring the agent: their desktop, and their desk phone when `device` is one.
    Offer {
        agent: Uuid,
        device: Device,
    },
    /// Place a new outbound leg (a consultation or a transfer) from the call's gateway.
    Dial {
        leg: Uuid,
        kind: LegKind,
    },
    /// Hang up one of the call's other legs.
    HangUpLeg(Uuid),
    /// Hang up the caller.
    HangUpCaller,
    /// Tell the ACD the agent answered (`answer`), or the call is over (`hangup`), or the
    /// agent's device failed the offer (`reject`).
    AcdAnswer(Uuid),
    AcdHangup,
    AcdReject {
        agent: Uuid,
        why: String,
    },
    /// Desktop events.
    Withdrawn {
        agent: Uuid,
        reason: String,
    },
    Connected(Uuid),
    Ended(Uuid),
    Held(bool),
    ConsultState(&'static str),
    /// The agent is set not ready with this built-in reason (a missed or failed offer).
    NotReady {
        agent: Uuid,
        reason: &'static str,
    },
    /// What the gateway does at maximum wait.
    Leave(Step),
    /// The missed-calls entry (its reason is the outcome too).
    Missed(&'static str),
    /// The call's one outcome in its CDR.
    Outcome(&'static str),
    /// An agent-first call: place the customer's leg (the call's own id).
    DialCaller,
    /// An agent-first call is over (`answered`: the customer picked up): the agent is free.
    Finished {
        agent: Uuid,
        answered: bool,
    },
}

/// Everything the machine is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The caller waits in a queue (first time, a transfer back to a queue, an overflow).
    Queued,
    /// The ACD offers the call to `agent` (several at once in a ring-all queue).
    Offered {
        agent: Uuid,
        device: Device,
    },
    /// The ACD withdrew an offer: `ring_no_answer`, `rejected` (the agent declined, or their
    /// device failed: `why`), `answered_elsewhere` (ring-all).
    OfferEnded {
        agent: Uuid,
        why: String,
    },
    /// The ACD withdrew an offer that was not the agent's doing (another agent of a ring-all
    /// answered, nobody did, the call left the queue): the agent stays Ready.
    OfferCancelled {
        agent: Uuid,
        why: String,
    },
    /// The agent's device failed the offer (`why`: `softphone_lost`…): the ACD hears a reject.
    OfferFailed {
        agent: Uuid,
        why: String,
    },
    /// The ACD took the call from its agent back into a queue (a transfer to a queue or a
    /// colleague): the agent lets go, the caller hears music and waits again.
    Requeued,
    /// The ACD connected the call to `agent` (who accepted, or whose desk phone answered).
    AcdConnected {
        agent: Uuid,
    },
    /// A leg of this call answered.
    LegAnswered(Uuid),
    /// A leg of this call ended (`failure`: what an unanswered desk phone said).
    LegEnded {
        leg: Uuid,
        failure: String,
    },
    /// The agent's actions.
    Hold,
    Resume,
    Consult {
        leg: Uuid,
    },
    Conference,
    CompleteTransfer,
    CancelConsult,
    TransferOut {
        leg: Uuid,
    },
    /// The agent hangs up (button, or their desk phone's leg ended while connected).
    AgentHangUp,
    /// The queue's maximum wait passed and the caller leaves the ACD, with the plan.
    MaxWait {
        step: Step,
        missed: Option<&'static str>,
        outcome: &'static str,
    },
    /// The caller's leg ended.
    CallerHungUp,
    /// An agent-first call: `agent` places it from `device` (a desk phone rings first).
    Placed {
        agent: Uuid,
        device: Device,
    },
    /// An agent-first call: the customer answered.
    CallerAnswered,
}

/// Why an input was refused (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub &'static str);

/// One call's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub owner: Owner,
    pub caller_up: bool,
    /// Waiting in the ACD.
    pub queued: bool,
    /// Agents ringing, and how.
    pub offers: BTreeMap<Uuid, Device>,
    /// The connected agent and their device.
    pub agent: Option<(Uuid, Device)>,
    pub held: bool,
    pub consult: Option<Consult>,
    /// The caller's audio peer, if any.
    pub peer: Option<Peer>,
    /// The conference room's members (empty: no room).
    pub room: BTreeSet<Member>,
    /// At maximum wait: what the gateway is doing with the caller.
    pub leaving: Option<Step>,
    /// Legs this call opened that are still up.
    pub legs: BTreeMap<Uuid, LegKind>,
    pub outcome: Option<String>,
    /// The caller is being hung up (its end is on the way).
    pub hanging_up: bool,
    /// The consulted party's leg the agent's device is joined to.
    pub agent_peer: Option<Uuid>,
    /// An agent-first call: the customer's leg was placed, and they answered.
    #[serde(default)]
    pub caller_dialled: bool,
    #[serde(default)]
    pub caller_answered: bool,
    /// An agent-first call: its agent, kept after they let go (for `Finished`).
    #[serde(default)]
    pub placed_by: Option<Uuid>,
}

fn agent_of(kind: &LegKind) -> Uuid {
    match kind {
        LegKind::Agent(a) => *a,
        _ => Uuid::nil(),
    }
}

impl Call {
    pub fn new(owner: Owner) -> Self {
        Call {
            owner,
            caller_up: true,
            queued: false,
            offers: BTreeMap::new(),
            agent: None,
            held: false,
            consult: None,
            peer: None,
            room: BTreeSet::new(),
            leaving: None,
            legs: BTreeMap::new(),
            outcome: None,
            hanging_up: false,
            agent_peer: None,
            caller_dialled: false,
            caller_answered: false,
            placed_by: None,
        }
    }

    /// Whether the call is over: the caller is gone and no leg of it is up.
    pub fn ended(&self) -> bool {
        !self.caller_up && self.legs.is_empty()
    }

    /// Who keeps the caller company: the ACD, an agent (even holding), an outside party, the
    /// conference, or a voicemail or message. `None`: stranded.
    pub fn attended(&self) -> bool {
        !self.caller_up
            || self.hanging_up
            || self.queued
            || self.agent.is_some()
            || self.leaving.is_some()
            || matches!(self.peer, Some(Peer::Leg(_)) | Some(Peer::Room))
            || self.legs.values().any(|k| *k == LegKind::Outside)
    }

    fn settle(&mut self, out: &mut Vec<Effect>, outcome: &'static str) {
        if self.outcome.is_none() {
            self.outcome = Some(outcome.to_string());
            out.push(Effect::Outcome(outcome));
        }
    }

    fn hang_up_caller(&mut self, out: &mut Vec<Effect>) {
        if !self.hanging_up {
            self.hanging_up = true;
            out.push(Effect::HangUpCaller);
        }
    }

    /// The agent's device stops talking to the consulted party.
    fn unbridge_agent(&mut self, out: &mut Vec<Effect>) {
        if self.agent_peer.take().is_some() {
            out.push(Effect::UnbridgeAgent);
        }
    }

    fn hang_up_leg(&mut self, leg: Uuid, out: &mut Vec<Effect>) {
        if self.agent_peer == Some(leg) {
            self.agent_peer = None;
        }
        if self.legs.remove(&leg).is_some() {
            out.push(Effect::HangUpLeg(leg));
        }
    }

    /// Withdraws every offer but `keep`'s: their desk phones stop ringing at once.
    fn withdraw_offers(&mut self, keep: Option<Uuid>, reason: &str, out: &mut Vec<Effect>) {
        let others: Vec<(Uuid, Device)> = self
            .offers
            .iter()
            .filter(|(a, _)| Some(**a) != keep)
            .map(|(a, d)| (*a, *d))
            .collect();
        for (agent, device) in others {
            self.offers.remove(&agent);
            if let Device::Desk { leg } = device {
                self.hang_up_leg(leg, out);
            }
            out.push(Effect::Withdrawn {
                agent,
                reason: reason.to_string(),
            });
        }
    }

    /// The connected agent lets go of the call (transfer, or the call ends): their desktop
    /// is told, a desk phone leg is hung up, a softphone leaves the room and stays up.
    fn release_agent(&mut self, out: &mut Vec<Effect>) {
        if self.let_go(out) && !self.owner.agent_first() {
            out.push(Effect::AcdHangup);
        }
    }

    /// An agent-first call ends: its one outcome, and the agent is free.
    fn finish(&mut self, out: &mut Vec<Effect>) {
        self.caller_up = false;
        let answered = self.caller_answered;
        self.settle(out, if answered { "answered" } else { "failed" });
        if let Some(agent) = self.placed_by.take() {
            out.push(Effect::Finished { agent, answered });
        }
    }

    /// [`Self::release_agent`] without telling the ACD (it took the call back itself).
    /// Returns whether an agent was connected.
    fn let_go(&mut self, out: &mut Vec<Effect>) -> bool {
        self.unbridge_agent(out);
        let had = self.agent.is_some();
        if let Some((agent, device)) = self.agent.take() {
            if self.room.remove(&Member::Agent) {
                out.push(Effect::LeaveRoom(Member::Agent));
            }
            if let Device::Desk { leg } = device {
                self.hang_up_leg(leg, out);
            }
            out.push(Effect::Ended(agent));
        }
        if self.peer == Some(Peer::Agent) {
            self.peer = None;
        }
        self.held = false;
        had
    }

    /// A conference the consulted party left: caller and agent are alone in the room. Before
    /// hold, a new consultation or a transfer they leave it (the caller's bridge is cut).
    fn leave_room_of_two(&mut self, out: &mut Vec<Effect>) -> bool {
        let two: BTreeSet<Member> = [Member::Caller, Member::Agent].into();
        if self.room != two || self.consult.is_some() {
            return false;
        }
        self.room.clear();
        out.push(Effect::LeaveRoom(Member::Agent));
        out.push(Effect::LeaveRoom(Member::Caller));
        self.peer = None;
        true
    }

    /// Refuses an action of the connected agent that needs the call to themselves.
    fn connected_alone(&self) -> Result<(), Refused> {
        // An agent-first call is the agent's only once the customer answered (before that
        // the agent's device is kept for the customer's answer).
        if self.agent.is_none() || (self.owner.agent_first() && !self.caller_answered) {
            return Err(Refused("not_connected"));
        }
        if self.consult.is_some() {
            return Err(Refused("consult_in_progress"));
        }
        let two: BTreeSet<Member> = [Member::Caller, Member::Agent].into();
        if !self.room.is_empty() && self.room != two {
            return Err(Refused("in_conference"));
        }
        Ok(())
    }

    /// The room lost a member: with one human left it ends (that human's call ends too).
    fn room_left(&mut self, member: Member, out: &mut Vec<Effect>) {
        if !self.room.remove(&member) {
            return;
        }
        if self.room.len() == 1 {
            let last = *self.room.iter().next().expect("one member");
            self.room.clear();
            match last {
                Member::Caller => {
                    if self.agent.is_none() {
                        self.hang_up_caller(out);
                    }
                }
                Member::Agent => out.push(Effect::LeaveRoom(Member::Agent)),
                Member::Leg(leg) => self.hang_up_leg(leg, out),
            }
            if self.peer == Some(Peer::Room) {
                self.peer = if self.agent.is_some() {
                    out.push(Effect::BridgeCaller(Peer::Agent));
                    Some(Peer::Agent)
                } else {
                    None
                };
            }
        }
    }

    fn answered_consult(&self) -> Result<Consult, Refused> {
        match self.consult {
            None => Err(Refused("no_consult")),
            Some(c) if !c.answered => Err(Refused("consult_not_answered")),
            Some(c) => Ok(c),
        }
    }

    pub fn handle(&mut self, input: Input) -> Result<Vec<Effect>, Refused> {
        let mut out = Vec::new();
        if !self.caller_up && !matches!(input, Input::LegEnded { .. }) {
            return Err(Refused("call_ended"));
        }
        let agent_first = self.owner.agent_first();
        match input {
            Input::Placed { agent, device } => {
                if !agent_first || self.placed_by.is_some() || device == Device::Nothing {
                    return Err(Refused("not_placeable"));
                }
                self.placed_by = Some(agent);
                self.agent = Some((agent, device));
                if let Device::Desk { leg } = device {
                    self.legs.insert(leg, LegKind::Agent(agent));
                    out.push(Effect::Dial {
                        leg,
                        kind: LegKind::Agent(agent),
                    });
                } else {
                    self.caller_dialled = true;
                    out.push(Effect::DialCaller);
                }
            }
            Input::CallerAnswered => {
                if !self.caller_dialled || self.caller_answered || self.agent.is_none() {
                    return Err(Refused("not_dialled"));
                }
                self.caller_answered = true;
                self.peer = Some(Peer::Agent);
                out.push(Effect::BridgeCaller(Peer::Agent));
                if let Some((agent, _)) = self.agent {
                    out.push(Effect::Connected(agent));
                }
                self.settle(&mut out, "answered");
            }
            _ if agent_first && self.placed_by.is_none() && self.caller_up => {
                return Err(Refused("not_placed"));
            }
            Input::Queued if agent_first => return Err(Refused("not_queued")),
            Input::Queued => {
                if self.queued || self.agent.is_some() || self.leaving.is_some() {
                    return Err(Refused("not_waiting"));
                }
                self.queued = true;
                if self.peer.take().is_some() {
                    out.push(Effect::UnbridgeCaller);
                }
                out.push(Effect::MusicOnHold);
            }
            Input::Offered { agent, device } => {
                if !self.queued || self.offers.contains_key(&agent) {
                    return Err(Refused("not_offerable"));
                }
                if let Device::Desk { leg } = device {
                    if self.legs.contains_key(&leg) {
                        return Err(Refused("leg_exists"));
                    }
                    self.legs.insert(leg, LegKind::Agent(agent));
                }
                self.offers.insert(agent, device);
                if device == Device::Nothing {
                    out.push(Effect::AcdReject {
                        agent,
                        why: "no_device".into(),
                    });
                } else {
                    out.push(Effect::Offer { agent, device });
                }
            }
            Input::OfferEnded { agent, why } => {
                let Some(device) = self.offers.remove(&agent) else {
                    return Err(Refused("not_offered"));
                };
                if let Device::Desk { leg } = device {
                    self.hang_up_leg(leg, &mut out);
                }
                let reason = match why.as_str() {
                    "ring_no_answer" => Some(hotline_wire::api::builtin_reasons::MISSED),
                    "answered_elsewhere" => None,
                    "rejected" => Some(hotline_wire::api::builtin_reasons::REJECTED),
                    other => Some(crate::offers::failure_reason_code(other)),
                };
                if let Some(reason) = reason {
                    out.push(Effect::NotReady { agent, reason });
                }
                out.push(Effect::Withdrawn { agent, reason: why });
            }
            Input::OfferCancelled { agent, why } => {
                let Some(device) = self.offers.remove(&agent) else {
                    return Err(Refused("not_offered"));
                };
                if let Device::Desk { leg } = device {
                    self.hang_up_leg(leg, &mut out);
                }
                out.push(Effect::Withdrawn { agent, reason: why });
            }
            Input::OfferFailed { agent, why } => {
                if !self.offers.contains_key(&agent) {
                    return Err(Refused("not_offered"));
                }
                out.push(Effect::AcdReject { agent, why });
            }
            Input::Requeued => {
                if self.agent.is_none() {
                    return Err(Refused("not_connected"));
                }
                if let Some(c) = self.consult.take() {
                    self.hang_up_leg(c.leg, &mut out);
                }
                self.room.clear();
                self.let_go(&mut out);
                self.peer = None;
                out.push(Effect::UnbridgeCaller);
                out.push(Effect::MusicOnHold);
                self.queued = true;
            }
            Input::AcdConnected { agent } => {
                let Some(device) = self.offers.remove(&agent) else {
                    return Err(Refused("not_offered"));
                };
                self.withdraw_offers(None, "answered_elsewhere", &mut out);
                self.queued = false;
                self.agent = Some((agent, device));
                self.peer = Some(Peer::Agent);
                out.push(Effect::BridgeCaller(Peer::Agent));
                out.push(Effect::Connected(agent));
                self.settle(&mut out, "answered");
            }
            Input::LegAnswered(leg)
                if agent_first
                    && !self.caller_dialled
                    && self.agent
                        == Some((self.placed_by.unwrap_or_default(), Device::Desk { leg })) =>
            {
                // The agent picked up their desk phone: now the customer is dialled.
                self.caller_dialled = true;
                out.push(Effect::DialCaller);
            }
            Input::LegAnswered(leg) => match self.legs.get(&leg).copied() {
                Some(LegKind::Agent(agent))
                    if self.offers.get(&agent) == Some(&Device::Desk { leg }) =>
                {
                    out.push(Effect::AcdAnswer(agent));
                }
                Some(LegKind::Consult) => {
                    let Some(c) = self
                        .consult
                        .as_mut()
                        .filter(|c| c.leg == leg && !c.answered)
                    else {
                        return Err(Refused("not_consulting"));
                    };
                    c.answered = true;
                    self.agent_peer = Some(leg);
                    out.push(Effect::BridgeAgentTo(leg));
                    out.push(Effect::ConsultState("talking"));
                }
                Some(LegKind::Outside) if self.peer.is_none() && self.agent.is_none() => {
                    self.peer = Some(Peer::Leg(leg));
                    out.push(Effect::BridgeCaller(Peer::Leg(leg)));
                }
                _ => return Err(Refused("unknown_leg")),
            },
            Input::LegEnded { leg, failure } => {
                let Some(kind) = self.legs.remove(&leg) else {
                    return Err(Refused("unknown_leg"));
                };
                match kind {
                    LegKind::Agent(agent) if self.offers.contains_key(&agent) => {
                        // The desk phone said no before answering: the ACD hears the failure
                        // (its `rejected` then withdraws the offer).
                        out.push(Effect::AcdReject {
                            agent,
                            why: failure,
                        });
                    }
                    LegKind::Agent(_) => {
                        // The connected agent put their desk phone down: the call ends.
                        if self.caller_up {
                            if agent_first && !self.caller_dialled {
                                // The customer was never dialled.
                                self.agent = None;
                                out.push(Effect::Ended(agent_of(&kind)));
                                self.finish(&mut out);
                            } else {
                                self.release_agent(&mut out);
                                self.hang_up_caller(&mut out);
                            }
                        }
                    }
                    LegKind::Consult => {
                        let was_room = self.room.contains(&Member::Leg(leg));
                        self.consult = None;
                        if was_room {
                            self.room_left(Member::Leg(leg), &mut out);
                        }
                        if self.caller_up && self.agent.is_some() {
                            out.push(Effect::ConsultState("ended"));
                        }
                        if self.caller_up && self.peer == Some(Peer::Leg(leg)) {
                            self.peer = None;
                            self.hang_up_caller(&mut out);
                        }
                    }
                    LegKind::Outside => {
                        if self.caller_up {
                            // A transfer ends whole: the caller is not left hearing nothing.
                            self.peer = None;
                            self.hang_up_caller(&mut out);
                        }
                    }
                }
            }
            Input::Hold | Input::Resume => {
                let hold = input == Input::Hold;
                if hold && self.consult.is_some() && self.room.contains(&Member::Caller) {
                    // Hold in a conference: the caller leaves the room for the music; the
                    // agent and the consulted party go on talking in it.
                    self.room.remove(&Member::Caller);
                    self.peer = None;
                    self.held = true;
                    out.push(Effect::LeaveRoom(Member::Caller));
                    out.push(Effect::MusicOnHold);
                    out.push(Effect::Held(true));
                    return Ok(out);
                }
                self.connected_alone()?;
                if self.held == hold {
                    return Err(Refused("already"));
                }
                self.held = hold;
                if hold {
                    if !self.leave_room_of_two(&mut out) {
                        out.push(Effect::UnbridgeCaller);
                    }
                    self.peer = None;
                    out.push(Effect::MusicOnHold);
                } else {
                    self.peer = Some(Peer::Agent);
                    out.push(Effect::BridgeCaller(Peer::Agent));
                }
                out.push(Effect::Held(hold));
            }
            Input::Consult { leg } => {
                self.connected_alone()?;
                if self.legs.contains_key(&leg) {
                    return Err(Refused("leg_exists"));
                }
                if self.leave_room_of_two(&mut out) {
                    self.held = true;
                    out.push(Effect::MusicOnHold);
                } else if !self.held {
                    self.held = true;
                    self.peer = None;
                    out.push(Effect::UnbridgeCaller);
                    out.push(Effect::MusicOnHold);
                }
                self.consult = Some(Consult {
                    leg,
                    answered: false,
                });
                self.legs.insert(leg, LegKind::Consult);
                out.push(Effect::Dial {
                    leg,
                    kind: LegKind::Consult,
                });
                out.push(Effect::ConsultState("dialling"));
            }
            Input::Conference => {
                let c = self.answered_consult()?;
                if self.room.contains(&Member::Caller) {
                    return Err(Refused("already"));
                }
                if !self.room.is_empty() {
                    // The caller held out of the conference comes back into it.
                    self.room.insert(Member::Caller);
                    out.push(Effect::JoinRoom(Member::Caller));
                    self.peer = Some(Peer::Room);
                    self.held = false;
                    out.push(Effect::Held(false));
                    out.push(Effect::ConsultState("conference"));
                    return Ok(out);
                }
                self.agent_peer = None;
                for m in [Member::Caller, Member::Agent, Member::Leg(c.leg)] {
                    self.room.insert(m);
                    out.push(Effect::JoinRoom(m));
                }
                self.peer = Some(Peer::Room);
                self.held = false;
                out.push(Effect::Held(false));
                out.push(Effect::ConsultState("conference"));
            }
            Input::CompleteTransfer => {
                let c = self.answered_consult()?;
                self.release_agent(&mut out);
                self.consult = None;
                if self.room.remove(&Member::Leg(c.leg)) {
                    out.push(Effect::LeaveRoom(Member::Leg(c.leg)));
                }
                self.room.clear();
                // The consulted party stays with the caller as an outside party.
                self.legs.insert(c.leg, LegKind::Outside);
                self.peer = Some(Peer::Leg(c.leg));
                out.push(Effect::BridgeCaller(Peer::Leg(c.leg)));
            }
            Input::CancelConsult => {
                let Some(c) = self.consult.take() else {
                    return Err(Refused("no_consult"));
                };
                if !self.room.is_empty() {
                    self.room.clear();
                    out.push(Effect::LeaveRoom(Member::Agent));
                }
                self.hang_up_leg(c.leg, &mut out);
                self.held = false;
                self.peer = Some(Peer::Agent);
                out.push(Effect::BridgeCaller(Peer::Agent));
                out.push(Effect::Held(false));
                out.push(Effect::ConsultState("cancelled"));
            }
            Input::TransferOut { leg } => {
                self.connected_alone()?;
                if self.legs.contains_key(&leg) {
                    return Err(Refused("leg_exists"));
                }
                if !self.leave_room_of_two(&mut out) {
                    out.push(Effect::UnbridgeCaller);
                }
                self.release_agent(&mut out);
                out.push(Effect::MusicOnHold);
                self.legs.insert(leg, LegKind::Outside);
                out.push(Effect::Dial {
                    leg,
                    kind: LegKind::Outside,
                });
            }
            Input::AgentHangUp => {
                if self.agent.is_none() {
                    return Err(Refused("not_connected"));
                }
                if let Some(c) = self.consult.take() {
                    self.hang_up_leg(c.leg, &mut out);
                }
                self.room.clear();
                self.release_agent(&mut out);
                if agent_first && !self.caller_dialled {
                    self.finish(&mut out);
                } else {
                    self.hang_up_caller(&mut out);
                }
            }
            Input::MaxWait {
                step,
                missed,
                outcome,
            } => {
                if !self.queued {
                    return Err(Refused("not_waiting"));
                }
                self.queued = false;
                self.withdraw_offers(None, "max_wait", &mut out);
                match missed.filter(|_| self.owner.misses()) {
                    Some(reason) => {
                        out.push(Effect::Missed(reason));
                        self.settle(&mut out, reason);
                    }
                    None => self.settle(&mut out, outcome),
                }
                self.leaving = Some(step.clone());
                out.push(Effect::Leave(step));
            }
            Input::CallerHungUp => {
                self.caller_up = false;
                if self.queued {
                    self.queued = false;
                    self.withdraw_offers(None, "abandoned", &mut out);
                    out.push(Effect::AcdHangup);
                    if self.owner.misses() {
                        out.push(Effect::Missed("abandoned"));
                    }
                    self.settle(&mut out, "abandoned");
                }
                if let Some(c) = self.consult.take() {
                    self.hang_up_leg(c.leg, &mut out);
                }
                self.room.clear();
                self.release_agent(&mut out);
                let rest: Vec<Uuid> = self.legs.keys().copied().collect();
                for leg in rest {
                    self.hang_up_leg(leg, &mut out);
                }
                self.peer = None;
                self.leaving = None;
                if agent_first {
                    self.finish(&mut out);
                }
                self.settle(&mut out, "abandoned");
            }
        }
        Ok(out)
    }
}
