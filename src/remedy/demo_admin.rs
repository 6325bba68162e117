//! Scale through the demo shop's admin API: `GET /admin/capacity` reads how many workers a
//! service runs, `POST /admin/scale {"service", "to"}` sets it. The demo's stand-in for an
//! orchestrator, and the builtin actuator of `builtin demo_shop`.

use std::time::Duration;

use hyper::Method;
use serde_json::json;

use super::actuator::{restored_instances, wanted_instances, ActFuture, Actuator, Change};
use super::error::ActuatorError;
use super::http;
use super::state::ActuatorState;

/// HTTP actions get 10 s.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The demo shop's admin API for one service.
#[derive(Debug, Clone)]
pub struct DemoAdmin {
    /// `http://127.0.0.1:8080`, without a trailing slash.
    base: String,
    service: String,
    timeout: Duration,
}

impl DemoAdmin {
    pub fn new(base: &str, service: &str) -> Self {
        DemoAdmin {
            base: base.trim_end_matches('/').to_string(),
            service: service.to_string(),
            timeout: HTTP_TIMEOUT,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn set(&self, instances: u64) -> Result<(), ActuatorError> {
        let url = format!("{}/admin/scale", self.base);
        let body = json!({"service": self.service, "to": instances});
        let answer = http::request(Method::POST, &url, Some(&body), &[], self.timeout).await?;
        if answer.status != 200 {
            return Err(ActuatorError::Refused {
                target: url,
                message: format!(
                    "{}: {}",
                    answer.status,
                    String::from_utf8_lossy(&answer.body).trim()
                ),
            });
        }
        Ok(())
    }
}

impl Actuator for DemoAdmin {
    fn kind(&self) -> &'static str {
        "demo_admin"
    }

    fn target(&self) -> String {
        format!("{}/admin/scale ({})", self.base, self.service)
    }

    fn read(&self) -> ActFuture<'_, ActuatorState> {
        Box::pin(async move {
            let url = format!("{}/admin/capacity", self.base);
            let answer = http::request(Method::GET, &url, None, &[], self.timeout).await?;
            let unreadable = |message: String| ActuatorError::Unreadable {
                target: url.clone(),
                message,
            };
            if answer.status != 200 {
                return Err(unreadable(format!("status {}", answer.status)));
            }
            let v: serde_json::Value =
                serde_json::from_slice(&answer.body).map_err(|e| unreadable(e.to_string()))?;
            let instances = v
                .get(&self.service)
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| unreadable(format!("no capacity for `{}`", self.service)))?;
            Ok(ActuatorState::Instances { instances })
        })
    }

    fn apply<'a>(&'a self, change: &'a Change) -> ActFuture<'a, ()> {
        Box::pin(async move { self.set(wanted_instances(self.kind(), change)?).await })
    }

    fn restore<'a>(&'a self, before: &'a ActuatorState) -> ActFuture<'a, ()> {
        Box::pin(async move { self.set(restored_instances(self.kind(), before)?).await })
    }
}
