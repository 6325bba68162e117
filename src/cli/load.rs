//! `res load URL`: the engine as a one-liner, for quick checks and benchmarks (what wrk, hey
//! and oha are used for).
//!
//! With `--rate` it is an open model (latency from the intended send time, send lag
//! reported); with `--connections` alone it is a closed loop of that many connections with no
//! think time, like wrk. The URL may be any host: nothing stops you from loading a machine
//! you do not own, so mind where you point it.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::exit::Exit;
use crate::load::progress::Progress;
use crate::load::spec::{
    Arrival, BodySpec, LoadSpec, Pacing, Protocol, RequestSpec, TlsOptions, Workload,
};
use crate::load::{start_with, summary};
use crate::shutdown::Shutdown;
use crate::units::{Duration, Percent, Rate};

/// `res load` flags.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The URL to request; `{random.N}`, `{seq}` and `{uuid}` in the path are filled in.
    #[arg(value_parser = parse_url)]
    pub url: String,
    /// Open model at this arrival rate, e.g. `5000/s`.
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<Rate>,
    /// Closed loop with this many connections (without --rate); with --rate, the most
    /// connections used at once [default: 50, or 256 with --rate].
    #[arg(long)]
    pub connections: Option<usize>,
    /// How long to send, e.g. `10s`, `2m`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Seeds arrival gaps and template values.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The HTTP method.
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// A request header, `"Name: value"` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// A request body; placeholders are filled in as in the path.
    #[arg(long)]
    pub body: Option<String>,
    /// Speak HTTP/2 (prior knowledge on http://, ALPN on https://).
    #[arg(long)]
    pub http2: bool,
    /// Accept any TLS certificate (self-signed test targets).
    #[arg(long)]
    pub insecure: bool,
    /// Open model: a pacer thread (precise) or timer ticks (batched, cheaper).
    #[arg(long, default_value = "precise")]
    pub pacing: PacingArg,
    /// Open model: gaps between arrivals.
    #[arg(long, default_value = "constant")]
    pub arrival: ArrivalArg,
    /// Per request, connecting included.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Event-loop threads for the connections [default: one per CPU].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Closed loop: up to this many requests in flight on each connection (HTTP/1.1
    /// pipelining, for maximum-throughput runs against servers that allow it).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub pipeline: u16,
    /// A text summary, or the full result (per-second series included) as JSON.
    #[arg(long, default_value = "text")]
    pub format: FormatArg,
    /// Exit 1 when more requests than this failed, e.g. `0.5%`.
    #[arg(long, default_value = "1%", value_parser = parse_max_error_rate)]
    pub max_error_rate: Percent,
}

// Flag values are parsed here, by clap, so a bad one is a usage error (exit 2) named with its
// flag, before anything is sent.

fn parse_url(s: &str) -> Result<String, String> {
    split_url(s)?;
    Ok(s.to_string())
}

fn parse_rate(s: &str) -> Result<Rate, String> {
    match Rate::parse(s) {
        Some(r) if r.0 > 0.0 && r.0.is_finite() => Ok(r),
        Some(_) => Err(format!("`{s}`: the rate must be above 0")),
        None => Err(format!(
            "`{s}` is not a rate: expected one such as `5000/s`"
        )),
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    match Duration::parse(s) {
        Some(d) if d.0 > 0.0 && d.0.is_finite() => Ok(d),
        Some(_) => Err(format!("`{s}`: the duration must be above 0")),
        None => Err(format!(
            "`{s}` is not a duration: expected one with a unit such as `10s` or `2m`"
        )),
    }
}

fn parse_header(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}`: expected `Name: value`"))?;
    Ok((k.trim().to_string(), v.trim().to_string()))
}

fn parse_max_error_rate(s: &str) -> Result<Percent, String> {
    match Percent::parse(s) {
        Some(p) if (0.0..=100.0).contains(&p.0) => Ok(p),
        _ => Err(format!(
            "`{s}` is not a percentage between 0% and 100%, such as `1%`"
        )),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PacingArg {
    Precise,
    Batched,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ArrivalArg {
    Constant,
    Poisson,
    Uniform,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
}

/// Exit codes: 0 the run completed (whatever the target answered), 4 bad flags or the tool
/// failed.
const EXIT_TOOL: u8 = Exit::Tool.code();

/// Runs `res load`.
pub fn run(args: LoadArgs) -> ExitCode {
    let (spec, setup) = match spec_from(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Invalid.into();
        }
    };
    // The connections run on the engine's own threads (`--threads`); this runtime only
    // keeps time, paces in batched mode and draws the progress line.
    let runtime = match crate::runtime::current_thread() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_TOOL);
        }
    };
    let duration = spec.duration.to_std();
    let target = args.url.clone();
    let pipeline = args.pipeline;
    let result = runtime.block_on(async move {
        let shutdown = Shutdown::listen()
            .map_err(|e| (Exit::Tool, format!("cannot listen for signals: {e}")))?;
        let handle = start_with(spec, usize::from(pipeline))
            .map_err(|e| (start_error_code(&e), e.to_string()))?;
        let progress = Progress::spawn(handle.live(), duration, std::io::stderr().is_terminal());
        let (result, signal) = tokio::select! {
            _ = handle.finished() => (handle.stop().await, None),
            signal = shutdown.requested("") => (handle.stop().await, Some(signal)),
        };
        progress.finish();
        Ok::<_, (Exit, String)>((result, signal))
    });
    let (result, signal) = match result {
        Ok(r) => r,
        Err((code, e)) => {
            eprintln!("error: {e}");
            return code.into();
        }
    };
    let text = match args.format {
        FormatArg::Text => summary::render(&result, &target, &setup),
        FormatArg::Json => match serde_json::to_string_pretty(&result) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_TOOL);
            }
        },
    };
    let printed = super::stdout::print(&text);
    let verdict = verdict(&result, signal, args.max_error_rate);
    if printed {
        verdict.into()
    } else {
        verdict.max(Exit::Tool).into()
    }
}

/// Bad flags the engine found (a URL it cannot use, a malformed method or header) are bad
/// input; anything else is the tool failing.
fn start_error_code(e: &crate::load::LoadError) -> Exit {
    use crate::load::LoadError;
    match e {
        LoadError::BadUrl { .. } | LoadError::BadRequest { .. } | LoadError::Invalid(_) => {
            Exit::Invalid
        }
        _ => Exit::Tool,
    }
}

/// 3 when a signal cut the run short, 1 when more requests failed than `--max-error-rate`
/// allows, else 0; the reason goes to stderr so that `--format json` stays parseable.
fn verdict(
    result: &crate::load::LoadResult,
    signal: Option<crate::shutdown::StopSignal>,
    max_error_rate: Percent,
) -> Exit {
    if let Some(signal) = signal {
        eprintln!(
            "stopped early: {} after {:.1}s",
            signal.describe(),
            result.duration_s
        );
        return Exit::Aborted;
    }
    let rate = 100.0 * result.errors as f64 / result.requests.max(1) as f64;
    if result.errors > 0 && rate > max_error_rate.0 {
        eprintln!("failed: {rate:.2}% of requests failed, above --max-error-rate {max_error_rate}");
        return Exit::Failed;
    }
    Exit::Ok
}

/// The spec, and a line describing the setup for the summary.
fn spec_from(args: &LoadArgs) -> Result<(LoadSpec, String), String> {
    let (base, path) = split_url(&args.url)?;
    let (duration, timeout) = (args.duration, args.timeout);
    let request = RequestSpec {
        method: args.method.clone(),
        headers: args.headers.clone(),
        body: args.body.clone().map(BodySpec::Raw),
        ..RequestSpec::get("target", path)
    };
    let protocol = if args.http2 {
        Protocol::Http2
    } else {
        Protocol::Http1
    };
    let (workload, connections, setup) = match &args.rate {
        Some(rate) => {
            let rate = *rate;
            let arrival = match args.arrival {
                ArrivalArg::Constant => Arrival::Constant,
                ArrivalArg::Poisson => Arrival::Poisson,
                ArrivalArg::Uniform => Arrival::Uniform,
            };
            let pacing = match args.pacing {
                PacingArg::Precise => Pacing::Precise,
                PacingArg::Batched => Pacing::Batched,
            };
            let connections = args.connections.unwrap_or(256);
            let workload = Workload::Open {
                schedule: crate::load::RateSchedule::constant(rate),
                arrival,
                pacing,
            };
            let setup = format!(
                "open model, {rate} {} arrivals, {:?} pacing, up to {connections} connections, {duration}",
                args.arrival.name(),
                pacing
            );
            (workload, connections, setup)
        }
        None => {
            let users = args.connections.unwrap_or(50);
            let users = u32::try_from(users).map_err(|_| "--connections: too many".to_string())?;
            let workload = Workload::Closed { users, think: None };
            (
                workload,
                users as usize,
                format!("closed loop, {users} connections, {duration}"),
            )
        }
    };
    let mut spec = LoadSpec::new(base, vec![request], workload, duration);
    spec.protocol = protocol;
    spec.tls = TlsOptions {
        insecure: args.insecure,
    };
    spec.timeout = timeout;
    spec.connections = connections;
    spec.seed = args.seed;
    spec.threads = args.threads.unwrap_or(0);
    let mut setup = format!(
        "{setup}, {}",
        if args.http2 { "HTTP/2" } else { "HTTP/1.1" }
    );
    if args.pipeline > 1 {
        setup.push_str(&format!(", pipelined {} deep", args.pipeline));
    }
    Ok((spec, setup))
}

impl ArrivalArg {
    fn name(self) -> &'static str {
        match self {
            ArrivalArg::Constant => "constant",
            ArrivalArg::Poisson => "poisson",
            ArrivalArg::Uniform => "uniform",
        }
    }
}

/// `http://host:port/path?q` → (`http://host:port`, `/path?q`). Split by hand because the
/// path may hold `{…}` placeholders, which a URI parser rejects.
fn split_url(url: &str) -> Result<(String, String), String> {
    let scheme_end = url
        .find("://")
        .ok_or_else(|| format!("{url}: expected a URL such as http://127.0.0.1:8080/"))?;
    let rest = &url[scheme_end + 3..];
    let cut = rest.find(['/', '?']).unwrap_or(rest.len());
    let base = url[..scheme_end + 3 + cut].to_string();
    let path = &rest[cut..];
    let path = if path.is_empty() {
        "/".to_string()
    } else if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    Ok((base, path))
}

#[cfg(test)]
mod tests {
    use super::split_url;

    #[test]
    fn splits_urls() {
        assert_eq!(
            split_url("http://a:1").unwrap(),
            ("http://a:1".into(), "/".into())
        );
        assert_eq!(
            split_url("http://a/x/{seq}?q=1").unwrap(),
            ("http://a".into(), "/x/{seq}?q=1".into())
        );
        assert_eq!(
            split_url("https://a?q").unwrap(),
            ("https://a".into(), "/?q".into())
        );
        assert!(split_url("a.com/x").is_err());
    }
}
