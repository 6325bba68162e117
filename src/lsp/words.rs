//! What the language's fixed words mean, in one line each: keywords and built-in functions.
//!
//! The keyword list itself is read from `grammar/res.pest` (its `kw_*` rules), the single
//! source of the syntax; this file only adds the descriptions, and a test fails when the
//! grammar gains a keyword that has none here.

use std::sync::OnceLock;

const GRAMMAR: &str = include_str!("../../grammar/res.pest");

/// Every keyword of the grammar, in the grammar's order.
pub fn keywords() -> &'static [&'static str] {
    static KEYWORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    KEYWORDS.get_or_init(|| {
        GRAMMAR
            .lines()
            .filter_map(|line| {
                let rest = line.trim_start().strip_prefix("kw_")?;
                let (_, rule) = rest.split_once('=')?;
                let word = rule.split('"').nth(1)?;
                Some(word)
            })
            .collect()
    })
}

pub fn is_keyword(word: &str) -> bool {
    keywords().contains(&word)
}

/// The one-line description of a keyword.
pub fn keyword(word: &str) -> Option<&'static str> {
    KEYWORD_DOCS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, d)| *d)
}

/// A built-in function: its signature, result type and meaning.
#[derive(Debug)]
pub struct Builtin {
    pub name: &'static str,
    pub signature: &'static str,
    pub returns: &'static str,
    pub doc: &'static str,
}

pub const BUILTINS: &[Builtin] = &[
    metric(
        "p50",
        "duration",
        "the median latency of a system or service",
    ),
    metric(
        "p90",
        "duration",
        "the 90th-percentile latency of a system or service",
    ),
    metric(
        "p95",
        "duration",
        "the 95th-percentile latency of a system or service",
    ),
    metric(
        "p99",
        "duration",
        "the 99th-percentile latency of a system or service",
    ),
    metric(
        "p999",
        "duration",
        "the 99.9th-percentile latency of a system or service",
    ),
    metric(
        "max_latency",
        "duration",
        "the slowest response of a system or service",
    ),
    metric(
        "error_rate",
        "percent",
        "the share of failed requests of a system or service",
    ),
    metric(
        "availability",
        "percent",
        "the share of successful requests of a system or service",
    ),
    metric(
        "throughput",
        "rate",
        "the requests a system or service serves per second",
    ),
    metric(
        "saturation",
        "percent",
        "how close a system or service is to its `capacity`",
    ),
    metric(
        "recovery",
        "duration",
        "the time from a fault's revert until p99 and error rate are back near the baseline",
    ),
    Builtin {
        name: "peak",
        signature: "peak(traffic)",
        returns: "rate",
        doc: "the forecast peak of a traffic (or its highest declared rate)",
    },
    Builtin {
        name: "env",
        signature: "env(\"NAME\", \"default\")",
        returns: "string",
        doc: "an environment variable, read when the run starts; the default is optional",
    },
    Builtin {
        name: "secret",
        signature: "secret(\"NAME\")",
        returns: "string",
        doc: "like env, but the value is shown as *** in every output, report and profile",
    },
];

const fn metric(name: &'static str, returns: &'static str, doc: &'static str) -> Builtin {
    Builtin {
        name,
        signature: "",
        returns,
        doc,
    }
}

impl Builtin {
    pub fn signature(&self) -> String {
        if self.signature.is_empty() {
            format!("{}(system or service)", self.name)
        } else {
            self.signature.to_string()
        }
    }
}

pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

const KEYWORD_DOCS: &[(&str, &str)] = &[
    ("import", "brings named declarations from a relative `.res` file or a `std/…` module"),
    ("as", "renames an imported name locally: `import \"std/faults\" { blackhole as drop }`"),
    ("param", "a named constant, overridable with `--set name=value`"),
    ("data", "a feeder: a CSV or JSON-lines file whose rows fill `{name.column}` placeholders"),
    ("from", "where something comes from: a file (`data`, `learn`), a start time (`from … to …`), a service (`shift`)"),
    ("format", "the format of a feeder (`csv`, `jsonl`) or of a learned log"),
    ("order", "how a feeder takes its rows: `cycle` (in turn) or `random`"),
    ("system", "the system under test: a target with services"),
    ("builtin", "use a target built into res: `builtin demo_shop`"),
    ("base", "the base URL of a real target"),
    ("header", "a header sent with every request, or a fault's header match"),
    ("timeout", "the request timeout; in a fault, connections time out after this long"),
    ("protocol", "the HTTP version: `http1` or `http2`"),
    ("service", "a part of a system: routes, dependencies, an upstream or a process"),
    ("route", "a request the load generator sends: `route GET \"/path\"`"),
    ("body", "a request body: `body json {…}`, `body size 4KiB` or a string"),
    ("json", "a JSON request body"),
    ("size", "a request body of that many bytes"),
    ("expect", "what must hold: a scenario's slo or condition, a route's statuses, an event's load multiple"),
    ("status", "the statuses that count as success: `expect status 2xx, 404`"),
    ("weight", "how often a route or session is chosen relative to the others"),
    ("depends", "the services of the same system this one calls: `depends on a, b`"),
    ("on", "what a fault disturbs: a service, or `stressed(system, …)`; also `depends on`"),
    ("upstream", "the address of a dependency reached through the fault proxy"),
    ("process", "how to find a service's process: `pidfile`, `name` or `command`"),
    ("pidfile", "find the process by its pid file"),
    ("name", "find the process by its name"),
    ("command", "find the process by the command that starts it"),
    ("capacity", "how many requests a service serves at once; `saturation()` measures against it"),
    ("admin", "`scale via admin`: scale through the embedded demo shop's admin API"),
    ("read", "`scale via exec \"SET\" read \"READ\"`: the command that prints the current instance count"),
    ("within", "bounds or a deadline: `scale via … within 2..12` instances, `verify within 2m`"),
    ("runs", "`runs at most N per window`: how many runs `res orchestrate` may start in one occurrence of a window (one by default)"),
    ("skip", "`skip when COND`: `res orchestrate` does not start the scenario while COND holds of the real system (throughput, p99, error_rate from its metrics source)"),
    ("metrics", "`metrics prometheus \"URL\"`: where `res orchestrate` reads the real system's current rate, p99 and errors"),
    ("prometheus", "a Prometheus server's HTTP API: one instant PromQL query per service and quantity"),
    ("query", "`query rate|p99|errors \"PROMQL\"`: how one quantity is read; `$service` stands for the service's name"),
    ("balance", "`balance via haproxy \"SOCKET\" backend \"NAME\"` or `balance via proxy \"http://HOST:PORT\"`: how remedies shift and fail over this service"),
    ("haproxy", "act through HAProxy's runtime API (a unix socket path or host:port)"),
    ("backend", "the HAProxy backend whose servers a remedy reweights or fails over"),
    ("traffic", "a model of load: rate, stages, mix and sessions, or learned from logs"),
    ("learn", "learn the mix, rates and sessions from an access log"),
    ("forecast", "forecast the peak of a learned traffic: `forecast peak over 7d`"),
    ("peak", "the forecast peak (`forecast peak over 7d`)"),
    ("over", "the length of a ramp or of a forecast horizon"),
    ("quantile", "the forecast quantile to plan for"),
    ("method", "the forecast method, or a fault's HTTP method match"),
    ("like", "copy another traffic's mix, sessions and stages"),
    ("against", "the system a traffic is sent to"),
    ("rate", "the arrival rate of requests or sessions"),
    ("arrival", "the arrival process: `poisson` or `constant`"),
    ("ramp", "a stage that changes the rate: `ramp 0/s -> rate over 10s`"),
    ("hold", "a stage that keeps a rate for a while: `hold 20s`"),
    ("at", "a point or share: `load t at 10%`, `at +30s`, `errors 503 at 5%`, an event's start"),
    ("mix", "the share of requests per service: `mix { shop.a: 70%, shop.b: 30% }`"),
    ("session", "a user journey: a sequence of visits"),
    ("visit", "one request of a session to a service"),
    ("think", "the pause between a session's visits: `think 1s..3s`"),
    ("repeat", "how many times a visit is made"),
    ("users", "a closed model: this many concurrent users"),
    ("scale", "scale a learned traffic (`scale 10000x`), or scale a service (`do scale`)"),
    ("fault", "something to inject: latency, errors, resets, process and resource trouble"),
    ("stressed", "let the chaos engine pick the most stressed services: `stressed(shop, top 1)`"),
    ("top", "how many of the most stressed services to pick"),
    ("by", "what `stressed` ranks by, or how much `do scale` adds"),
    ("latency", "delay responses: `latency 200ms jitter 50ms`"),
    ("jitter", "random variation added to a latency"),
    ("per", "`per chunk`: delay every chunk; `at most N per D`: a period"),
    ("chunk", "apply the latency to every chunk of the body"),
    ("errors", "answer with an error status: `errors 503 at 5%`"),
    ("reset", "reset connections (at a share)"),
    ("blackhole", "drop traffic without an answer (at a share)"),
    ("bandwidth", "throttle responses to a bandwidth"),
    ("slow_close", "delay closing connections"),
    ("slice", "cut responses into small pieces, optionally with a delay between them"),
    ("delay", "the delay between slices"),
    ("kill", "kill the service's process (optionally with a signal)"),
    ("signal", "the signal sent by `kill`"),
    ("pause", "stop the service's process for a while (SIGSTOP, then SIGCONT)"),
    ("for", "how long: a step's length, an abort's or trigger's sustain, a pause"),
    ("restart", "restart the service's process, optionally with a command"),
    ("with", "start with another step (`with X`), restart command, `remediate with`"),
    ("cpu", "burn CPU: `cpu 2 cores at 80%`"),
    ("cores", "the number of cores a CPU fault keeps busy"),
    ("memory", "take memory away from the service's host"),
    ("disk", "fill a disk: `disk 1GiB at \"/tmp\"`"),
    ("fds", "exhaust file descriptors"),
    ("loss", "drop a share of packets"),
    ("toxicity", "the share of connections a fault applies to"),
    ("match", "narrow a fault to requests: `match method GET and path \"/x\"`"),
    ("path", "match requests by path"),
    ("and", "both conditions hold"),
    ("or", "either condition holds; `in w1 or w2`"),
    ("not", "the condition does not hold"),
    ("via", "through what: a fault `via toxiproxy \"http://…\"`, a service's `scale via …`, `balance via …`"),
    ("toxiproxy", "inject the fault through a Toxiproxy server"),
    ("proxy", "the name of the Toxiproxy proxy to use; in `balance via proxy \"URL\"`, the admin API of res's splitting proxy (`res proxy serve`)"),
    ("window", "when scenarios may run: `every day 02:00..04:00 UTC`"),
    ("every", "a recurring window: days and a time range"),
    ("to", "the end: `from … to …`, `do scale … to N`, `shift … to …`, `failover … to …`"),
    ("event", "an anticipated peak, such as a sale or a launch"),
    ("lasts", "how long an event goes on"),
    ("slo", "a service level objective: conditions that must all hold"),
    ("abort", "a safety stop: `abort when CONDITION for D`"),
    ("when", "a condition that triggers an abort or a remedy"),
    ("remedy", "a rule that acts on trouble, measured or predicted"),
    ("predicted", "trigger on what the resilience profile predicts rather than on a measurement"),
    ("do", "what a remedy does: `scale`, `shift`, `failover`, `exec` or `webhook`"),
    ("shift", "move a share of the traffic from one service to another"),
    ("failover", "switch a service to its backup"),
    ("exec", "run a command"),
    ("webhook", "POST to a URL"),
    ("cooldown", "the least time between two firings of a remedy"),
    ("most", "`at most N per D`: the most firings of a remedy per period"),
    ("mode", "`mode act` changes things, `mode advise` only says what it would do"),
    ("verify", "`verify within D`: the trigger must clear within D after acting, else it is undone"),
    ("require", "`require approval`: a decision waits for `res remedy approve ID`"),
    ("approval", "`require approval`: a person approves each decision before it acts"),
    ("scenario", "a timeline of steps and what must hold while they run"),
    ("in", "when a scenario may run: `in nightly or before black_friday`"),
    ("before", "any time before an event"),
    ("step", "a named step of a scenario (load, inject or wait); in a remedy, `step at most N per 1m`"),
    ("load", "run a traffic: `load peak_test at 10%`"),
    ("inject", "inject a fault"),
    ("wait", "a pause other steps can be timed from"),
    ("after", "start when another step ends (or at `X.start`/`X.end` plus an offset); `expect … after X`"),
    ("during", "run while another step runs; `expect … during X`"),
    ("start", "the moment a step starts: `after X.start`"),
    ("end", "the moment a step ends: `after X.end`"),
    ("record", "`record profile`: store the run in the resilience profile"),
    ("profile", "the resilience profile database"),
    ("predict", "predict failure points from the profile, optionally at a load or time"),
    ("then", "`then remediate with r1, r2`: evaluate remedies after the steps"),
    ("remediate", "evaluate remedies after the steps"),
    ("template", "a fault, traffic, slo or remedy with parameters"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grammar_keyword_is_described() {
        assert!(keywords().len() > 100, "{:?}", keywords());
        for k in keywords() {
            assert!(keyword(k).is_some(), "keyword `{k}` has no description");
        }
        for (w, _) in KEYWORD_DOCS {
            assert!(
                is_keyword(w),
                "`{w}` is described but is not a grammar keyword"
            );
        }
    }
}
