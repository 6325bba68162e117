//! The orchestrator's log on stdout, through `tracing`: in text form the lines people read
//! (one per decision, one per metrics read, run ends), in JSON form (`--log-format json`) one
//! object per line with a timestamp, the level, the message and each decision's fields
//! (`id`, `at`, `action`, `file`, `scenario`, `kind`, `slot`, `multiple`, `planned_only`,
//! `outcome`), so a log shipper needs no parsing of words.

use super::store::Decision;

/// Installs the log for this process (the first call wins; later ones change nothing).
pub fn init(json: bool) {
    if json {
        let _ = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_target(false)
            .with_writer(std::io::stdout)
            .try_init();
    } else {
        // Only the message: the text lines stay what they were before `tracing`.
        let _ = tracing_subscriber::fmt()
            .without_time()
            .with_level(false)
            .with_target(false)
            .with_ansi(false)
            .fmt_fields(tracing_subscriber::fmt::format::debug_fn(
                |w, field, value| {
                    if field.name() == "message" {
                        write!(w, "{value:?}")
                    } else {
                        Ok(())
                    }
                },
            ))
            .with_writer(std::io::stdout)
            .try_init();
    }
}

/// One line of the log.
pub fn say(message: &str) {
    tracing::info!("{message}");
}

/// A decision, as a line (`AT ACTION SCENARIO [SLOT] REASON → OUTCOME`) with its fields.
pub fn decision(d: &Decision) {
    let text = d.line();
    tracing::info!(
        id = d.id,
        at = %d.at,
        action = %d.action,
        file = %d.file,
        scenario = %d.scenario,
        kind = d.kind.as_deref(),
        slot = d.slot.as_deref(),
        multiple = d.multiple,
        planned_only = d.planned_only,
        outcome = d.outcome.as_deref(),
        "{text}"
    );
}
