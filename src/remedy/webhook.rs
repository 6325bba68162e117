//! Tell another system: POST a JSON document (the decision, its trigger and evidence) to a
//! declared URL, with a 10 s deadline. Values that came from `secret()` (a token in the URL or
//! in a header) are replaced by `***` in everything this actuator reports, errors included.
//! A webhook has nothing to read back, so its states are [`ActuatorState::Opaque`] and undo
//! does nothing.

use std::time::Duration;

use hyper::Method;

use super::actuator::{ActFuture, Actuator, Change};
use super::error::ActuatorError;
use super::http;
use super::state::ActuatorState;

/// HTTP actions get 10 s.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// A declared URL to POST decisions to.
#[derive(Clone)]
pub struct Webhook {
    url: String,
    headers: Vec<(String, String)>,
    secrets: Vec<String>,
    timeout: Duration,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Webhook({})", self.target())
    }
}

impl Webhook {
    pub fn new(url: &str) -> Self {
        Webhook {
            url: url.to_string(),
            headers: Vec::new(),
            secrets: Vec::new(),
            timeout: WEBHOOK_TIMEOUT,
        }
    }

    /// Marks a value (from `secret()`) that must never appear in a report.
    pub fn with_secret(mut self, value: &str) -> Self {
        if !value.is_empty() {
            self.secrets.push(value.to_string());
        }
        self
    }

    /// Adds a header sent with every POST (an `Authorization` token, say).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn redact(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
    }

    fn redact_error(&self, e: ActuatorError) -> ActuatorError {
        match e {
            ActuatorError::Unreachable { target, message } => ActuatorError::Unreachable {
                target: self.redact(&target),
                message: self.redact(&message),
            },
            ActuatorError::Timeout { what, after } => ActuatorError::Timeout {
                what: self.redact(&what),
                after,
            },
            ActuatorError::Refused { target, message } => ActuatorError::Refused {
                target: self.redact(&target),
                message: self.redact(&message),
            },
            other => other,
        }
    }
}

impl Actuator for Webhook {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn target(&self) -> String {
        self.redact(&self.url)
    }

    fn read(&self) -> ActFuture<'_, ActuatorState> {
        Box::pin(async { Ok(ActuatorState::Opaque) })
    }

    fn apply<'a>(&'a self, change: &'a Change) -> ActFuture<'a, ()> {
        Box::pin(async move {
            let Change::Notify { body } = change else {
                return Err(ActuatorError::Unsupported {
                    actuator: self.kind().into(),
                    change: change.summary(),
                });
            };
            let answer = http::request(
                Method::POST,
                &self.url,
                Some(body),
                &self.headers,
                self.timeout,
            )
            .await
            .map_err(|e| self.redact_error(e))?;
            if !(200..300).contains(&answer.status) {
                let text: String = String::from_utf8_lossy(&answer.body)
                    .trim()
                    .chars()
                    .take(300)
                    .collect();
                return Err(ActuatorError::Refused {
                    target: self.target(),
                    message: self.redact(&format!("{}: {text}", answer.status)),
                });
            }
            Ok(())
        })
    }

    fn restore<'a>(&'a self, _before: &'a ActuatorState) -> ActFuture<'a, ()> {
        // A message sent cannot be unsent.
        Box::pin(async { Ok(()) })
    }
}
