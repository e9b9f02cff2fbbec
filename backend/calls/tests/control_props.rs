//! Random interleavings of gateway, ACD and agent inputs on one call; after every step and
//! at the end the call keeps its promises (see `hotline_calls::control`).

use hotline_calls::control::{Call, Device, Effect, Input, Member, Owner, Peer};
use hotline_calls::queue_exit::{plan, Step};
use hotline_wire::api::MaxWaitAction;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

fn agent(n: u8) -> Uuid {
    Uuid::from_u128(0xA000 + n as u128)
}

fn leg(n: u8) -> Uuid {
    Uuid::from_u128(0xB000 + n as u128)
}

fn arb_input() -> impl Strategy<Value = Input> {
    let a = 0u8..3;
    let l = 0u8..6;
    prop_oneof![
        Just(Input::Queued),
        (a.clone(), prop::option::of(l.clone()), any::<bool>()).prop_map(|(a, l, none)| {
            Input::Offered {
                agent: agent(a),
                device: match l {
                    Some(l) => Device::Desk { leg: leg(l) },
                    None if none => Device::Nothing,
                    None => Device::Softphone,
                },
            }
        }),
        (
            a.clone(),
            prop::sample::select(vec![
                "ring_no_answer",
                "rejected",
                "phone_busy",
                "answered_elsewhere",
            ])
        )
            .prop_map(|(a, w)| Input::OfferEnded {
                agent: agent(a),
                why: w.to_string(),
            }),
        (
            a.clone(),
            prop::sample::select(vec!["answered_elsewhere", "max_wait"])
        )
            .prop_map(|(a, w)| Input::OfferCancelled {
                agent: agent(a),
                why: w.to_string(),
            }),
        a.clone().prop_map(|a| Input::OfferFailed {
            agent: agent(a),
            why: "softphone_lost".into(),
        }),
        Just(Input::Requeued),
        a.clone()
            .prop_map(|a| Input::AcdConnected { agent: agent(a) }),
        l.clone().prop_map(|l| Input::LegAnswered(leg(l))),
        l.clone().prop_map(|l| Input::LegEnded {
            leg: leg(l),
            failure: "phone_busy".into(),
        }),
        Just(Input::Hold),
        Just(Input::Resume),
        l.clone().prop_map(|l| Input::Consult { leg: leg(l) }),
        Just(Input::Conference),
        Just(Input::CompleteTransfer),
        Just(Input::CancelConsult),
        l.prop_map(|l| Input::TransferOut { leg: leg(l) }),
        Just(Input::AgentHangUp),
        prop::sample::select(MaxWaitAction::ALL.to_vec()).prop_map(|a| {
            let p = plan(a, None, false);
            Input::MaxWait {
                step: p.step,
                missed: p.missed_reason,
                outcome: p.outcome,
            }
        }),
        Just(Input::CallerHungUp),
        Just(Input::CallerAnswered),
    ]
}

/// How an agent-first call starts: the agent's softphone, or a desk phone leg of its own.
fn arb_placed() -> impl Strategy<Value = Input> {
    prop::option::of(10u8..12).prop_map(|l| Input::Placed {
        agent: agent(0),
        device: match l {
            Some(l) => Device::Desk { leg: leg(l) },
            None => Device::Softphone,
        },
    })
}

/// Who is joined to whom on the gateway, replayed from the effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Caller,
    Agent,
    Leg(Uuid),
}

#[derive(Default)]
struct World {
    bridges: BTreeMap<Node, Node>,
    room: BTreeSet<Node>,
    opened: BTreeSet<Uuid>,
    closed: BTreeMap<Uuid, u32>,
    outcomes: Vec<&'static str>,
    finished: u32,
}

impl World {
    fn cut(&mut self, n: Node) {
        if let Some(other) = self.bridges.remove(&n) {
            self.bridges.remove(&other);
        }
    }

    /// Joins `a` and `b`; `b` must be free (no leg bridged twice), `a`'s old bridge goes.
    fn join(&mut self, a: Node, b: Node) -> Result<(), TestCaseError> {
        self.cut(a);
        prop_assert!(
            !self.bridges.contains_key(&b) && !self.room.contains(&b),
            "{b:?} bridged twice"
        );
        self.bridges.insert(a, b);
        self.bridges.insert(b, a);
        Ok(())
    }

    fn close(&mut self, l: Uuid) {
        self.cut(Node::Leg(l));
        self.room.remove(&Node::Leg(l));
        *self.closed.entry(l).or_default() += 1;
    }

    fn apply(&mut self, call: &Call, effects: &[Effect]) -> Result<(), TestCaseError> {
        for e in effects {
            match e {
                Effect::BridgeCaller(p) => {
                    self.room.remove(&Node::Caller);
                    let to = match p {
                        Peer::Agent => Node::Agent,
                        Peer::Leg(l) => Node::Leg(*l),
                        Peer::Room => continue,
                    };
                    self.join(Node::Caller, to)?;
                }
                Effect::BridgeAgentTo(l) => self.join(Node::Agent, Node::Leg(*l))?,
                Effect::UnbridgeCaller => self.cut(Node::Caller),
                Effect::UnbridgeAgent => self.cut(Node::Agent),
                Effect::JoinRoom(m) => {
                    let n = match m {
                        Member::Caller => Node::Caller,
                        Member::Agent => Node::Agent,
                        Member::Leg(l) => Node::Leg(*l),
                    };
                    self.cut(n);
                    self.room.insert(n);
                }
                Effect::LeaveRoom(m) => {
                    self.room.remove(&match m {
                        Member::Caller => Node::Caller,
                        Member::Agent => Node::Agent,
                        Member::Leg(l) => Node::Leg(*l),
                    });
                }
                Effect::Offer {
                    device: Device::Desk { leg },
                    ..
                }
                | Effect::Dial { leg, .. } => {
                    prop_assert!(self.opened.insert(*leg), "leg {leg} opened twice");
                }
                Effect::HangUpLeg(l) => self.close(*l),
                Effect::Ended(_) => {
                    // The agent is free: a softphone is bridged again on the next call.
                    self.cut(Node::Agent);
                    self.room.remove(&Node::Agent);
                }
                Effect::Outcome(o) => self.outcomes.push(o),
                Effect::Finished { .. } => self.finished += 1,
                _ => {}
            }
        }
        // A conference always has two humans at least.
        prop_assert!(
            call.room.is_empty() || call.room.len() >= 2,
            "{:?}",
            call.room
        );
        Ok(())
    }
}

fn step(call: &mut Call, world: &mut World, input: Input) -> Result<(), TestCaseError> {
    // The shell opens every leg with a fresh id: a reused one is not an input it can make.
    let opens = match &input {
        Input::Offered {
            device: Device::Desk { leg },
            ..
        }
        | Input::Placed {
            device: Device::Desk { leg },
            ..
        }
        | Input::Consult { leg }
        | Input::TransferOut { leg } => Some(*leg),
        _ => None,
    };
    if opens.is_some_and(|l| world.opened.contains(&l)) {
        return Ok(());
    }
    let before = call.clone();
    let ended_leg = match &input {
        Input::LegEnded { leg, .. } => Some(*leg),
        _ => None,
    };
    match call.handle(input.clone()) {
        Ok(effects) => {
            if let Some(l) = ended_leg {
                world.close(l);
            }
            world.apply(call, &effects)?;
        }
        Err(_) => prop_assert_eq!(&before, &*call, "a refused input changed the call"),
    }
    // A caller is never left with nobody, no queue and no voicemail.
    prop_assert!(call.attended(), "stranded after {input:?}: {call:?}");
    // Every leg the call says is up was opened and not closed.
    for l in call.legs.keys() {
        prop_assert!(world.opened.contains(l) && !world.closed.contains_key(l));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn every_interleaving_keeps_the_calls_promises(
        inputs in prop::collection::vec(arb_input(), 1..40),
        owner in prop::sample::select(vec![
            Owner::Inbound,
            Owner::Campaign,
            Owner::Callback,
            Owner::ClickToCall,
            Owner::Preview,
            Owner::Internal,
        ]),
        placed in arb_placed(),
    ) {
        let mut call = Call::new(owner);
        let mut world = World::default();
        let first = if owner.agent_first() { placed } else { Input::Queued };
        step(&mut call, &mut world, first)?;
        for input in inputs {
            step(&mut call, &mut world, input)?;
        }
        // The caller's end comes (if it has not): everything closes.
        if call.caller_up {
            step(&mut call, &mut world, Input::CallerHungUp)?;
        }
        prop_assert!(call.ended(), "legs left up: {:?}", call.legs);
        // Every leg opened was closed exactly once.
        for l in &world.opened {
            prop_assert_eq!(world.closed.get(l).copied(), Some(1), "leg {}", l);
        }
        // Exactly one outcome.
        prop_assert_eq!(world.outcomes.len(), 1, "{:?}", world.outcomes);
        // An agent-first call frees its agent exactly once.
        prop_assert_eq!(world.finished, u32::from(owner.agent_first()));
        prop_assert_eq!(Some(world.outcomes[0]), call.outcome.as_deref());
    }
}

#[test]
fn ring_all_the_first_answer_wins_and_the_others_stop_at_once() {
    let mut call = Call::new(Owner::Inbound);
    call.handle(Input::Queued).unwrap();
    for (a, l) in [(0, 0), (1, 1)] {
        call.handle(Input::Offered {
            agent: agent(a),
            device: Device::Desk { leg: leg(l) },
        })
        .unwrap();
    }
    call.handle(Input::Offered {
        agent: agent(2),
        device: Device::Softphone,
    })
    .unwrap();
    assert_eq!(
        call.handle(Input::LegAnswered(leg(1))).unwrap(),
        [Effect::AcdAnswer(agent(1))]
    );
    let fx = call
        .handle(Input::AcdConnected { agent: agent(1) })
        .unwrap();
    assert!(fx.contains(&Effect::HangUpLeg(leg(0))), "{fx:?}");
    for a in [0, 2] {
        assert!(fx.contains(&Effect::Withdrawn {
            agent: agent(a),
            reason: "answered_elsewhere".into()
        }));
    }
    assert!(fx.contains(&Effect::BridgeCaller(Peer::Agent)));
    assert_eq!(call.legs.keys().copied().collect::<Vec<_>>(), [leg(1)]);
}

#[test]
fn a_caller_at_max_wait_gets_the_queues_voicemail_and_a_missed_call() {
    let mut call = Call::new(Owner::Inbound);
    call.handle(Input::Queued).unwrap();
    let p = plan(MaxWaitAction::Voicemail, None, false);
    let fx = call
        .handle(Input::MaxWait {
            step: p.step.clone(),
            missed: p.missed_reason,
            outcome: p.outcome,
        })
        .unwrap();
    assert_eq!(
        fx,
        [
            Effect::Missed("voicemail"),
            Effect::Outcome("voicemail"),
            Effect::Leave(Step::RecordVoicemail { max_ms: 120_000 })
        ]
    );
    // Hanging up after the message is not an abandon.
    assert_eq!(call.handle(Input::CallerHungUp).unwrap(), []);
    assert_eq!(call.outcome.as_deref(), Some("voicemail"));
}

#[test]
fn the_consulted_party_leaving_a_conference_keeps_caller_and_agent_together() {
    let mut call = Call::new(Owner::Inbound);
    call.handle(Input::Queued).unwrap();
    call.handle(Input::Offered {
        agent: agent(0),
        device: Device::Softphone,
    })
    .unwrap();
    call.handle(Input::AcdConnected { agent: agent(0) })
        .unwrap();
    call.handle(Input::Consult { leg: leg(3) }).unwrap();
    call.handle(Input::LegAnswered(leg(3))).unwrap();
    call.handle(Input::Conference).unwrap();
    let fx = call
        .handle(Input::LegEnded {
            leg: leg(3),
            failure: String::new(),
        })
        .unwrap();
    assert_eq!(fx, [Effect::ConsultState("ended")]);
    assert_eq!(call.room.len(), 2);
    // The two left may hold: the caller leaves the room for the music.
    let mut holding = call.clone();
    let fx = holding.handle(Input::Hold).unwrap();
    assert!(fx.contains(&Effect::MusicOnHold), "{fx:?}");
    assert!(holding.room.is_empty());
    // The agent hangs up: the caller's call ends with them.
    let fx = call.handle(Input::AgentHangUp).unwrap();
    assert!(fx.contains(&Effect::HangUpCaller), "{fx:?}");
    assert_eq!(
        call.handle(Input::Hold),
        Err(hotline_calls::control::Refused("not_connected"))
    );
}

#[test]
fn a_callback_from_a_desk_phone_dials_the_customer_once_the_agent_picks_up() {
    let mut call = Call::new(Owner::Callback);
    let desk = leg(10);
    let fx = call
        .handle(Input::Placed {
            agent: agent(0),
            device: Device::Desk { leg: desk },
        })
        .unwrap();
    assert!(
        matches!(fx[..], [Effect::Dial { leg, .. }] if leg == desk),
        "{fx:?}"
    );
    assert_eq!(
        call.handle(Input::CallerAnswered),
        Err(hotline_calls::control::Refused("not_dialled"))
    );
    assert_eq!(
        call.handle(Input::LegAnswered(desk)).unwrap(),
        [Effect::DialCaller]
    );
    let fx = call.handle(Input::CallerAnswered).unwrap();
    assert_eq!(
        fx,
        [
            Effect::BridgeCaller(Peer::Agent),
            Effect::Connected(agent(0)),
            Effect::Outcome("answered")
        ]
    );
    let fx = call.handle(Input::CallerHungUp).unwrap();
    assert!(fx.contains(&Effect::HangUpLeg(desk)), "{fx:?}");
    assert!(
        fx.contains(&Effect::Finished {
            agent: agent(0),
            answered: true
        }),
        "{fx:?}"
    );
    assert!(
        !fx.contains(&Effect::AcdHangup),
        "not the ACD's call: {fx:?}"
    );
    assert!(call.ended());
}

#[test]
fn a_click_to_call_nobody_answers_fails_and_frees_the_agent() {
    let mut call = Call::new(Owner::ClickToCall);
    let fx = call
        .handle(Input::Placed {
            agent: agent(1),
            device: Device::Softphone,
        })
        .unwrap();
    assert_eq!(fx, [Effect::DialCaller]);
    let fx = call.handle(Input::CallerHungUp).unwrap();
    assert!(fx.contains(&Effect::Outcome("failed")), "{fx:?}");
    assert!(fx.contains(&Effect::Finished {
        agent: agent(1),
        answered: false
    }));
    assert!(call.ended());
}

#[test]
fn an_internal_call_from_a_desk_phone_rings_the_colleague_and_ends_whole() {
    // The calling desk phone's leg is already up (ringing): the shell reports it answered at
    // once, the colleague's extension is dialled, their answer bridges the two.
    let mut call = Call::new(Owner::Internal);
    let desk = leg(11);
    let fx = call
        .handle(Input::Placed {
            agent: agent(2),
            device: Device::Desk { leg: desk },
        })
        .unwrap();
    assert!(
        matches!(fx[..], [Effect::Dial { leg, .. }] if leg == desk),
        "{fx:?}"
    );
    assert_eq!(
        call.handle(Input::LegAnswered(desk)).unwrap(),
        [Effect::DialCaller]
    );
    let fx = call.handle(Input::CallerAnswered).unwrap();
    assert!(fx.contains(&Effect::BridgeCaller(Peer::Agent)), "{fx:?}");
    // Hold works like on any call; the caller's desk phone hanging up ends the colleague's leg.
    assert!(call
        .handle(Input::Hold)
        .unwrap()
        .contains(&Effect::Held(true)));
    assert!(call
        .handle(Input::Resume)
        .unwrap()
        .contains(&Effect::Held(false)));
    let fx = call
        .handle(Input::LegEnded {
            leg: desk,
            failure: "hangup".into(),
        })
        .unwrap();
    assert!(fx.contains(&Effect::HangUpCaller), "{fx:?}");
    assert!(
        !fx.contains(&Effect::AcdHangup),
        "not the ACD's call: {fx:?}"
    );
    let fx = call.handle(Input::CallerHungUp).unwrap();
    assert!(
        fx.contains(&Effect::Finished {
            agent: agent(2),
            answered: true
        }),
        "{fx:?}"
    );
    assert!(call.ended());
}
