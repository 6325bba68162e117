//! Shift and fail over through res's own splitting proxy (`res proxy serve`), for systems
//! with no load balancer: its admin API (`GET /servers`, `POST /servers`), each exchange with
//! the 10 s HTTP deadline.
//!
//! State is read from the proxy itself; a change — weights, states, or a whole restore — is
//! one `POST /servers`, which the proxy applies all at once or not at all, so a restore never
//! passes through a moment with no server in service.

use std::time::Duration;

use hyper::Method;
use serde::Deserialize;
use serde_json::json;

use super::actuator::{ActFuture, Actuator, Change};
use super::demo_admin::HTTP_TIMEOUT;
use super::error::ActuatorError;
use super::http;
use super::state::{ActuatorState, AdminState, ServerState};

/// A splitting proxy's admin API.
#[derive(Debug, Clone)]
pub struct ProxySplitter {
    /// `http://127.0.0.1:9900`, without a trailing slash or `/servers`.
    base: String,
    timeout: Duration,
}

#[derive(Deserialize)]
struct Document {
    listen: String,
    servers: Vec<ServerDoc>,
}

#[derive(Deserialize)]
struct ServerDoc {
    name: String,
    weight: u32,
    state: AdminState,
    backup: bool,
    up: bool,
}

impl ProxySplitter {
    /// `admin`: the admin API's URL, `http://HOST:PORT` (a trailing `/servers` is allowed).
    pub fn new(admin: &str) -> Self {
        let base = admin.trim_end_matches('/');
        let base = base.strip_suffix("/servers").unwrap_or(base);
        ProxySplitter {
            base: base.to_string(),
            timeout: HTTP_TIMEOUT,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn url(&self) -> String {
        format!("{}/servers", self.base)
    }

    async fn read_state(&self) -> Result<ActuatorState, ActuatorError> {
        let url = self.url();
        let answer = http::request(Method::GET, &url, None, &[], self.timeout).await?;
        let unreadable = |message: String| ActuatorError::Unreadable {
            target: url.clone(),
            message,
        };
        if answer.status != 200 {
            return Err(unreadable(format!("status {}", answer.status)));
        }
        let doc: Document =
            serde_json::from_slice(&answer.body).map_err(|e| unreadable(e.to_string()))?;
        if doc.servers.is_empty() {
            return Err(unreadable("no servers".into()));
        }
        Ok(ActuatorState::Servers {
            backend: doc.listen,
            servers: doc
                .servers
                .into_iter()
                .map(|s| ServerState {
                    name: s.name,
                    weight: s.weight,
                    admin: s.state,
                    up: s.up,
                    backup: s.backup,
                })
                .collect(),
        })
    }

    /// One `POST /servers`: every change at once.
    async fn set(&self, set: Vec<serde_json::Value>) -> Result<(), ActuatorError> {
        let url = self.url();
        let body = json!({ "set": set });
        let answer = http::request(Method::POST, &url, Some(&body), &[], self.timeout).await?;
        if answer.status != 200 {
            let text = String::from_utf8_lossy(&answer.body);
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .unwrap_or_else(|| text.trim().to_string());
            return Err(ActuatorError::Refused {
                target: url,
                message: format!("{}: {message}", answer.status),
            });
        }
        Ok(())
    }
}

impl Actuator for ProxySplitter {
    fn kind(&self) -> &'static str {
        "proxy"
    }

    fn target(&self) -> String {
        format!("res proxy {}", self.url())
    }

    fn read(&self) -> ActFuture<'_, ActuatorState> {
        Box::pin(self.read_state())
    }

    fn apply<'a>(&'a self, change: &'a Change) -> ActFuture<'a, ()> {
        Box::pin(async move {
            let set = match change {
                Change::SetWeights { weights } => weights
                    .iter()
                    .map(|(name, weight)| json!({ "name": name, "weight": weight }))
                    .collect(),
                Change::SetStates { states } => states
                    .iter()
                    .map(|(name, state)| json!({ "name": name, "state": state }))
                    .collect(),
                other => {
                    return Err(ActuatorError::Unsupported {
                        actuator: self.kind().into(),
                        change: other.summary(),
                    })
                }
            };
            self.set(set).await
        })
    }

    fn restore<'a>(&'a self, before: &'a ActuatorState) -> ActFuture<'a, ()> {
        Box::pin(async move {
            let ActuatorState::Servers { servers, .. } = before else {
                return Err(ActuatorError::Unsupported {
                    actuator: self.kind().into(),
                    change: format!("restore {}", before.summary()),
                });
            };
            let set = servers
                .iter()
                .map(|s| json!({ "name": s.name, "weight": s.weight, "state": s.admin }))
                .collect();
            self.set(set).await
        })
    }
}
