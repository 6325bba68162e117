//! The shop's three services and what each does with a request once it has a worker.
//!
//! [`Shop`] holds, per service, a worker pool and a service-time generator, plus checkout's
//! payments client. A handler here takes the already-read request, waits for a worker
//! ([`Shop::serve`]), spends its service time, and answers; routing and body reading happen
//! in `routes`, before a worker is taken, as a front proxy would do them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use hyper::{Response, StatusCode};
use serde_json::{json, Value};

use super::http::{self, Body, Refusal};
use super::payments_client::{PaymentsClient, PaymentsError};
use super::pool::WorkerPool;
use super::service_time::ServiceTime;
use super::{checked_capacity, CapacityError, DemoConfig, DemoStats, Service, ServiceCapacities};

/// Items listed by `GET /items`: the ids the demo data feeder uses.
const LISTED_ITEMS: std::ops::RangeInclusive<u64> = 1001..=1020;

const NAMES: [&str; 10] = [
    "Mechanical keyboard",
    "Wireless mouse",
    "Noise-cancelling headphones",
    "27-inch monitor",
    "USB-C hub",
    "Webcam",
    "Laptop stand",
    "Desk lamp",
    "Microphone",
    "Portable SSD",
];

struct Worker {
    pool: Arc<WorkerPool>,
    time: ServiceTime,
}

pub struct Shop {
    catalog: Worker,
    checkout: Worker,
    payments: Worker,
    payments_client: PaymentsClient,
    orders: AtomicU64,
    charges: AtomicU64,
    metrics: super::metrics::Metrics,
}

impl Shop {
    pub fn new(config: &DemoConfig, payments_upstream: SocketAddr) -> Shop {
        let worker = |service: Service, index: u64| Worker {
            pool: WorkerPool::new(config.capacity.get(service), config.queue_per_worker),
            // Distinct streams per service, all fixed by the one seed.
            time: ServiceTime::new(
                config.service_time.get(service),
                config.service_time.sigma,
                config
                    .seed
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    .wrapping_add(index),
            ),
        };
        Shop {
            catalog: worker(Service::Catalog, 1),
            checkout: worker(Service::Checkout, 2),
            payments: worker(Service::Payments, 3),
            payments_client: PaymentsClient::new(payments_upstream, config.payments_timeout),
            orders: AtomicU64::new(0),
            charges: AtomicU64::new(0),
            metrics: super::metrics::Metrics::default(),
        }
    }

    fn worker(&self, service: Service) -> &Worker {
        match service {
            Service::Catalog => &self.catalog,
            Service::Checkout => &self.checkout,
            Service::Payments => &self.payments,
        }
    }

    pub fn stats(&self) -> DemoStats {
        DemoStats {
            catalog: self.catalog.pool.stats(),
            checkout: self.checkout.pool.stats(),
            payments: self.payments.pool.stats(),
        }
    }

    /// `GET /metrics`: the Prometheus text exposition.
    pub fn metrics_text(&self) -> String {
        self.metrics.render(&self.stats())
    }

    pub fn capacities(&self) -> ServiceCapacities {
        ServiceCapacities {
            catalog: self.catalog.pool.capacity(),
            checkout: self.checkout.pool.capacity(),
            payments: self.payments.pool.capacity(),
        }
    }

    /// Returns the previous capacity.
    pub fn set_capacity(&self, service: Service, requested: i64) -> Result<usize, CapacityError> {
        let capacity = checked_capacity(service, requested)?;
        Ok(self.worker(service).pool.set_capacity(capacity))
    }

    pub fn payments_upstream(&self) -> SocketAddr {
        self.payments_client.upstream()
    }

    pub fn set_payments_upstream(&self, upstream: SocketAddr) {
        self.payments_client.set_upstream(upstream);
    }

    /// Runs `work` on a worker of `service` after its service time; `503` when the queue is
    /// full.
    async fn serve<F, Fut>(&self, service: Service, work: F) -> Response<Body>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Response<Body>>,
    {
        let began = std::time::Instant::now();
        let worker = self.worker(service);
        let Ok(permit) = worker.pool.acquire().await else {
            let response = http::overloaded(service.name());
            self.metrics
                .observe(service, response.status().as_u16(), began.elapsed());
            return response;
        };
        tokio::time::sleep(worker.time.sample()).await;
        let response = work().await;
        permit.finish(!response.status().is_server_error());
        self.metrics
            .observe(service, response.status().as_u16(), began.elapsed());
        response
    }

    /// `GET /items/{id}`.
    pub async fn item(&self, id: &str) -> Response<Body> {
        self.serve(Service::Catalog, || async {
            match id.parse::<u64>() {
                Ok(id) => http::json(StatusCode::OK, &item(id)),
                Err(_) => http::error(StatusCode::NOT_FOUND, format!("no item `{id}`")),
            }
        })
        .await
    }

    /// `GET /items`.
    pub async fn items(&self) -> Response<Body> {
        self.serve(Service::Catalog, || async {
            let items: Vec<Value> = LISTED_ITEMS.map(item).collect();
            http::json(StatusCode::OK, &json!({ "items": items }))
        })
        .await
    }

    /// `POST /checkout` with `{"item": id, "qty": n}`: places the order by charging payments.
    pub async fn checkout(&self, body: Bytes) -> Response<Body> {
        let order = match http::json_object(&body).and_then(|o| parse_order(&o)) {
            Ok(order) => order,
            Err(refusal) => return refusal.into_response(),
        };
        self.serve(Service::Checkout, || async {
            let n = self.orders.fetch_add(1, Ordering::Relaxed) + 1;
            let order_id = format!("ord-{n:08}");
            let amount = price_cents(order.item).saturating_mul(order.qty);
            let charge = json!({ "order": order_id, "amount_cents": amount });
            let charge = Bytes::from(charge.to_string());
            match self.payments_client.charge(charge).await {
                Ok(answer) => {
                    let payment = serde_json::from_slice::<Value>(&answer)
                        .ok()
                        .and_then(|v| v.get("payment").cloned())
                        .unwrap_or(Value::Null);
                    http::json(
                        StatusCode::OK,
                        &json!({
                            "order": order_id,
                            "item": order.item,
                            "qty": order.qty,
                            "amount_cents": amount,
                            "payment": payment,
                        }),
                    )
                }
                Err(e @ PaymentsError::Timeout(_)) => {
                    http::error(StatusCode::GATEWAY_TIMEOUT, e.to_string())
                }
                Err(e) => http::error(StatusCode::BAD_GATEWAY, e.to_string()),
            }
        })
        .await
    }

    /// `POST /payments` with a JSON object (checkout sends `order` and `amount_cents`).
    pub async fn pay(&self, body: Bytes) -> Response<Body> {
        let charge = match http::json_object(&body) {
            Ok(charge) => charge,
            Err(refusal) => return refusal.into_response(),
        };
        self.serve(Service::Payments, || async {
            let n = self.charges.fetch_add(1, Ordering::Relaxed) + 1;
            let answer = json!({
                "payment": format!("pay-{n:08}"),
                "status": "approved",
                "order": charge.get("order").cloned().unwrap_or(Value::Null),
            });
            http::json(StatusCode::OK, &answer)
        })
        .await
    }
}

struct Order {
    item: u64,
    qty: u64,
}

/// The largest quantity one order may ask for.
const MAX_QTY: u64 = 1000;

fn parse_order(body: &serde_json::Map<String, Value>) -> Result<Order, Refusal> {
    let bad = Refusal::bad_request;
    // The feeder sends ids as strings ("{items.id}" is substituted into a JSON string).
    let item = match body.get("item") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| bad("`item` must be an item id (a whole number, or a string of one)"))?;
    let qty = match body.get("qty") {
        None => Some(1),
        Some(Value::Number(n)) => n.as_u64().filter(|q| (1..=MAX_QTY).contains(q)),
        Some(_) => None,
    }
    .ok_or_else(|| bad("`qty` must be a whole number from 1 to 1000"))?;
    Ok(Order { item, qty })
}

fn price_cents(id: u64) -> u64 {
    500 + id.wrapping_mul(7919) % 30_000
}

/// Any numeric id names an item: the catalogue is generated, so every feeder value works.
fn item(id: u64) -> Value {
    json!({
        "id": id,
        "sku": format!("SKU-{id}"),
        "name": NAMES[(id % NAMES.len() as u64) as usize],
        "price_cents": price_cents(id),
        "stock": id.wrapping_mul(31) % 200,
    })
}
