//! `res forecast MODEL`: a learned traffic's hourly rate ahead, its peak and intervals
//! ([`crate::learn::forecast`]), as text or JSON (docs/forecast.schema.json).
//!
//! Exit codes: 0 done, 1 the history is too short for the seasonality or method asked for,
//! 2 refused: less than a day of covered history, an implausible model (a negative or absurd
//! count, named) or a log too stale to reach; 4 the tool failed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::learn::{fail, learn_code, parse_duration};
use crate::exit::Exit;
use crate::learn::forecast::{self, ForecastOptions, Season};
use crate::learn::{LearnError, TrafficProfile};
use crate::units::Duration;

const EXIT_INPUT: u8 = Exit::Failed.code();
const EXIT_TOOL: u8 = Exit::Tool.code();
/// Too little history, a model refused as implausible, or a stale log too old to forecast:
/// bad input.
const EXIT_REFUSED: u8 = Exit::Invalid.code();

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    Auto,
    #[value(name = "seasonal_naive")]
    SeasonalNaive,
    #[value(name = "seasonal_mean")]
    SeasonalMean,
    #[value(name = "holt_winters")]
    HoltWinters,
    #[value(name = "double_seasonal")]
    DoubleSeasonal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeasonArg {
    Auto,
    None,
    Daily,
    Weekly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// Arguments of `res forecast`.
#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// A model file written by `res learn -o MODEL.json`.
    pub model: PathBuf,
    /// How far ahead to forecast.
    #[arg(long, default_value = "7d", value_name = "DURATION", value_parser = parse_duration)]
    pub horizon: Duration,
    /// The interval's upper quantile (the rate a load test should plan for).
    #[arg(long, default_value_t = 0.95)]
    pub quantile: f64,
    /// The method; auto picks the best in a backtest on the history.
    #[arg(long, default_value = "auto")]
    pub method: MethodArg,
    /// The seasonality; auto uses the longest the history supports.
    #[arg(long, default_value = "auto")]
    pub season: SeasonArg,
    /// Output format.
    #[arg(long, default_value = "text")]
    pub format: OutputFormat,
    /// Also draw the learned history, the forecast and its interval as an SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
}

/// `res forecast`.
pub fn run_forecast(args: ForecastArgs) -> ExitCode {
    let horizon = args.horizon;
    if let Some(p) = &args.plot {
        // Refused before the work, not after it.
        if let Err(e) = super::run::writable(p) {
            return fail(EXIT_REFUSED, format!("cannot write {}: {e}", p.display()));
        }
    }
    let profile = match TrafficProfile::load(&args.model) {
        Ok(p) => p,
        Err(e @ LearnError::Model { .. }) if learn_code(&e) != EXIT_TOOL => {
            return fail(EXIT_REFUSED, e)
        }
        Err(e) => return fail(learn_code(&e), e),
    };
    let method = match args.method {
        MethodArg::Auto => "auto",
        MethodArg::SeasonalNaive => "seasonal_naive",
        MethodArg::SeasonalMean => "seasonal_mean",
        MethodArg::HoltWinters => "holt_winters",
        MethodArg::DoubleSeasonal => "double_seasonal",
    };
    let season = match args.season {
        SeasonArg::Auto => Season::Auto,
        SeasonArg::None => Season::None,
        SeasonArg::Daily => Season::Daily,
        SeasonArg::Weekly => Season::Weekly,
    };
    let opts = ForecastOptions {
        horizon,
        quantile: args.quantile,
        method: forecast::parse_method(method).unwrap_or(crate::learn::ForecastMethod::Auto),
        season,
        // The command's edge is where the present comes in: the forecast starts now.
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs() as i64),
    };
    let f = match forecast::forecast_with(&profile, &opts) {
        Ok(f) => f,
        Err(
            e @ (forecast::ForecastError::Stale { .. }
            | forecast::ForecastError::BadSeries(_)
            | forecast::ForecastError::NotEnoughHistory { .. }
            | forecast::ForecastError::NoHistory),
        ) => return fail(EXIT_REFUSED, e),
        Err(e) => return fail(EXIT_INPUT, e),
    };
    if let Some(p) = &args.plot {
        let written = crate::report::forecast_plot::to_svg(&profile, &f)
            .and_then(|svg| std::fs::write(p, svg).map_err(|e| e.to_string()));
        if let Err(e) = written {
            return fail(
                EXIT_TOOL,
                format!("cannot write the plot to {}: {e}", p.display()),
            );
        }
    }
    match args.format {
        OutputFormat::Text => print!("{}", forecast::to_text(&f)),
        OutputFormat::Json => match serde_json::to_string_pretty(&f) {
            Ok(s) => println!("{s}"),
            Err(e) => return fail(EXIT_TOOL, e),
        },
    }
    ExitCode::SUCCESS
}
