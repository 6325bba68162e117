//! res — the resilience scenario language.
//!
//! The library behind the `res` binary, laid out by pipeline stage:
//! [`syntax`] (text → AST) → [`check`] (AST → Model) → [`plan`] (Model → execution graph).
//! See ARCHITECTURE.md for the map and the invariants.

pub mod chaos;
pub mod check;
pub mod cli;
pub mod demo;
pub mod diagnostic;
pub mod exit;
pub mod learn;
pub mod load;
pub mod lsp;
mod net;
pub mod orchestrate;
pub mod plan;
pub mod predict;
pub mod profile;
pub mod remedy;
pub mod report;
pub mod run;
pub mod runtime;
pub mod schedule;
pub mod shutdown;
pub mod state;
pub mod syntax;
pub mod units;
