//! The integration tests, one crate: each module was once its own test binary, and every one
//! of them linked the whole library again. One crate links it once (CI time), and the shared
//! helpers (`common`, `support`, `report_support`) are compiled once for all of them.
//!
//! Run one area with a filter: `cargo test --test it remedy::` (module paths), or one test by
//! name. Modules keep their own helpers; what two modules share lives in the three helper
//! modules below.

mod common;
mod report_support;
mod support;

mod chaos;
mod check_remedies;
mod cli;
mod corpus;
mod demo;
mod fmt;
mod forecast_honesty;
mod fuzz;
mod layers;
mod learn;
mod load;
mod load_http1;
mod lsp;
mod orchestrate;
mod orchestrate_learn;
mod orchestrate_realtime;
mod predict;
mod profile;
mod proxy_http;
mod remedy;
mod report;
mod run;
mod schedule;
mod shard;
mod splitter;
