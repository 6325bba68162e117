//! What a real run leaves for the loop's audit log: the remedy decisions it made (advised, in
//! the loop's advise mode — read back from the remediation audit log in the same database,
//! those newer than the run's start) and the stored predictions that its measurements now
//! score (`res predict score`, whose outcome is a later run measuring the predicted rate).

use std::path::Path;
use std::time::Duration;

use crate::remedy::audit::Audit;

/// The id of the newest remedy decision in the database (0 when none).
pub fn last_remedy(db: &Path) -> u64 {
    Audit::new(db)
        .list()
        .ok()
        .and_then(|l| l.last().map(|r| r.id))
        .unwrap_or(0)
}

/// The remedy decisions after `since`: a line in words, the result's name and the record as
/// JSON, each.
pub fn remedies_since(db: &Path, since: u64) -> Result<Vec<(String, String, String)>, String> {
    let all = Audit::new(db).list().map_err(|e| e.to_string())?;
    Ok(all
        .into_iter()
        .filter(|r| r.id > since)
        .map(|r| {
            let json = serde_json::to_string(&r).unwrap_or_default();
            (r.line(), r.result.name().to_string(), json)
        })
        .collect())
}

/// What `res predict score` says: predictions scored, waiting, and a line in words.
pub struct Score {
    pub scored: usize,
    pub text: String,
    pub summary: String,
}

/// Runs `res predict score --format json` on the database.
pub async fn score(db: &Path) -> Result<Score, String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the res executable: {e}"))?;
    let out = tokio::process::Command::new(exe)
        .args(["predict", "score", "--format", "json", "--profile-db"])
        .arg(db)
        .output();
    let o = match tokio::time::timeout(Duration::from_secs(120), out).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return Err(format!("cannot start `res predict score`: {e}")),
        Err(_) => return Err("`res predict score` gave no answer within 120 s".into()),
    };
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).map_err(|_| {
        format!(
            "`res predict score` answered no JSON: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )
    })?;
    let scored = v["scored"].as_array().map_or(0, |a| a.len());
    let pending = v["pending"].as_u64().unwrap_or(0) as usize;
    let models: Vec<String> = v["summary"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            format!(
                "{} {} {}: {} scored, mean |error| {:.1} %",
                m["model_version"].as_str().unwrap_or("?"),
                m["quantity"].as_str().unwrap_or("?"),
                m["model"].as_str().unwrap_or("?"),
                m["scored"].as_u64().unwrap_or(0),
                m["mean_abs_relative_error"].as_f64().unwrap_or(0.0) * 100.0
            )
        })
        .collect();
    let coverage = v["coverage"].as_f64().unwrap_or(0.0) * 100.0;
    Ok(Score {
        scored,
        text: format!(
            "{scored} prediction(s) scored against later runs, {pending} waiting for an outcome; interval coverage {coverage:.0} %"
        ),
        summary: models.join("; "),
    })
}
