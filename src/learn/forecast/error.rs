//! Why a forecast could not be made.

/// Why a forecast could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    /// The model has no hourly history at all.
    #[error("no history to forecast from: the model's hourly series is empty")]
    NoHistory,
    /// Less covered history than any forecast needs (a day).
    #[error(
        "not enough history to forecast: the log covers {covers}{}, and a forecast needs at least {needed}: learn a longer log",
        if *after_gap { " after its last gap longer than a week" } else { "" }
    )]
    NotEnoughHistory {
        covers: String,
        needed: String,
        after_gap: bool,
    },
    /// The history is too short for the seasonality the method or `--season` asks for.
    #[error(
        "needs at least {needed} of history for {season} seasonality; the log covers {covers}"
    )]
    TooShort {
        needed: String,
        season: &'static str,
        covers: String,
    },
    /// The quantile is outside (0.5, 1).
    #[error("quantile {0} is out of range: use a value between 0.5 and 1, such as 0.95")]
    BadQuantile(f64),
    /// The horizon is zero or longer than the forecaster handles.
    #[error("horizon {0} is out of range: use one hour to one year")]
    BadHorizon(String),
    /// The log ended so long ago that forecasting from it to now and over the horizon would
    /// reach past a year.
    #[error("the log is stale: it ends at {ended}, {ago} ago, and a forecast from it cannot reach past a year: learn a recent log")]
    Stale { ended: String, ago: String },
    /// The model's series cannot be read (bad start time or step).
    #[error("the model's series is unusable: {0}")]
    BadSeries(String),
}
