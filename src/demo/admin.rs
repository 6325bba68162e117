//! The admin API of the demo shop: read and change capacities, read counters.
//!
//! This is the demo's stand-in for an orchestrator: the remediation `scale shop.checkout by
//! +2` becomes `POST /admin/scale {"service": "checkout", "by": 2}`, and `res` reads
//! `/admin/stats` to see queues build up. Every change is validated as a whole before any of
//! it is applied; bad input gets `400` with a JSON error.
//!
//! | route | body | answer |
//! |-------|------|--------|
//! | `GET /admin/capacity` | — | `{"catalog": n, "checkout": n, "payments": n}` |
//! | `PUT /admin/capacity` | some of those keys | the new capacities |
//! | `POST /admin/scale` | `{"service": s, "by": ±n}` or `{"service": s, "to": n}` | `{"service", "previous", "capacity"}` |
//! | `GET /admin/stats` | — | per service: capacity, requests, rejected, in_flight, queued, completed, errors |

use bytes::Bytes;
use hyper::{Response, StatusCode};
use serde_json::{json, Value};

use super::http::{self, Body};
use super::shop::Shop;
use super::{CapacityError, Service};

/// Why an admin request was refused.
#[derive(Debug, thiserror::Error)]
enum AdminError {
    /// A service name or capacity was refused.
    #[error(transparent)]
    Capacity(#[from] CapacityError),
    /// A field is missing, or has the wrong type.
    #[error("{0}")]
    Field(String),
}

pub fn capacity(shop: &Shop) -> Response<Body> {
    http::json(StatusCode::OK, &shop.capacities())
}

pub fn stats(shop: &Shop) -> Response<Body> {
    http::json(StatusCode::OK, &shop.stats())
}

/// `PUT /admin/capacity`: sets the capacities named in the body, leaves the others.
pub fn set_capacity(shop: &Shop, body: &Bytes) -> Response<Body> {
    let changes = match http::json_object(body) {
        Ok(changes) => changes,
        Err(refusal) => return refusal.into_response(),
    };
    let parsed: Result<Vec<(Service, i64)>, AdminError> = changes
        .iter()
        .map(|(name, value)| {
            let service: Service = name.parse()?;
            let requested = whole_number(value, name)?;
            super::checked_capacity(service, requested)?;
            Ok((service, requested))
        })
        .collect();
    let changes = match parsed {
        Ok(changes) => changes,
        Err(e) => return refuse(e),
    };
    for (service, requested) in changes {
        if let Err(e) = shop.set_capacity(service, requested) {
            return refuse(e.into());
        }
    }
    capacity(shop)
}

/// `POST /admin/scale`: `{"service": s, "by": ±n}` or `{"service": s, "to": n}`.
pub fn scale(shop: &Shop, body: &Bytes) -> Response<Body> {
    let request = match http::json_object(body) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    match scale_target(shop, &request) {
        Ok((service, requested)) => match shop.set_capacity(service, requested) {
            Ok(previous) => http::json(
                StatusCode::OK,
                &json!({
                    "service": service,
                    "previous": previous,
                    "capacity": shop.capacities().get(service),
                }),
            ),
            Err(e) => refuse(e.into()),
        },
        Err(e) => refuse(e),
    }
}

fn scale_target(
    shop: &Shop,
    request: &serde_json::Map<String, Value>,
) -> Result<(Service, i64), AdminError> {
    if let Some(extra) = request
        .keys()
        .find(|k| !matches!(k.as_str(), "service" | "by" | "to"))
    {
        return Err(AdminError::Field(format!(
            "unknown field `{extra}` (expected service, and by or to)"
        )));
    }
    let service: Service = match request.get("service") {
        Some(Value::String(name)) => name.parse()?,
        _ => {
            return Err(AdminError::Field(
                "`service` must be catalog, checkout or payments".into(),
            ))
        }
    };
    let current = i64::try_from(shop.capacities().get(service)).unwrap_or(i64::MAX);
    let requested = match (request.get("by"), request.get("to")) {
        (Some(by), None) => current.saturating_add(whole_number(by, "by")?),
        (None, Some(to)) => whole_number(to, "to")?,
        _ => {
            return Err(AdminError::Field(
                "give exactly one of `by` (a change) or `to` (a capacity)".into(),
            ))
        }
    };
    Ok((service, requested))
}

fn whole_number(value: &Value, field: &str) -> Result<i64, AdminError> {
    value
        .as_i64()
        .ok_or_else(|| AdminError::Field(format!("`{field}` must be a whole number")))
}

fn refuse(e: AdminError) -> Response<Body> {
    http::error(StatusCode::BAD_REQUEST, e.to_string())
}
