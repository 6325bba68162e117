//! Helpers shared by the integration tests: running the `res` binary, and checking JSON
//! output against the committed JSON Schemas in docs/.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn res_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_res"))
}

/// Runs `res` with arguments from the package root, with a state folder of its own (see
/// [`state_dir`]).
pub fn res(args: &[&str]) -> Output {
    Command::new(res_bin())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("RES_STATE_DIR", state_dir())
        .output()
        .expect("res runs")
}

/// A new, empty state folder (`RES_STATE_DIR`): without one, every run started from the
/// package root would record into the repository's `.res/`, and tests running at once would
/// wait for each other's database.
pub fn state_dir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("res-state-{}-{n}", std::process::id()))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn load_schema(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).expect("schema exists"))
        .expect("schema is JSON")
}

/// Validates `v` against the subset of JSON Schema the project's schemas use: `type`,
/// `required`, `properties`, `items`, `enum`, `minimum`, `pattern` (prefix only) and local
/// `$ref`s. Returns every violation with its JSON path.
pub fn validate(schema: &Value, v: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, schema, v, "$", &mut errors);
    errors
}

fn check(root: &Value, s: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let target = r
            .trim_start_matches("#/")
            .split('/')
            .fold(root, |node, key| &node[key]);
        return check(root, target, v, path, errors);
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_u64() || v.is_i64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => true,
        });
        if !ok {
            errors.push(format!("{path}: expected {types:?}, found {v}"));
            return;
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errors.push(format!("{path}: {v} is not one of {e:?}"));
        }
    }
    if let (Some(min), Some(x)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if x < min {
            errors.push(format!("{path}: {x} is below the minimum {min}"));
        }
    }
    if let (Some(p), Some(x)) = (s.get("pattern").and_then(Value::as_str), v.as_str()) {
        let prefix = p
            .trim_start_matches('^')
            .split(['[', '(', '\\'])
            .next()
            .unwrap_or("");
        if !x.starts_with(prefix) {
            errors.push(format!("{path}: {x:?} does not match {p}"));
        }
    }
    if let Some(req) = s.get("required").and_then(Value::as_array) {
        for r in req.iter().filter_map(Value::as_str) {
            if v.get(r).is_none() {
                errors.push(format!("{path}: missing required field `{r}`"));
            }
        }
    }
    if let (Some(props), Some(obj)) = (
        s.get("properties").and_then(Value::as_object),
        v.as_object(),
    ) {
        for (k, ps) in props {
            if let Some(x) = obj.get(k) {
                check(root, ps, x, &format!("{path}.{k}"), errors);
            }
        }
    }
    if let (Some(extra), Some(obj)) = (
        s.get("additionalProperties").filter(|x| x.is_object()),
        v.as_object(),
    ) {
        let known = s.get("properties").and_then(Value::as_object);
        for (k, x) in obj {
            if known.is_none_or(|p| !p.contains_key(k)) {
                check(root, extra, x, &format!("{path}.{k}"), errors);
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            check(root, items, x, &format!("{path}[{i}]"), errors);
        }
    }
}
