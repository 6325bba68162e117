//! The request mix compiled for sending: parsed methods, headers and URIs, templates ready to
//! render, weights as a cumulative table.
//!
//! Whatever does not change between requests is built once: a route without placeholders
//! keeps its `Uri` and body `Bytes` (cheap reference-counted clones) so the hot loop of the
//! closed model allocates only what hyper itself needs.

use std::collections::HashMap;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE, HOST};
use hyper::{HeaderMap, Method, Request, Uri};
use rand::rngs::StdRng;
use rand::RngExt;

use super::error::LoadError;
use super::spec::{BodySpec, LoadSpec, Protocol, RequestSpec, VisitTarget};
use super::target::Target;
use super::template::{Escape, Feeders, JsonTemplate, RenderState, Template};
use crate::units::StatusPattern;

pub(crate) type Body = Full<Bytes>;

/// The per-request parts that came from templates.
#[derive(Debug)]
pub(crate) struct Rendered {
    pub uri: Uri,
    pub body: Bytes,
    pub headers: Option<HeaderMap>,
}

pub(crate) struct CompiledRequest {
    pub service: usize,
    pub method: Method,
    pub timeout: std::time::Duration,
    expect: Vec<StatusPattern>,
    /// The full path (base prefix included) when it has placeholders.
    path: Option<Template>,
    uri_prefix: String,
    body: BodyTemplate,
    headers: HeaderMap,
    header_templates: Vec<(HeaderName, Template)>,
    static_uri: Option<Uri>,
    /// The whole HTTP/1.1 request, for a static request to an HTTP/1.1 target.
    wire: Option<Bytes>,
}

enum BodyTemplate {
    Static(Bytes),
    Json(JsonTemplate),
    Raw(Template),
    /// A prefix of `filler`, its length drawn from the distribution per request.
    Sized {
        sizes: super::spec::Distribution,
        filler: Bytes,
    },
}

/// The largest body a size distribution may draw: beyond it, sizes are cut.
const MAX_SIZED_BODY: f64 = 16.0 * 1024.0 * 1024.0;

impl CompiledRequest {
    /// True when nothing needs rendering per request.
    pub fn is_static(&self) -> bool {
        self.static_uri.is_some()
            && matches!(self.body, BodyTemplate::Static(_))
            && self.header_templates.is_empty()
    }

    /// Whether `status` counts as success.
    pub fn accepts(&self, status: u16) -> bool {
        if self.expect.is_empty() {
            status < 400
        } else {
            self.expect.iter().any(|p| p.matches(status))
        }
    }

    /// Renders the templated parts (`None` for a static request).
    pub fn render(
        &self,
        state: &mut RenderState<'_>,
        feeders: &Feeders,
    ) -> Result<Option<Rendered>, String> {
        if self.is_static() {
            return Ok(None);
        }
        let uri = match (&self.static_uri, &self.path) {
            (Some(u), _) => u.clone(),
            (None, Some(t)) => {
                let mut s = self.uri_prefix.clone();
                t.render_into(&mut s, state, feeders, Escape::Uri);
                Uri::try_from(s).map_err(|e| format!("rendered path is not a valid URI: {e}"))?
            }
            (None, None) => return Err("request without a path".into()),
        };
        let body = match &self.body {
            BodyTemplate::Static(b) => b.clone(),
            BodyTemplate::Json(t) => Bytes::from(
                serde_json::to_vec(&t.render(state, feeders)).map_err(|e| e.to_string())?,
            ),
            BodyTemplate::Raw(t) => Bytes::from(t.render(state, feeders, Escape::None)),
            BodyTemplate::Sized { sizes, filler } => {
                let n = sizes.at(state.rng.random::<f64>()).round() as usize;
                filler.slice(..n.min(filler.len()))
            }
        };
        let headers = if self.header_templates.is_empty() {
            None
        } else {
            let mut h = self.headers.clone();
            for (name, t) in &self.header_templates {
                let v = t.render(state, feeders, Escape::None);
                let v = HeaderValue::try_from(v)
                    .map_err(|_| format!("rendered header `{name}` is not a valid header value"))?;
                h.append(name.clone(), v);
            }
            Some(h)
        };
        Ok(Some(Rendered { uri, body, headers }))
    }

    /// The request as HTTP/1.1 bytes: shared ones when static, else encoded into `out`
    /// (which the caller sends).
    pub fn wire(&self, rendered: Option<Rendered>, out: &mut Vec<u8>) -> Option<&Bytes> {
        let encode = super::http1::encode::request;
        match &rendered {
            None => {
                if let Some(w) = &self.wire {
                    return Some(w);
                }
                let body = match &self.body {
                    BodyTemplate::Static(b) => &b[..],
                    _ => &[],
                };
                let path = origin_form(self.static_uri.as_ref());
                encode(&self.method, path, &self.headers, body, out);
            }
            Some(r) => {
                let headers = r.headers.as_ref().unwrap_or(&self.headers);
                encode(
                    &self.method,
                    origin_form(Some(&r.uri)),
                    headers,
                    &r.body,
                    out,
                );
            }
        }
        None
    }

    /// True for `HEAD`, whose response has no body.
    pub fn is_head(&self) -> bool {
        self.method == Method::HEAD
    }

    /// The hyper request, from the static parts and whatever was rendered.
    pub fn build(&self, rendered: Option<Rendered>) -> Request<Body> {
        let (uri, body, headers) = match rendered {
            Some(r) => (r.uri, r.body, r.headers),
            None => (
                self.static_uri.clone().unwrap_or_default(),
                match &self.body {
                    BodyTemplate::Static(b) => b.clone(),
                    _ => Bytes::new(),
                },
                None,
            ),
        };
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = uri;
        *req.headers_mut() = headers.unwrap_or_else(|| self.headers.clone());
        req
    }
}

/// The path and query of a request URI, as HTTP/1.1 sends them.
fn origin_form(uri: Option<&Uri>) -> &str {
    uri.and_then(|u| u.path_and_query())
        .map_or("/", |p| p.as_str())
}

/// The whole mix.
pub(crate) struct Mix {
    pub requests: Vec<CompiledRequest>,
    /// Service names; `CompiledRequest::service` indexes this.
    pub services: Vec<String>,
    pub feeders: Feeders,
    cumulative: Vec<f64>,
    by_service: HashMap<String, (Vec<usize>, Vec<f64>)>,
}

impl Mix {
    pub fn compile(spec: &LoadSpec, target: &Target) -> Result<Mix, LoadError> {
        if spec.requests.is_empty() {
            return Err(LoadError::Invalid("there are no requests to send".into()));
        }
        let feeders = Feeders::new(&spec.feeders);
        let mut services: Vec<String> = Vec::new();
        let mut requests = Vec::new();
        for (index, r) in spec.requests.iter().enumerate() {
            let service = match services.iter().position(|s| *s == r.service) {
                Some(i) => i,
                None => {
                    services.push(r.service.clone());
                    services.len() - 1
                }
            };
            let compiled = compile_one(r, service, spec, target, &feeders).map_err(|reason| {
                LoadError::BadRequest {
                    index,
                    method: r.method.clone(),
                    path: r.path.clone(),
                    reason,
                }
            })?;
            requests.push(compiled);
        }
        let cumulative = cumulative(spec.requests.iter().map(|r| r.weight))
            .ok_or_else(|| LoadError::Invalid("request weights must be positive numbers".into()))?;
        let mut by_service: HashMap<String, (Vec<usize>, Vec<f64>)> = HashMap::new();
        for s in &services {
            let idx: Vec<usize> = (0..spec.requests.len())
                .filter(|i| spec.requests[*i].service == *s)
                .collect();
            let cum = cumulative_or_even(idx.iter().map(|i| spec.requests[*i].weight));
            by_service.insert(s.clone(), (idx, cum));
        }
        Ok(Mix {
            requests,
            services,
            feeders,
            cumulative,
            by_service,
        })
    }

    /// A request of the whole mix, by weight.
    pub fn pick(&self, rng: &mut StdRng) -> usize {
        pick(&self.cumulative, rng)
    }

    /// Checks a visit target, returning the error text when it names nothing.
    pub fn check_visit(&self, target: &VisitTarget) -> Result<(), String> {
        match target {
            VisitTarget::Request(i) if *i < self.requests.len() => Ok(()),
            VisitTarget::Request(i) => Err(format!(
                "a visit names request {i}, but there are {}",
                self.requests.len()
            )),
            VisitTarget::Service(s) if self.by_service.contains_key(s) => Ok(()),
            VisitTarget::Service(s) => Err(format!(
                "a visit names service `{s}`, which has no requests"
            )),
        }
    }

    /// The request for a visit.
    pub fn pick_visit(&self, target: &VisitTarget, rng: &mut StdRng) -> usize {
        match target {
            VisitTarget::Request(i) => *i,
            VisitTarget::Service(s) => match self.by_service.get(s) {
                Some((idx, cum)) => idx[pick(cum, rng)],
                None => 0,
            },
        }
    }
}

fn compile_one(
    r: &RequestSpec,
    service: usize,
    spec: &LoadSpec,
    target: &Target,
    feeders: &Feeders,
) -> Result<CompiledRequest, String> {
    let method = Method::from_bytes(r.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("`{}` is not an HTTP method", r.method))?;
    let path = if r.path.starts_with('/') {
        format!("{}{}", target.prefix, r.path)
    } else {
        format!("{}/{}", target.prefix, r.path)
    };
    let uri_prefix = match target.protocol {
        Protocol::Http1 => String::new(),
        Protocol::Http2 => format!("{}://{}", target.scheme, target.authority),
    };
    let template = Template::compile(&path, feeders)?;
    let (static_uri, path) = if template.is_static() {
        let uri = Uri::try_from(format!("{uri_prefix}{}", template.literal()))
            .map_err(|e| format!("not a valid path: {e}"))?;
        (Some(uri), None)
    } else {
        (None, Some(template))
    };
    let mut headers = HeaderMap::new();
    let mut header_templates = Vec::new();
    if target.protocol == Protocol::Http1 {
        let host = HeaderValue::from_str(&target.authority).map_err(|e| e.to_string())?;
        headers.insert(HOST, host);
    }
    for (name, value) in &r.headers {
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| format!("`{name}` is not a valid header name"))?;
        if name == HOST && target.protocol == Protocol::Http2 {
            continue;
        }
        let t = Template::compile(value.trim(), feeders)?;
        if t.is_static() {
            let v = HeaderValue::from_str(&t.literal())
                .map_err(|_| format!("the value of header `{name}` is not valid"))?;
            if name == HOST {
                headers.insert(name, v);
            } else {
                headers.append(name, v);
            }
        } else {
            header_templates.push((name, t));
        }
    }
    let body = match &r.body {
        None => BodyTemplate::Static(Bytes::new()),
        Some(BodySpec::Size(n)) => {
            BodyTemplate::Static(Bytes::from(vec![b'x'; n.0.max(0.0) as usize]))
        }
        Some(BodySpec::Sized(sizes)) => {
            let most = sizes.at(1.0).clamp(0.0, MAX_SIZED_BODY) as usize;
            BodyTemplate::Sized {
                sizes: sizes.clone(),
                filler: Bytes::from(vec![b'x'; most]),
            }
        }
        Some(BodySpec::Raw(s)) => {
            let t = Template::compile(s, feeders)?;
            if t.is_static() {
                BodyTemplate::Static(Bytes::from(t.literal()))
            } else {
                BodyTemplate::Raw(t)
            }
        }
        Some(BodySpec::Json(v)) => {
            if !headers.contains_key(CONTENT_TYPE)
                && !header_templates.iter().any(|(n, _)| n == CONTENT_TYPE)
            {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            match JsonTemplate::compile(v, feeders)? {
                JsonTemplate::Value(v) => BodyTemplate::Static(Bytes::from(
                    serde_json::to_vec(&v).map_err(|e| e.to_string())?,
                )),
                t => BodyTemplate::Json(t),
            }
        }
    };
    let timeout = r.timeout.unwrap_or(spec.timeout).to_std();
    if timeout.is_zero() {
        return Err("the timeout must be longer than zero".into());
    }
    let mut compiled = CompiledRequest {
        service,
        method,
        timeout,
        expect: r.expect_status.clone(),
        path,
        uri_prefix,
        body,
        headers,
        header_templates,
        static_uri,
        wire: None,
    };
    if target.protocol == Protocol::Http1 && compiled.is_static() {
        let mut out = Vec::new();
        compiled.wire(None, &mut out);
        compiled.wire = Some(Bytes::from(out));
    }
    Ok(compiled)
}

/// Running sums of the weights; `None` if any is not a positive finite number.
fn cumulative(weights: impl Iterator<Item = f64>) -> Option<Vec<f64>> {
    let mut sum = 0.0;
    let mut out = Vec::new();
    for w in weights {
        if !(w.is_finite() && w > 0.0) {
            return None;
        }
        sum += w;
        out.push(sum);
    }
    Some(out)
}

fn cumulative_or_even(weights: impl Iterator<Item = f64> + Clone) -> Vec<f64> {
    cumulative(weights.clone()).unwrap_or_else(|| (1..=weights.count()).map(|i| i as f64).collect())
}

/// An index drawn with probability proportional to its weight.
pub(crate) fn pick(cumulative: &[f64], rng: &mut StdRng) -> usize {
    match cumulative.len() {
        0 | 1 => 0,
        n => {
            let x = rng.random::<f64>() * cumulative[n - 1];
            cumulative.partition_point(|c| *c <= x).min(n - 1)
        }
    }
}
