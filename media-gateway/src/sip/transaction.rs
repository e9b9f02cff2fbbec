//! Sans-IO SIP transactions (RFC 3261 §17): INVITE and non-INVITE server transactions and the
//! non-INVITE client transaction, with timers E–K driven by `Instant`s passed in.
//!
//! A transaction never touches a socket: it returns the bytes to (re)transmit and the caller
//! sends them. Over reliable transports (TCP) retransmission timers are not armed and the
//! "wait" timers (I, J, K) are zero, as the RFC prescribes.

use bytes::Bytes;
use std::time::{Duration, Instant};

/// RTT estimate.
pub const T1: Duration = Duration::from_millis(500);
/// Maximum retransmit interval for non-INVITE requests and INVITE responses.
pub const T2: Duration = Duration::from_secs(4);
/// Maximum duration a message remains in the network.
pub const T4: Duration = Duration::from_secs(5);

/// Transaction state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxState {
    /// Non-INVITE: request received/sent, nothing answered yet.
    Trying,
    /// A provisional response was sent/received.
    Proceeding,
    /// A final response was sent/received; absorbing retransmissions.
    Completed,
    /// INVITE server only: ACK received for a non-2xx final response.
    Confirmed,
    /// Done; the transaction can be dropped.
    Terminated,
}

/// What a timer firing asks the caller to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxAction {
    /// Send these bytes again.
    Retransmit(Bytes),
    /// The transaction timed out (Timer F or H): inform the transaction user.
    TimedOut,
    /// The transaction ended normally and can be removed.
    Terminated,
}

/// Server transaction kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// INVITE server transaction (§17.2.1).
    Invite,
    /// Non-INVITE server transaction (§17.2.2).
    NonInvite,
}

/// A server transaction.
#[derive(Debug, Clone)]
pub struct ServerTransaction {
    kind: ServerKind,
    state: TxState,
    reliable: bool,
    last_response: Option<Bytes>,
    /// Timer G: (fires at, current interval).
    timer_g: Option<(Instant, Duration)>,
    /// Timer H (INVITE), I (INVITE) or J (non-INVITE): fires at.
    timer_end: Option<Instant>,
}

impl ServerTransaction {
    /// A new transaction for a request just received.
    pub fn new(kind: ServerKind, reliable: bool) -> Self {
        ServerTransaction {
            kind,
            state: match kind {
                ServerKind::Invite => TxState::Proceeding,
                ServerKind::NonInvite => TxState::Trying,
            },
            reliable,
            last_response: None,
            timer_g: None,
            timer_end: None,
        }
    }

    /// Current state.
    pub fn state(&self) -> TxState {
        self.state
    }

    /// The request was retransmitted by the peer: returns the response to send again, if any.
    pub fn on_retransmission(&self) -> Option<Bytes> {
        match self.state {
            TxState::Proceeding | TxState::Completed => self.last_response.clone(),
            // A 2xx-answered INVITE lingers 64*T1 so INVITE retransmissions get the 2xx again
            // instead of creating a second call.
            TxState::Terminated if self.timer_end.is_some() => self.last_response.clone(),
            _ => None,
        }
    }

    /// The transaction user sends a response; returns the bytes to transmit (or `None` when
    /// the transaction no longer accepts responses).
    pub fn send_response(&mut self, now: Instant, status: u16, bytes: Bytes) -> Option<Bytes> {
        if !matches!(self.state, TxState::Trying | TxState::Proceeding) {
            return None;
        }
        self.last_response = Some(bytes.clone());
        match (self.kind, status) {
            (_, 100..=199) => self.state = TxState::Proceeding,
            // 2xx to INVITE: the transaction ends; the dialog (TU) retransmits the 2xx.
            (ServerKind::Invite, 200..=299) => {
                self.state = TxState::Terminated;
                self.timer_end = Some(now + 64 * T1);
            }
            (ServerKind::Invite, _) => {
                self.state = TxState::Completed;
                if !self.reliable {
                    self.timer_g = Some((now + T1, T1));
                }
                self.timer_end = Some(now + 64 * T1);
            }
            (ServerKind::NonInvite, _) => {
                self.state = TxState::Completed;
                self.timer_end = Some(
                    now + if self.reliable {
                        Duration::ZERO
                    } else {
                        64 * T1
                    },
                );
            }
        }
        Some(bytes)
    }

    /// ACK for a non-2xx final response (INVITE only).
    pub fn on_ack(&mut self, now: Instant) {
        if self.kind == ServerKind::Invite && self.state == TxState::Completed {
            self.state = TxState::Confirmed;
            self.timer_g = None;
            self.timer_end = Some(now + if self.reliable { Duration::ZERO } else { T4 });
        }
    }

    /// The last response sent, whatever the state.
    pub fn last_response_bytes(&self) -> Option<Bytes> {
        self.last_response.clone()
    }

    /// Earliest instant at which [`ServerTransaction::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.timer_g.map(|(t, _)| t), self.timer_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Fires due timers.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<TxAction> {
        if let Some(end) = self.timer_end {
            if now >= end {
                let timed_out = self.kind == ServerKind::Invite && self.state == TxState::Completed;
                self.state = TxState::Terminated;
                self.timer_g = None;
                self.timer_end = None;
                return Some(if timed_out {
                    TxAction::TimedOut
                } else {
                    TxAction::Terminated
                });
            }
        }
        if let Some((at, interval)) = self.timer_g {
            if now >= at && self.state == TxState::Completed {
                let next = (interval * 2).min(T2);
                self.timer_g = Some((now + next, next));
                return self.last_response.clone().map(TxAction::Retransmit);
            }
        }
        None
    }
}

/// A client transaction: non-INVITE (§17.1.2, timers E/F/K — the gateway's BYE and CANCEL)
/// or INVITE (§17.1.1, timers A/B/D — outbound calls). For INVITE the timer fields hold
/// A, B and D respectively.
#[derive(Debug, Clone)]
pub struct ClientTransaction {
    state: TxState,
    reliable: bool,
    invite: bool,
    request: Bytes,
    /// ACK sent for a non-2xx final response (INVITE), re-sent on retransmitted finals.
    ack: Option<Bytes>,
    timer_e: Option<(Instant, Duration)>,
    timer_f: Option<Instant>,
    timer_k: Option<Instant>,
}

impl ClientTransaction {
    /// Starts a non-INVITE transaction; the caller transmits `request` once now.
    pub fn new(now: Instant, request: Bytes, reliable: bool) -> Self {
        ClientTransaction {
            state: TxState::Trying,
            reliable,
            invite: false,
            request,
            ack: None,
            timer_e: (!reliable).then_some((now + T1, T1)),
            timer_f: Some(now + 64 * T1),
            timer_k: None,
        }
    }

    /// Starts an INVITE transaction (state Calling, reported as `Trying`).
    pub fn new_invite(now: Instant, request: Bytes, reliable: bool) -> Self {
        ClientTransaction {
            invite: true,
            ..Self::new(now, request, reliable)
        }
    }

    /// Stores the ACK the transaction user built for a non-2xx final response.
    pub fn set_ack(&mut self, ack: Bytes) {
        self.ack = Some(ack);
    }

    /// A final response arrived again while Completed: the ACK to re-send (INVITE only).
    pub fn retransmitted_final(&self) -> Option<Bytes> {
        (self.invite && self.state == TxState::Completed)
            .then(|| self.ack.clone())
            .flatten()
    }

    /// Current state.
    pub fn state(&self) -> TxState {
        self.state
    }

    /// A response matched this transaction; returns the status when it is the first final one.
    pub fn on_response(&mut self, now: Instant, status: u16) -> Option<u16> {
        match (self.state, status) {
            (TxState::Trying | TxState::Proceeding, 100..=199) => {
                self.state = TxState::Proceeding;
                if self.invite {
                    // Timer A stops once a provisional response arrived.
                    self.timer_e = None;
                }
                None
            }
            (TxState::Trying | TxState::Proceeding, 200..=299) if self.invite => {
                // 2xx: the transaction ends; the dialog ACKs (and re-ACKs retransmissions).
                self.state = TxState::Terminated;
                self.timer_e = None;
                self.timer_f = None;
                Some(status)
            }
            (TxState::Trying | TxState::Proceeding, _) => {
                self.state = TxState::Completed;
                self.timer_e = None;
                self.timer_f = None;
                let wait = match (self.reliable, self.invite) {
                    (true, _) => Duration::ZERO,
                    (false, true) => Duration::from_secs(32),
                    (false, false) => T4,
                };
                self.timer_k = Some(now + wait);
                Some(status)
            }
            _ => None,
        }
    }

    /// Earliest instant with work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.timer_e.map(|(t, _)| t), self.timer_f, self.timer_k]
            .into_iter()
            .flatten()
            .min()
    }

    /// Fires due timers.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<TxAction> {
        if let Some(k) = self.timer_k {
            if now >= k {
                self.state = TxState::Terminated;
                self.timer_k = None;
                return Some(TxAction::Terminated);
            }
        }
        if let Some(f) = self.timer_f {
            if now >= f {
                self.state = TxState::Terminated;
                self.timer_e = None;
                self.timer_f = None;
                return Some(TxAction::TimedOut);
            }
        }
        if let Some((at, interval)) = self.timer_e {
            if now >= at {
                let next = if self.invite {
                    // Timer A doubles without a cap until Timer B.
                    interval * 2
                } else if self.state == TxState::Proceeding {
                    T2
                } else {
                    (interval * 2).min(T2)
                };
                self.timer_e = Some((now + next, next));
                return Some(TxAction::Retransmit(self.request.clone()));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b(s: &str) -> Bytes {
        Bytes::from(s.to_string())
    }

    #[test]
    fn invite_error_response_retransmits_until_ack() {
        let t0 = Instant::now();
        let mut tx = ServerTransaction::new(ServerKind::Invite, false);
        assert!(tx.send_response(t0, 100, b("100")).is_some());
        assert_eq!(tx.on_retransmission(), Some(b("100")));
        tx.send_response(t0, 486, b("486"));
        assert_eq!(tx.state(), TxState::Completed);
        assert_eq!(
            tx.handle_timeout(t0 + T1),
            Some(TxAction::Retransmit(b("486")))
        );
        assert_eq!(
            tx.handle_timeout(t0 + T1 + Duration::from_millis(999)),
            None
        );
        assert_eq!(
            tx.handle_timeout(t0 + 3 * T1),
            Some(TxAction::Retransmit(b("486")))
        );
        tx.on_ack(t0 + 4 * T1);
        assert_eq!(tx.state(), TxState::Confirmed);
        assert_eq!(
            tx.handle_timeout(t0 + 4 * T1 + T4),
            Some(TxAction::Terminated)
        );
    }

    #[test]
    fn invite_error_without_ack_times_out_with_timer_h() {
        let t0 = Instant::now();
        let mut tx = ServerTransaction::new(ServerKind::Invite, false);
        tx.send_response(t0, 404, b("404"));
        let mut retransmits = 0;
        let now = loop {
            let now = tx.poll_timeout().unwrap();
            match tx.handle_timeout(now) {
                Some(TxAction::Retransmit(_)) => retransmits += 1,
                Some(TxAction::TimedOut) => break now,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(now, t0 + 64 * T1);
        assert!(retransmits >= 7, "{retransmits}");
    }

    #[test]
    fn invite_2xx_terminates_and_tcp_has_no_retransmissions() {
        let t0 = Instant::now();
        let mut tx = ServerTransaction::new(ServerKind::Invite, true);
        tx.send_response(t0, 200, b("200"));
        assert_eq!(tx.state(), TxState::Terminated);
        assert_eq!(tx.on_retransmission(), Some(b("200")));
        assert_eq!(tx.handle_timeout(t0 + 64 * T1), Some(TxAction::Terminated));
        assert_eq!(tx.on_retransmission(), None);
        let mut tx = ServerTransaction::new(ServerKind::Invite, true);
        tx.send_response(t0, 486, b("486"));
        assert_eq!(tx.poll_timeout(), Some(t0 + 64 * T1));
    }

    #[test]
    fn non_invite_client_retransmits_then_times_out() {
        let t0 = Instant::now();
        let mut tx = ClientTransaction::new(t0, b("BYE"), false);
        let mut sends = 0;
        loop {
            let now = tx.poll_timeout().unwrap();
            match tx.handle_timeout(now) {
                Some(TxAction::Retransmit(_)) => sends += 1,
                Some(TxAction::TimedOut) => {
                    assert_eq!(now, t0 + 64 * T1);
                    break;
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(sends >= 10, "{sends}");
    }

    #[test]
    fn non_invite_client_completes_on_final() {
        let t0 = Instant::now();
        let mut tx = ClientTransaction::new(t0, b("BYE"), false);
        assert_eq!(tx.on_response(t0, 100), None);
        assert_eq!(tx.on_response(t0, 200), Some(200));
        assert_eq!(tx.on_response(t0, 200), None);
        assert_eq!(tx.handle_timeout(t0 + T4), Some(TxAction::Terminated));
    }

    #[test]
    fn invite_client_timers_a_b_and_d() {
        let t0 = Instant::now();
        let mut tx = ClientTransaction::new_invite(t0, b("INVITE"), false);
        // Timer A doubles without the T2 cap: 0.5, 1, 2, 4, 8, 16 s; Timer B at 32 s.
        let mut fired = Vec::new();
        loop {
            let now = tx.poll_timeout().unwrap();
            match tx.handle_timeout(now) {
                Some(TxAction::Retransmit(_)) => fired.push(now - t0),
                Some(TxAction::TimedOut) => {
                    assert_eq!(now, t0 + 64 * T1);
                    break;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(fired.len(), 6, "{fired:?}");
        assert_eq!(fired[5], Duration::from_millis(31_500));
        let mut tx = ClientTransaction::new_invite(t0, b("INVITE"), false);
        assert_eq!(tx.on_response(t0, 180), None);
        assert_eq!(
            tx.poll_timeout(),
            Some(t0 + 64 * T1),
            "timer A stops on 1xx"
        );
        assert_eq!(tx.on_response(t0, 486), Some(486));
        tx.set_ack(b("ACK"));
        assert_eq!(tx.retransmitted_final(), Some(b("ACK")));
        assert_eq!(
            tx.handle_timeout(t0 + Duration::from_secs(32)),
            Some(TxAction::Terminated)
        );
        let mut tx = ClientTransaction::new_invite(t0, b("INVITE"), false);
        assert_eq!(tx.on_response(t0, 200), Some(200));
        assert_eq!(tx.state(), TxState::Terminated);
    }

    #[derive(Debug, Clone)]
    enum Ev {
        Retrans,
        Respond(u16),
        Ack,
        Advance(u16),
    }

    fn ev() -> impl Strategy<Value = Ev> {
        prop_oneof![
            Just(Ev::Retrans),
            prop_oneof![Just(100u16), Just(180), Just(200), Just(404), Just(487)]
                .prop_map(Ev::Respond),
            Just(Ev::Ack),
            (0u16..5000).prop_map(Ev::Advance),
        ]
    }

    proptest! {
        /// Random event orders: the server transaction always ends within 64*T1 + T4 of its
        /// final response, never retransmits a 2xx, and never emits a response after Terminated.
        #[test]
        fn server_transaction_invariants(kind in prop_oneof![Just(ServerKind::Invite), Just(ServerKind::NonInvite)],
                                         reliable in any::<bool>(),
                                         evs in proptest::collection::vec(ev(), 0..60)) {
            let t0 = Instant::now();
            let mut now = t0;
            let mut tx = ServerTransaction::new(kind, reliable);
            let mut final_at = None;
            for e in evs {
                match e {
                    Ev::Retrans => { let _ = tx.on_retransmission(); }
                    Ev::Respond(s) => {
                        let was_final_allowed = matches!(tx.state(), TxState::Trying | TxState::Proceeding);
                        let sent = tx.send_response(now, s, b(&s.to_string()));
                        prop_assert_eq!(sent.is_some(), was_final_allowed);
                        if sent.is_some() && s >= 200 && final_at.is_none() { final_at = Some(now); }
                    }
                    Ev::Ack => tx.on_ack(now),
                    Ev::Advance(ms) => {
                        now += Duration::from_millis(ms as u64);
                        while let Some(t) = tx.poll_timeout() {
                            if t > now { break; }
                            if let Some(TxAction::Retransmit(bytes)) = tx.handle_timeout(t) {
                                prop_assert!(bytes != b("200"));
                                prop_assert!(!reliable);
                            }
                        }
                    }
                }
                if let Some(f) = final_at {
                    if now >= f + 64 * T1 + T4 {
                        prop_assert_eq!(tx.state(), TxState::Terminated);
                    }
                }
            }
        }
    }
}
