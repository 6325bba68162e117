//! Evaluating typed expressions at run time: conditions over live metrics and forecasts.
//!
//! The checker folds what is constant; what is left needs the run: a metric of a service over
//! some window, or the forecast peak of a traffic. [`eval`] asks an [`EvalEnv`] for those.

use super::expr::fold;
use super::model::{Metric, RefTarget, TExpr, TKind, Ty, Value};
use crate::syntax::ast::UnaryOp;

/// What an expression may need from the run.
pub trait EvalEnv {
    /// The metric of a system (all its services) or one service, as a value of `metric.ty()`;
    /// `None` when nothing was measured yet.
    fn metric(&self, metric: Metric, system: usize, service: Option<usize>) -> Option<Value>;
    /// The forecast peak rate of a traffic.
    fn peak(&self, traffic: usize) -> Option<Value>;
}

/// Why an expression has no value (yet).
#[derive(Debug, Clone, PartialEq)]
pub enum EvalError {
    /// A metric had no samples in the window.
    NoData(String),
    /// A value the expression needs is not available.
    Unavailable(String),
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::NoData(m) => write!(f, "no data for {m}"),
            EvalError::Unavailable(m) => write!(f, "{m} is not available"),
        }
    }
}

pub fn eval(e: &TExpr, env: &dyn EvalEnv) -> Result<Value, EvalError> {
    match &e.kind {
        TKind::Const(v) => Ok(v.clone()),
        TKind::Metric {
            metric,
            system,
            service,
        } => env
            .metric(*metric, *system, *service)
            .ok_or_else(|| EvalError::NoData(metric.name().to_string())),
        TKind::Peak(t) => env
            .peak(*t)
            .ok_or_else(|| EvalError::Unavailable("the forecast peak".into())),
        TKind::Unary(op, x) => {
            let v = eval(x, env)?;
            match (op, v) {
                (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                (UnaryOp::Pos, v) => Ok(v),
                (UnaryOp::Neg, v) => v
                    .magnitude()
                    .and_then(|m| Value::with_magnitude(e.ty, -m))
                    .ok_or_else(|| EvalError::Unavailable("a negated value".into())),
                _ => Err(EvalError::Unavailable("an operand".into())),
            }
        }
        TKind::Binary(op, l, r) => {
            let a = eval(l, env)?;
            // Short-circuit so a condition over an unmeasured service does not block the rest.
            if let Value::Bool(x) = a {
                match op {
                    crate::syntax::ast::BinaryOp::And if !x => return Ok(Value::Bool(false)),
                    crate::syntax::ast::BinaryOp::Or if x => return Ok(Value::Bool(true)),
                    _ => {}
                }
            }
            let b = eval(r, env)?;
            fold(*op, &a, &b, e.ty).ok_or_else(|| EvalError::Unavailable("the result".into()))
        }
        TKind::Ref(RefTarget::Placeholder) | TKind::Ref(_) | TKind::Error => Err(
            EvalError::Unavailable(format!("{} as a value", ty_noun(e.ty))),
        ),
    }
}

fn ty_noun(t: Ty) -> &'static str {
    t.noun()
}

/// Every metric an expression reads: (metric, system, service).
pub fn metrics_in(e: &TExpr, out: &mut Vec<(Metric, usize, Option<usize>)>) {
    match &e.kind {
        TKind::Metric {
            metric,
            system,
            service,
        } if !out.contains(&(*metric, *system, *service)) => {
            out.push((*metric, *system, *service));
        }
        TKind::Unary(_, x) => metrics_in(x, out),
        TKind::Binary(_, l, r) => {
            metrics_in(l, out);
            metrics_in(r, out);
        }
        _ => {}
    }
}
