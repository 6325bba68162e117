//! Current metrics of the real system from a Prometheus server's HTTP API: for each service of
//! a system that declares `metrics prometheus URL`, one instant query per quantity (rate, p99,
//! error ratio; the service's `query`, else the system's, else the conventional default). A
//! server that cannot be reached is an error for the whole read; a query that returns nothing
//! (or NaN) is a problem named with its service and query, and the loop goes on with the rest.

use crate::check::{Model, Quantity};

/// One system's metrics source.
#[derive(Debug, Clone)]
pub struct Source {
    /// `system` (as declared).
    pub system: String,
    /// The Prometheus base URL, resolved.
    pub url: String,
    /// `(service, [(quantity, PromQL)])`.
    pub services: Vec<(String, Vec<(Quantity, String)>)>,
}

/// The declared metrics sources of the files' systems, one per system (by name and URL). A
/// URL that cannot be resolved (a missing environment variable) is an error naming it.
pub fn sources<'a>(models: impl IntoIterator<Item = &'a Model>) -> Result<Vec<Source>, String> {
    let mut out: Vec<Source> = Vec::new();
    for model in models {
        for sys in &model.systems {
            let Some(m) = &sys.metrics else { continue };
            let url = m
                .url
                .resolve()
                .map_err(|var| format!("system `{}`: metrics prometheus needs ${var}", sys.name))?;
            if out.iter().any(|s| s.system == sys.name && s.url == url) {
                continue;
            }
            let services = sys
                .services
                .iter()
                .map(|sv| {
                    let qs = Quantity::ALL
                        .iter()
                        .map(|&q| (q, sys.query(sv, q)))
                        .collect();
                    (sv.name.clone(), qs)
                })
                .collect();
            out.push(Source {
                system: sys.name.clone(),
                url,
                services,
            });
        }
    }
    Ok(out)
}

/// What one service is doing now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceNow {
    pub system: String,
    pub service: String,
    pub rate_per_s: Option<f64>,
    pub p99_s: Option<f64>,
    pub error_ratio: Option<f64>,
}

/// A read of every source: the services' values and the queries that returned nothing.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub services: Vec<ServiceNow>,
    /// `(key, reason)`: a query that answered without a number.
    pub empty: Vec<(String, String)>,
}

impl Reading {
    /// The whole system's rate and error ratio (rate-weighted), and its worst p99; `None`
    /// when no service's rate was read.
    pub fn current(&self) -> Option<super::scrape::Current> {
        let rated: Vec<&ServiceNow> = self
            .services
            .iter()
            .filter(|s| s.rate_per_s.is_some())
            .collect();
        if rated.is_empty() {
            return None;
        }
        let rate: f64 = rated.iter().filter_map(|s| s.rate_per_s).sum();
        let weighted: f64 = rated
            .iter()
            .filter_map(|s| Some(s.rate_per_s? * s.error_ratio?))
            .sum();
        Some(super::scrape::Current {
            rate_per_s: rate,
            error_ratio: if rate > 0.0 {
                (weighted / rate).clamp(0.0, 1.0)
            } else {
                0.0
            },
            p99_s: self
                .services
                .iter()
                .filter_map(|s| s.p99_s)
                .reduce(f64::max),
        })
    }
}

/// Reads every service's quantities from every source. `Err` when a server cannot be
/// reached or answers with an error: the message names the server.
pub fn read(sources: &[Source]) -> Result<Reading, String> {
    let mut out = Reading::default();
    for src in sources {
        for (service, queries) in &src.services {
            let mut now = ServiceNow {
                system: src.system.clone(),
                service: service.clone(),
                ..ServiceNow::default()
            };
            for (q, promql) in queries {
                let v = instant(&src.url, promql)?;
                if v.is_none() {
                    out.empty.push((
                        format!("{}.{service}/{}", src.system, q.name()),
                        format!(
                            "{}.{service}: the {} query returned no number ({promql}); going on without it",
                            src.system,
                            q.name()
                        ),
                    ));
                }
                match q {
                    Quantity::Rate => now.rate_per_s = v,
                    Quantity::P99 => now.p99_s = v,
                    Quantity::Errors => now.error_ratio = v,
                }
            }
            out.services.push(now);
        }
    }
    Ok(out)
}

/// One instant query: the sum of the returned vector's samples (a scalar as itself), `None`
/// when the result is empty or not a number.
pub fn instant(base: &str, promql: &str) -> Result<Option<f64>, String> {
    let url = format!(
        "{}/api/v1/query?query={}",
        base.trim_end_matches('/'),
        encode(promql)
    );
    let body = super::scrape::fetch(&url).map_err(|e| format!("Prometheus at {base}: {e}"))?;
    parse_answer(&body).map_err(|e| format!("Prometheus at {base}: {e}"))
}

/// The number in an instant-query answer (`status`, `data.resultType`, `data.result`).
pub fn parse_answer(body: &str) -> Result<Option<f64>, String> {
    let v: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("not a query answer: {e}"))?;
    if v["status"] != "success" {
        return Err(format!(
            "query failed: {} {}",
            v["errorType"].as_str().unwrap_or("?"),
            v["error"].as_str().unwrap_or("")
        ));
    }
    let number = |pair: &serde_json::Value| -> Option<f64> {
        pair.get(1)?
            .as_str()?
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
    };
    let data = &v["data"];
    match data["resultType"].as_str() {
        Some("scalar") => Ok(number(&data["result"])),
        Some("vector") => {
            let xs: Vec<f64> = data["result"]
                .as_array()
                .map(|a| a.iter().filter_map(|s| number(&s["value"])).collect())
                .unwrap_or_default();
            Ok((!xs.is_empty()).then(|| xs.iter().sum()))
        }
        other => Err(format!(
            "an instant query answers a vector or a scalar, not {}",
            other.unwrap_or("nothing")
        )),
    }
}

/// The readings as an expression environment, for a scenario's `skip when`: a system's
/// throughput is the sum of its services' rates, its error rate their rate-weighted mean, its
/// p99 the worst service's. Other metrics are not read from the real system (`res check`
/// refuses them in `skip when`).
pub struct NowEnv<'a> {
    pub model: &'a Model,
    pub reading: &'a Reading,
}

impl crate::check::eval::EvalEnv for NowEnv<'_> {
    fn metric(
        &self,
        metric: crate::check::Metric,
        system: usize,
        service: Option<usize>,
    ) -> Option<crate::check::Value> {
        use crate::check::{Metric, Value};
        use crate::units::{Duration, Percent, Rate};
        let sys = self.model.systems.get(system)?;
        let wanted = service.map(|i| sys.services.get(i).map(|s| s.name.as_str()));
        let picked: Vec<&ServiceNow> = self
            .reading
            .services
            .iter()
            .filter(|s| s.system == sys.name)
            .filter(|s| match wanted {
                None => true,
                Some(name) => name == Some(s.service.as_str()),
            })
            .collect();
        let part = Reading {
            services: picked.into_iter().cloned().collect(),
            empty: Vec::new(),
        };
        match metric {
            Metric::Throughput => part.current().map(|c| Value::Rate(Rate(c.rate_per_s))),
            Metric::ErrorRate => part
                .current()
                .filter(|_| part.services.iter().any(|s| s.error_ratio.is_some()))
                .map(|c| Value::Percent(Percent(c.error_ratio * 100.0))),
            Metric::P99 => part
                .services
                .iter()
                .filter_map(|s| s.p99_s)
                .reduce(f64::max)
                .map(|s| Value::Duration(Duration(s * 1000.0))),
            _ => None,
        }
    }

    fn peak(&self, _traffic: usize) -> Option<crate::check::Value> {
        None
    }
}

/// Percent-encodes a query-string value (everything but RFC 3986's unreserved characters).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vectors_scalars_and_nothing() {
        let vec = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.5,"2.5"]},{"metric":{},"value":[1.5,"1"]}]}}"#;
        assert_eq!(parse_answer(vec).unwrap(), Some(3.5));
        let empty = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(parse_answer(empty).unwrap(), None);
        let nan = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}"#;
        assert_eq!(parse_answer(nan).unwrap(), None);
        let scalar = r#"{"status":"success","data":{"resultType":"scalar","result":[1,"0.25"]}}"#;
        assert_eq!(parse_answer(scalar).unwrap(), Some(0.25));
        let bad = r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
        assert!(parse_answer(bad).unwrap_err().contains("bad_data"));
        assert!(parse_answer("<html>").is_err());
    }

    #[test]
    fn encodes_promql() {
        assert_eq!(encode(r#"a{b="c"}[1m]"#), "a%7Bb%3D%22c%22%7D%5B1m%5D");
    }
}
