//! Before the first request: start the embedded targets, resolve base URLs and secrets, load
//! feeders, learn and forecast what `peak(traffic)` needs. Whatever fails here fails before
//! anything was sent or changed.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::build;
use crate::check::{Model, ScenarioModel, StepKind, SystemTarget};
use crate::load::Feeder;

/// A traffic model learned from a log, ready to replay.
pub struct Learned {
    /// The endpoint mix mapped onto the system's services: (system, service, share).
    pub mix: Vec<(usize, usize, f64)>,
    pub profile: crate::learn::TrafficProfile,
    /// The learning traffic's `scale` (a sampled log back to full size).
    pub scale: f64,
    /// The traffic that learned it.
    pub origin: usize,
    /// The forecast's upper bound for each hour of the week (per second, in the log's units),
    /// where the forecast horizon reaches it.
    pub forecast_week: Vec<Option<f64>>,
}

/// Everything a run needs that is only known at run time.
#[derive(Default)]
pub struct Setup {
    /// Base URL per system index.
    pub targets: BTreeMap<usize, String>,
    /// Forecast peak rate (per second) per traffic index.
    pub peaks: BTreeMap<usize, f64>,
    pub feeders: HashMap<String, Feeder>,
    /// What was learned from logs, per traffic (traffics `like` a learned one share it).
    pub learned: BTreeMap<usize, std::sync::Arc<Learned>>,
    pub chaos: Option<super::chaos::ChaosDriver>,
    /// What setup did, for the report's events.
    pub notes: Vec<String>,
    pub record_note: String,
    /// Where the run is recorded (`run 12 in .res/profile.redb`), for the report.
    pub recorded: Option<String>,
    /// What each learned traffic learned and forecast, for the report.
    pub learned_report: Vec<crate::report::LearnedTraffic>,
    /// Embedded demo shops (with their system) to shut down at the end.
    pub demos: Vec<(usize, crate::demo::DemoShop)>,
    /// `--load-scale X`: every load built at X times its plan (None: as planned).
    pub load_scale: Option<f64>,
}

/// The systems a scenario's load steps send to.
pub fn systems_used(model: &Model, scenario: &ScenarioModel) -> Vec<usize> {
    let mut out = Vec::new();
    for s in &scenario.steps {
        let sys = match &s.kind {
            StepKind::Load { traffic, .. } => build::traffic_system(model, *traffic),
            StepKind::Inject { fault } => match &model.faults[*fault].target {
                crate::check::FaultTarget::Service { system, .. }
                | crate::check::FaultTarget::Stressed { system, .. } => Some(*system),
                crate::check::FaultTarget::Placeholder => None,
            },
            StepKind::Wait(_) => None,
        };
        if let Some(sys) = sys {
            if !out.contains(&sys) {
                out.push(sys);
            }
        }
    }
    out
}

/// Resolves targets and data without touching anything (for `--dry-run` and before a run).
pub fn resolve_static(
    model: &Model,
    scenario: &ScenarioModel,
    base_dir: &Path,
) -> Result<Setup, String> {
    let mut setup = Setup::default();
    for sys in systems_used(model, scenario) {
        let s = &model.systems[sys];
        match &s.target {
            SystemTarget::Builtin(name) => {
                setup.targets.insert(
                    sys,
                    format!("(the embedded {name}, started on a free 127.0.0.1 port)"),
                );
            }
            SystemTarget::Base(url) => {
                let url =
                    build::resolve(url, &format!("system `{}`'s base", s.name)).map_err(|e| e.0)?;
                setup
                    .targets
                    .insert(sys, url.trim_end_matches('/').to_string());
            }
        }
    }
    setup.feeders = build::feeders(model, base_dir).map_err(|e| e.0)?;
    Ok(setup)
}

/// Starts what the run needs: the embedded demo shop for `builtin demo_shop` systems.
pub async fn start_targets(model: &Model, setup: &mut Setup, seed: u64) -> Result<(), String> {
    let builtin: Vec<usize> = setup
        .targets
        .keys()
        .copied()
        .filter(|s| matches!(model.systems[*s].target, SystemTarget::Builtin(_)))
        .collect();
    for sys in builtin {
        let mut config = crate::demo::DemoConfig {
            seed,
            ..Default::default()
        };
        // `capacity N` on a service of the embedded shop sizes its worker pool.
        for svc in &model.systems[sys].services {
            if let (Ok(service), Some(c)) = (svc.name.parse::<crate::demo::Service>(), svc.capacity)
            {
                config.capacity.set(service, c.round().max(1.0) as usize);
            }
        }
        let shop = crate::demo::start(config)
            .await
            .map_err(|e| format!("cannot start the embedded demo shop: {e}"))?;
        let url = format!("http://{}", shop.addr());
        setup.notes.push(format!(
            "system {}: embedded demo shop at {url}, payments at {}",
            model.systems[sys].name,
            shop.payments_addr()
        ));
        setup.targets.insert(sys, url);
        setup.demos.push((sys, shop));
    }
    Ok(())
}

/// Starts the chaos engine and its proxies when the scenario injects faults.
pub async fn start_chaos(
    model: &Model,
    scenario: &ScenarioModel,
    state_dir: &Path,
    setup: &mut Setup,
) -> Result<(), String> {
    let demos: Vec<(usize, &crate::demo::DemoShop)> =
        setup.demos.iter().map(|(s, d)| (*s, d)).collect();
    let mut targets = setup.targets.clone();
    let mut notes = Vec::new();
    let driver = super::chaos::ChaosDriver::start(
        model,
        scenario,
        state_dir,
        &mut targets,
        &demos,
        &mut notes,
    )
    .await?;
    setup.targets = targets;
    setup.notes.extend(notes);
    setup.chaos = driver;
    Ok(())
}

/// Traffics whose forecast a scenario needs: every loaded traffic and its `like` chain, every
/// `peak(t)` their rates and stages mention, and every `peak(t)` a predicted trigger of its
/// remedies is evaluated at.
fn traffics_needing_peaks(model: &Model, scenario: &ScenarioModel) -> Vec<usize> {
    fn peaks_in(e: &crate::check::TExpr, out: &mut Vec<usize>) {
        match &e.kind {
            crate::check::TKind::Peak(t) if !out.contains(t) => out.push(*t),
            crate::check::TKind::Unary(_, x) => peaks_in(x, out),
            crate::check::TKind::Binary(_, l, r) => {
                peaks_in(l, out);
                peaks_in(r, out);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for s in &scenario.steps {
        let StepKind::Load { traffic, .. } = s.kind else {
            continue;
        };
        let mut cur = Some(traffic);
        let mut guard = 0;
        while let Some(t) = cur {
            if guard > model.traffics.len() {
                break;
            }
            guard += 1;
            let tm = &model.traffics[t];
            if tm.learn.is_some() && !out.contains(&t) {
                out.push(t);
            }
            if let Some(r) = &tm.rate {
                peaks_in(r, &mut out);
            }
            for st in &tm.stages {
                match st {
                    crate::check::Stage::Ramp { from, to, .. } => {
                        if let Some(f) = from {
                            peaks_in(f, &mut out);
                        }
                        peaks_in(to, &mut out);
                    }
                    crate::check::Stage::Hold { at: Some(a), .. } => peaks_in(a, &mut out),
                    crate::check::Stage::Hold { .. } => {}
                }
            }
            cur = tm.like;
        }
    }
    // A predicted trigger `at peak(t)` of a remedy the scenario remediates with, when `t`
    // learns (otherwise the trigger is skipped as unevaluable, the run is not refused).
    let mut triggers = Vec::new();
    for &r in &scenario.remediate {
        for trigger in model.remedies.get(r).map_or(&[][..], |m| &m.triggers[..]) {
            if let Some(at) = &trigger.at {
                peaks_in(at, &mut triggers);
            }
        }
    }
    for t in triggers {
        if model.traffics[t].learn.is_some() && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// Learns each traffic's log and forecasts its peak; keeps the learned request mix mapped
/// onto the system's routes. A traffic's own `scale` multiplies its peak (sampled logs).
///
/// The forecast starts at the run's `now` where the log is older than that (else at the log's
/// end, saying so when `now` lies too far beyond it), and while an `event` lasts its hours
/// count `expect` times: `peak()` is the busiest hour of the horizon from now, events included.
pub fn learn_peaks(
    model: &Model,
    scenario: &ScenarioModel,
    base_dir: &Path,
    now: crate::units::Timestamp,
    setup: &mut Setup,
) -> Result<(), String> {
    for t in traffics_needing_peaks(model, scenario) {
        let tm = &model.traffics[t];
        if tm.learn.is_none() {
            return Err(format!(
                "peak({}) needs a forecast, but traffic `{}` learns from no log",
                tm.name, tm.name
            ));
        }
        let forecast = super::learn_input::forecast_of(tm);
        let (path, profile) = super::learn_input::learn_traffic(tm, base_dir)?;
        let mut f = forecast_from(&profile, &forecast, now, &tm.name, &mut setup.notes)?;
        if f.stale_hours > 0 {
            setup.notes.push(format!(
                "traffic {}: the log ended {} h before now; peak() forecasts the {} h from now ({})",
                tm.name,
                f.stale_hours,
                f.horizon_hours,
                now
            ));
        }
        let event = crate::schedule::event_peak(&model.events, &mut f);
        let peak = f.peak.upper * tm.scale.0;
        if let Some(note) = event {
            setup.notes.push(format!("traffic {}: {note}", tm.name));
        }
        setup.notes.push(format!(
            "traffic {}: learned {} requests from {}; forecast peak {:.1}/s at {} (method {:?}, {} seasonality, upper {:.0}% bound{})",
            tm.name,
            profile.requests,
            path.display(),
            peak,
            f.peak.at,
            f.method,
            f.seasonality,
            forecast.quantile * 100.0,
            if tm.scale.0 != 1.0 { format!(", scaled {}", tm.scale) } else { String::new() }
        ));
        setup.peaks.insert(t, peak);
        setup.learned_report.push(crate::report::LearnedTraffic {
            traffic: tm.name.clone(),
            log: path.display().to_string(),
            lines: profile.source.lines,
            requests: profile.requests,
            endpoints: profile.endpoints.len(),
            sessions: profile.sessions.count,
            peak_rps: peak,
            peak_at: f.peak.at.clone(),
        });
        if let Some(sys) = build::traffic_system(model, t) {
            let mix = learned_mix(model, sys, &profile.endpoints);
            if !mix.is_empty() {
                let learned = std::sync::Arc::new(Learned {
                    mix,
                    profile,
                    scale: tm.scale.0,
                    origin: t,
                    forecast_week: crate::learn::replay::forecast_week(
                        &f.series
                            .iter()
                            .map(|p| (p.at.clone(), p.upper))
                            .collect::<Vec<_>>(),
                    ),
                });
                setup.learned.insert(t, learned.clone());
                // Traffics `like` this one (directly or not) replay it too.
                for i in 0..model.traffics.len() {
                    if i != t && likes(model, i, t) {
                        setup.learned.entry(i).or_insert_with(|| learned.clone());
                    }
                }
            }
        }
    }
    Ok(())
}

/// The forecast over the horizon starting at `now` (the log's end when the log is newer, or
/// when the log ended more than a horizon before `now`: then a note says so, since the hours
/// in between are covered by no log and the forecast would only widen its guess).
fn forecast_from(
    profile: &crate::learn::TrafficProfile,
    forecast: &crate::learn::ForecastModel,
    now: crate::units::Timestamp,
    name: &str,
    notes: &mut Vec<String>,
) -> Result<crate::learn::forecast::Forecast, String> {
    use crate::learn::forecast::{forecast_with, ForecastError, ForecastOptions, Season};
    let mut opts = ForecastOptions {
        horizon: forecast.horizon,
        quantile: forecast.quantile,
        method: forecast.method,
        season: Season::Auto,
        now: Some(now.0),
    };
    let from_log_end = |opts: &mut ForecastOptions, why: String, notes: &mut Vec<String>| {
        notes.push(format!(
            "traffic {name}: {why}; peak() forecasts the {} after the log's end instead — learn a recent log, or give --now",
            opts.horizon
        ));
        opts.now = None;
        forecast_with(profile, opts)
    };
    match forecast_with(profile, &opts) {
        Err(ForecastError::Stale { ended, ago }) => from_log_end(
            &mut opts,
            format!("the log ends at {ended}, {ago} before now: too long ago to forecast from now"),
            notes,
        ),
        // A log that ended more than a horizon ago: "from now" would be the forecast's
        // widening guess about hours no log covers, growing with every day the file ages.
        Ok(f) if f.stale_hours as f64 * 3600.0 > opts.horizon.secs() => {
            let why = format!(
                "the log ended {} h before now, more than the forecast's horizon",
                f.stale_hours
            );
            from_log_end(&mut opts, why, notes)
        }
        other => other,
    }
    .map_err(|e| format!("traffic `{name}`: forecasting: {e}"))
}

/// Whether traffic `t` is `like` `origin`, directly or through other traffics.
fn likes(model: &Model, t: usize, origin: usize) -> bool {
    let mut cur = model.traffics[t].like;
    for _ in 0..model.traffics.len() {
        match cur {
            Some(c) if c == origin => return true,
            Some(c) => cur = model.traffics[c].like,
            None => return false,
        }
    }
    false
}

/// Maps learned endpoints (`GET /items/{id}`) onto the services whose routes match them;
/// endpoints no route matches are left out and the shares renormalised.
fn learned_mix(
    model: &Model,
    sys: usize,
    endpoints: &[crate::learn::Endpoint],
) -> Vec<(usize, usize, f64)> {
    let system = &model.systems[sys];
    let mut shares: BTreeMap<usize, f64> = BTreeMap::new();
    for e in endpoints {
        if let Some((v, _)) = build::route_of(system, e) {
            *shares.entry(v).or_default() += e.share;
        }
    }
    let total: f64 = shares.values().sum();
    if total <= 0.0 {
        return Vec::new();
    }
    shares
        .into_iter()
        .map(|(v, s)| (sys, v, s / total))
        .collect()
}
