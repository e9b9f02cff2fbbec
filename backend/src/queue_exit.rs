//! Where a caller goes when their queue's maximum wait passes (issue 17).
//!
//! The ACD knows only two exits at maximum wait: another queue (its id), or leaving the ACD
//! (its word for that is `voicemail`). Each queue's `max_wait_action` says what leaving means —
//! voicemail, a callback request, or a message and hang-up — and the backend acts on the ACD's
//! `overflowed` event. The decisions are pure functions ([`acd_overflow`], [`plan`]); the
//! shell ([`max_wait_passed`]) reads the queue, writes the missed-calls entry (which sets the
//! call's CDR outcome) and sends the gateway its commands.

use crate::{call_io, db, state::AppState};
use hotline_calls::queue_exit::{plan, Step};
use hotline_flows::Action;
use hotline_wire::api::MaxWaitAction;
use hotline_wire::gateway::GatewayCommand;
use uuid::Uuid;

/// The ACD let `call` go at its queue's maximum wait (`overflowed` to [`LEAVE_ACD`]): the
/// queue's action is carried out, with its missed-calls entry and CDR outcome.
pub async fn max_wait_passed(state: &AppState, tenant: Uuid, call: Uuid) -> anyhow::Result<()> {
    let Some(mut cs) = call_io::load(state, tenant, call).await? else {
        return Ok(());
    };
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    // The queue it last waited in (the CDR follows overflows from queue to queue).
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT q.max_wait_action, q.max_wait_prompt
           FROM cdrs c JOIN queues q ON q.id = c.queue_id WHERE c.call_id = $1",
    )
    .bind(call)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    let (action, prompt) = match &row {
        Some((a, p)) => (
            MaxWaitAction::parse(a).unwrap_or_default(),
            p.as_deref().filter(|p| !p.is_empty()),
        ),
        None => (MaxWaitAction::Voicemail, None),
    };
    let p = plan(action, prompt, cs.campaign.is_some());
    tracing::info!(%tenant, %call, action = action.as_str(), "maximum wait passed");
    // Out of the ACD's hands: a later hang-up is not an abandon.
    cs.queue = None;
    let mut t = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    crate::cdr::timeline(
        &mut t,
        call,
        "max_wait",
        None,
        serde_json::json!({ "action": action.as_str() }),
    )
    .await?;
    t.commit().await?;
    match p.missed_reason {
        Some(reason) => call_io::missed(state, tenant, call, &cs, reason).await?,
        None => crate::cdr::outcome(state, tenant, call, p.outcome).await?,
    }
    let gw = cs.gateway_id.clone();
    let cmd = match p.step {
        Step::RecordVoicemail { max_ms } => GatewayCommand::RecordVoicemail {
            call_id: call,
            max_ms,
        },
        Step::PlayThenHangUp { prompt } => {
            // The flow's own "after the prompt" slot: its `playback_finished` hangs up.
            cs.run.then = Some(Box::new(Action::Hangup));
            GatewayCommand::Play {
                call_id: call,
                prompt,
                interruptible: false,
            }
        }
        Step::HangUp => GatewayCommand::Hangup {
            call_id: call,
            status: None,
        },
    };
    call_io::store(state, tenant, call, &cs).await?;
    call_io::command(state, &gw, &cmd).await
}
