//! The chaos engine (work in progress).

pub mod error;
pub mod proxy;

pub use error::{ChaosError, Result};
