//! The scenario side of learning and forecasting: which log a traffic learns from (its own or,
//! through `like`, another's), resolved against the scenario's folder, and the forecast it
//! asks for (the learner's default when it writes none). The learner (`crate::learn`) knows
//! nothing of the language; the `learn` and `forecast` clauses are its own input types, which
//! the checker fills in, and this is where a run turns a traffic into them.

use std::path::{Path, PathBuf};

use crate::check::{Model, TrafficModel};
use crate::learn::{learn_file, resolve, ForecastModel, LearnOptions, TrafficProfile};

/// The forecast traffic `tm` asks for: its `forecast` clause, else the learner's default.
pub fn forecast_of(tm: &TrafficModel) -> ForecastModel {
    tm.forecast.clone().unwrap_or_default()
}

/// The traffic whose log `t` learns from: itself, or the first one it is `like` (directly or
/// not) that learns; `None` when no traffic of the chain learns from a log.
pub fn learning_traffic(model: &Model, t: usize) -> Option<usize> {
    let mut cur = Some(t);
    for _ in 0..=model.traffics.len() {
        let i = cur?;
        if model.traffics.get(i)?.learn.is_some() {
            return Some(i);
        }
        cur = model.traffics[i].like;
    }
    None
}

/// Learns the log of `tm` (which must learn from one), a path relative to `base_dir`.
/// Returns the resolved path and the profile; `Err` says which traffic and which file.
pub fn learn_traffic(
    tm: &TrafficModel,
    base_dir: &Path,
) -> Result<(PathBuf, TrafficProfile), String> {
    let Some(learn) = &tm.learn else {
        return Err(format!("traffic `{}` learns from no log", tm.name));
    };
    let path = resolve(&learn.path, base_dir);
    let profile = learn_file(&path, learn.format, &LearnOptions::default()).map_err(|e| {
        format!(
            "traffic `{}`: learning from {}: {e}",
            tm.name,
            path.display()
        )
    })?;
    Ok((path, profile))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::{ForecastMethod, LogFormat};
    use crate::units::Duration;

    const SCENARIO: &str = r#"
system s {
  base "http://127.0.0.1:1"
  service api {
    route GET "/items/{seq}"
  }
}

traffic real {
  against s
  learn from "logs/shop-access.log" format combined
}

traffic weekly {
  against s
  learn from "logs/shop-access.log"
  forecast peak over 2d quantile 0.9 method seasonal_naive
}

traffic copy {
  like real
  scale 2x
}

scenario sc {
  step work = load copy
  step more = load weekly
}
"#;

    fn model() -> Model {
        let checked = crate::check::check_source("t.res", SCENARIO, &Default::default());
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        checked.model.expect("a model")
    }

    fn traffic(model: &Model, name: &str) -> usize {
        model.traffics.iter().position(|t| t.name == name).unwrap()
    }

    #[test]
    fn a_traffic_in_the_learners_words() {
        let model = model();
        let (real, weekly, copy) = (
            traffic(&model, "real"),
            traffic(&model, "weekly"),
            traffic(&model, "copy"),
        );
        // No `forecast` clause: the learner's default.
        let f = forecast_of(&model.traffics[real]);
        assert_eq!(f.horizon, Duration::from_secs(7.0 * 86_400.0));
        assert_eq!((f.quantile, f.method), (0.95, ForecastMethod::Auto));
        let f = forecast_of(&model.traffics[weekly]);
        assert_eq!(f.horizon, Duration::from_secs(2.0 * 86_400.0));
        assert_eq!((f.quantile, f.method), (0.9, ForecastMethod::SeasonalNaive));
        // `like` learns from the traffic it copies.
        assert_eq!(learning_traffic(&model, copy), Some(real));
        assert_eq!(learning_traffic(&model, weekly), Some(weekly));
        let learn = model.traffics[real].learn.as_ref().unwrap();
        assert_eq!(learn.format, LogFormat::Combined);
    }

    #[test]
    fn the_log_is_found_beside_the_scenario() {
        let model = model();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let tm = &model.traffics[traffic(&model, "real")];
        let (path, profile) = learn_traffic(tm, &dir).unwrap();
        assert_eq!(path, dir.join("logs/shop-access.log"));
        assert!(profile.requests > 0);
        let err = learn_traffic(tm, Path::new("/nonexistent")).unwrap_err();
        assert!(
            err.starts_with("traffic `real`: learning from /nonexistent/logs/shop-access.log: "),
            "{err}"
        );
        let copy = &model.traffics[traffic(&model, "copy")];
        assert_eq!(
            learn_traffic(copy, &dir).unwrap_err(),
            "traffic `copy` learns from no log"
        );
    }
}
