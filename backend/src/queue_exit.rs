//! Where a caller goes when their queue's maximum wait passes (issue 17).
//!
//! The ACD knows only two exits at maximum wait: another queue (its id), or leaving the ACD
//! (its word for that is `voicemail`). Each queue's `max_wait_action` says what leaving means —
//! voicemail, a callback request, or a message and hang-up — and the backend acts on the ACD's
//! `overflowed` event. The decisions are pure ([`acd_overflow`], [`plan`], and the call's
//! machine `hotline_calls::control`); here the shell reads the queue's action into the
//! machine's input ([`max_wait_input`]) and performs its `Leave` effect ([`leave`]).

use crate::{call_io, db, state::AppState};
use hotline_calls::control::Input;
use hotline_calls::queue_exit::{plan, Step};
use hotline_flows::Action;
use hotline_wire::api::MaxWaitAction;
use hotline_wire::gateway::GatewayCommand;
use uuid::Uuid;

/// The ACD let `call` go at its queue's maximum wait (`overflowed` to `LEAVE_ACD`): the
/// machine's input, with the queue's plan (its action, prompt, missed-call reason and outcome).
/// The call's timeline says which action was taken.
pub async fn max_wait_input(state: &AppState, tenant: Uuid, call: Uuid) -> anyhow::Result<Input> {
    let campaign = call_io::load(state, tenant, call)
        .await?
        .is_some_and(|cs| cs.campaign.is_some());
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    // The queue it last waited in (the CDR follows overflows from queue to queue).
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT q.max_wait_action, q.max_wait_prompt
           FROM cdrs c JOIN queues q ON q.id = c.queue_id WHERE c.call_id = $1",
    )
    .bind(call)
    .fetch_optional(&mut *tx)
    .await?;
    let (action, prompt) = match &row {
        Some((a, p)) => (
            MaxWaitAction::parse(a).unwrap_or_default(),
            p.as_deref().filter(|p| !p.is_empty()),
        ),
        None => (MaxWaitAction::Voicemail, None),
    };
    tracing::info!(%tenant, %call, action = action.as_str(), "maximum wait passed");
    crate::cdr::timeline(
        &mut tx,
        call,
        "max_wait",
        None,
        serde_json::json!({ "action": action.as_str() }),
    )
    .await?;
    tx.commit().await?;
    let p = plan(action, prompt, campaign);
    Ok(Input::MaxWait {
        step: p.step,
        missed: p.missed_reason,
        outcome: p.outcome,
    })
}

/// Performs the machine's `Leave`: the call is out of the ACD's hands (a later hang-up is not
/// an abandon) and the gateway records a voicemail, plays the message then hangs up (the
/// flow's own "after the prompt" slot: its `playback_finished` hangs up), or hangs up.
pub async fn leave(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    gw: &str,
    step: Step,
) -> anyhow::Result<()> {
    if let Some(mut cs) = call_io::load(state, tenant, call).await? {
        cs.queue = None;
        if matches!(step, Step::PlayThenHangUp { .. }) {
            cs.run.then = Some(Box::new(Action::Hangup));
        }
        call_io::store(state, tenant, call, &cs).await?;
    }
    let cmd = leave_command(call, &step);
    call_io::command(state, gw, &cmd).await
}

/// The step the gateway takes with a caller at maximum wait.
fn leave_command(call: Uuid, step: &Step) -> GatewayCommand {
    match step {
        Step::RecordVoicemail { max_ms } => GatewayCommand::RecordVoicemail {
            call_id: call,
            max_ms: *max_ms,
        },
        Step::PlayThenHangUp { prompt } => GatewayCommand::Play {
            call_id: call,
            prompt: prompt.clone(),
            interruptible: false,
        },
        Step::HangUp => GatewayCommand::Hangup {
            call_id: call,
            status: None,
        },
    }
}
