//! The routing tables of the two listeners: path and method to handler.
//!
//! Unknown paths get `404`, known paths with the wrong method `405` (with `Allow`), and
//! bodies are read here, capped, before a service worker is taken.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use super::admin;
use super::http::{self, Body};
use super::shop::Shop;

/// The main listener: catalog, checkout, admin, health.
pub async fn main(shop: Arc<Shop>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["health"] => health(&method, "shop"),
        ["items"] => match method {
            Method::GET => shop.items().await,
            _ => http::method_not_allowed("GET"),
        },
        ["items", id] => match method {
            Method::GET => shop.item(id).await,
            _ => http::method_not_allowed("GET"),
        },
        ["checkout"] => match method {
            Method::POST => match http::read_body(req).await {
                Ok(body) => shop.checkout(body).await,
                Err(refusal) => refusal.into_response(),
            },
            _ => http::method_not_allowed("POST"),
        },
        ["admin", "capacity"] => match method {
            Method::GET => admin::capacity(&shop),
            Method::PUT => match http::read_body(req).await {
                Ok(body) => admin::set_capacity(&shop, &body),
                Err(refusal) => refusal.into_response(),
            },
            _ => http::method_not_allowed("GET, PUT"),
        },
        ["admin", "scale"] => match method {
            Method::POST => match http::read_body(req).await {
                Ok(body) => admin::scale(&shop, &body),
                Err(refusal) => refusal.into_response(),
            },
            _ => http::method_not_allowed("POST"),
        },
        ["metrics"] => match method {
            Method::GET => http::prometheus(shop.metrics_text()),
            _ => http::method_not_allowed("GET"),
        },
        ["admin", "stats"] => match method {
            Method::GET => admin::stats(&shop),
            _ => http::method_not_allowed("GET"),
        },
        _ => http::not_found(),
    }
}

/// The payments listener: payments and health only.
pub async fn payments(shop: Arc<Shop>, req: Request<Incoming>) -> Response<Body> {
    match req.uri().path() {
        "/health" => health(req.method(), "payments"),
        "/payments" => match *req.method() {
            Method::POST => match http::read_body(req).await {
                Ok(body) => shop.pay(body).await,
                Err(refusal) => refusal.into_response(),
            },
            _ => http::method_not_allowed("POST"),
        },
        _ => http::not_found(),
    }
}

fn health(method: &Method, name: &str) -> Response<Body> {
    match *method {
        Method::GET => http::json(StatusCode::OK, &json!({ "status": "ok", "service": name })),
        _ => http::method_not_allowed("GET"),
    }
}
