//! `res lsp` driven the way an editor drives it: the real binary, JSON-RPC over its stdin and
//! stdout with `Content-Length` framing, requests and notifications, replies asserted.
//!
//! Every read has a deadline and the child is killed when a test ends (passing or not), so a
//! server that hangs fails the test instead of hanging it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(30);

// ------------------------------------------------------------------------------------------
// a small LSP client

struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications that arrived while waiting for something else.
    queued: Vec<Value>,
    _dir: TempDir,
}

impl Client {
    /// Starts `res lsp` and completes the initialize handshake.
    fn start(dir: TempDir) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_res"))
            .arg("lsp")
            .env("XDG_CACHE_HOME", dir.path.join("cache"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start res lsp");
        let stdout = child.stdout.take().expect("stdout");
        let stdin = child.stdin.take();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(msg) = read_message(&mut r) {
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            rx,
            next_id: 1,
            queued: Vec::new(),
            _dir: dir,
        };
        let init = c.request(
            "initialize",
            json!({ "processId": null, "rootUri": null, "capabilities": {} }),
        );
        assert_eq!(init["serverInfo"]["name"], "res");
        let caps = &init["capabilities"];
        for cap in [
            "hoverProvider",
            "definitionProvider",
            "completionProvider",
            "documentFormattingProvider",
            "documentSymbolProvider",
        ] {
            assert!(!caps[cap].is_null(), "missing capability {cap}: {caps}");
        }
        c.notify("initialized", json!({}));
        c
    }

    fn send(&mut self, msg: &Value) {
        let body = serde_json::to_vec(msg).expect("json");
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin
            .write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes())
            .and_then(|()| stdin.write_all(&body))
            .and_then(|()| stdin.flush())
            .expect("write to res lsp");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn next(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(msg) => msg,
            Err(RecvTimeoutError::Timeout) => panic!("res lsp did not answer in {WAIT:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("res lsp closed its output"),
        }
    }

    /// Sends a request and returns its result (panics on an error reply).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let deadline = Instant::now() + WAIT;
        loop {
            let msg = self.next(deadline);
            if msg["id"] == json!(id) && msg.get("method").is_none() {
                assert!(msg.get("error").is_none(), "{method} failed: {msg}");
                return msg["result"].clone();
            }
            self.other(msg);
        }
    }

    /// A message that is not the awaited reply: answer server requests, keep notifications.
    fn other(&mut self, msg: Value) {
        if msg.get("method").is_some() && msg.get("id").is_some() {
            let reply = json!({ "jsonrpc": "2.0", "id": msg["id"], "result": null });
            self.send(&reply);
        } else if msg.get("method").is_some() {
            self.queued.push(msg);
        }
    }

    /// The first notification `method` whose params satisfy `want`.
    fn notification(&mut self, method: &str, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self
            .queued
            .iter()
            .position(|m| m["method"] == method && want(&m["params"]))
        {
            return self.queued.remove(i)["params"].clone();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let msg = self.next(deadline);
            if msg["method"] == method && msg.get("id").is_none() && want(&msg["params"]) {
                return msg["params"].clone();
            }
            self.other(msg);
        }
    }

    fn open(&mut self, uri: &str, text: &str) -> Value {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "res", "version": 1, "text": text } }),
        );
        self.diagnostics(uri, 1)
    }

    /// The diagnostics published for `uri` at `version`.
    fn diagnostics(&mut self, uri: &str, version: i64) -> Value {
        let params = self.notification("textDocument/publishDiagnostics", |p| {
            p["uri"] == uri && p["version"] == json!(version)
        });
        params["diagnostics"].clone()
    }

    fn at(&mut self, method: &str, uri: &str, pos: (u32, u32)) -> Value {
        self.request(
            method,
            json!({
                "textDocument": { "uri": uri },
                "position": { "line": pos.0, "character": pos.1 },
            }),
        )
    }

    /// Shuts down and exits; returns the exit status.
    fn finish(mut self) -> Option<i32> {
        let r = self.request("shutdown", Value::Null);
        assert!(r.is_null(), "{r}");
        self.notify("exit", Value::Null);
        self.stdin.take();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "res lsp did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; len?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

// ------------------------------------------------------------------------------------------
// helpers

struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("res-lsp-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir { path }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Line and UTF-16 column of the first `needle` in `text` (plus `plus` bytes).
fn pos(text: &str, needle: &str, plus: usize) -> (u32, u32) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in text"))
        + plus;
    let before = &text[..at];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].encode_utf16().count();
    (line as u32, col as u32)
}

/// A position as `range_start` gives it.
fn wide((line, col): (u32, u32)) -> (u64, u64) {
    (line.into(), col.into())
}

fn range_start(v: &Value) -> (u64, u64) {
    (
        v["start"]["line"].as_u64().expect("line"),
        v["start"]["character"].as_u64().expect("character"),
    )
}

fn hover_text(v: &Value) -> String {
    v["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Applies LSP text edits (UTF-16 positions) to `text`.
fn apply(text: &str, edits: &Value) -> String {
    let offset = |p: &Value| -> usize {
        let (line, ch) = (
            p["line"].as_u64().unwrap() as usize,
            p["character"].as_u64().unwrap() as usize,
        );
        let mut start = 0;
        for _ in 0..line {
            start += text[start..]
                .find('\n')
                .map_or(text.len() - start, |i| i + 1);
        }
        let mut units = 0;
        for (i, c) in text[start..].char_indices() {
            if units >= ch || c == '\n' || c == '\r' {
                return start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    };
    let mut edits: Vec<(usize, usize, String)> = edits
        .as_array()
        .expect("edits")
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (a, b, new) in edits {
        out.replace_range(a..b, &new);
    }
    out
}

const SHOP: &str = r#"system shop {
  builtin demo_shop
  service catalog { route GET "/items/1" }
  service checkout {
    route POST "/checkout"
    depends on payments
  }
  service payments { upstream "127.0.0.1:9101" }
}
"#;

// ------------------------------------------------------------------------------------------
// tests

#[test]
fn diagnostics_on_open_and_change_with_utf16_ranges() {
    let dir = TempDir::new("diagnostics");
    let path = dir.path.join("main.res");
    let u = uri(&path);
    // CRLF line ends, and a line whose error follows an emoji (two UTF-16 units) and `é`.
    let broken = format!(
        "{}param greeting = \"😀 café\" param pause_for = nope\r\n",
        SHOP.replace('\n', "\r\n")
    );
    let mut c = Client::start(dir);
    let diags = c.open(&u, &broken);
    let unknown: Vec<&Value> = diags
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "res::check::unknown_name")
        .collect();
    assert_eq!(unknown.len(), 1, "{diags}");
    let d = unknown[0];
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "res");
    assert!(d["message"].as_str().unwrap().contains("nope"), "{d}");
    let line = SHOP.lines().count() as u64;
    let col = "param greeting = \"😀 café\" param pause_for = "
        .encode_utf16()
        .count() as u64;
    assert_eq!(range_start(&d["range"]), (line, col));
    assert_eq!(d["range"]["end"]["character"], col + 4);

    let fixed = broken.replace("nope", "5s");
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": u, "version": 2 },
            "contentChanges": [{ "text": fixed }],
        }),
    );
    let diags = c.diagnostics(&u, 2);
    assert_eq!(diags, json!([]), "{diags}");

    // A syntax error is a diagnostic too, at the place it happens.
    let syntax = fixed.replace("pause_for =", "pause_for");
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": u, "version": 3 },
            "contentChanges": [{ "text": syntax }],
        }),
    );
    let diags = c.diagnostics(&u, 3);
    assert_eq!(diags[0]["code"], "res::syntax::expected", "{diags}");
    assert_eq!(diags[0]["range"]["start"]["line"], line);
    assert_eq!(c.finish(), Some(0));
}

#[test]
fn problems_in_an_imported_file_are_summarised_on_the_import() {
    let dir = TempDir::new("imported");
    dir.write("lib.res", "param x = missing_thing\n");
    let path = dir.path.join("main.res");
    let u = uri(&path);
    let text = "import \"./lib.res\" { x }\nparam y = x\n";
    let mut c = Client::start(dir);
    let diags = c.open(&u, text);
    let d = diags
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "res::check::unknown_name")
        .unwrap_or_else(|| panic!("{diags}"));
    assert_eq!(range_start(&d["range"]), (0, 7), "{d}");
    assert!(d["message"].as_str().unwrap().contains("lib.res"), "{d}");
    let related = &d["relatedInformation"][0]["location"];
    assert!(
        related["uri"].as_str().unwrap().ends_with("/lib.res"),
        "{d}"
    );
}

#[test]
fn diagnostics_and_hover_agree_on_an_unsaved_import() {
    // On disk lib.res declares `x`; its open buffer renames it to `y` (unsaved). A document
    // importing `y` must check cleanly (the checker reads the buffer, as hover does), and
    // hover on `y` must find the buffer's declaration.
    let dir = TempDir::new("unsaved");
    let lib = dir.write("lib.res", "param x = 5s\n");
    let lib_uri = uri(&lib);
    let path = dir.path.join("main.res");
    let u = uri(&path);
    let text = "import \"./lib.res\" { y }\nparam z = y\n";
    let mut c = Client::start(dir);
    let lib_diags = c.open(&lib_uri, "param y = 7s\n");
    assert_eq!(lib_diags, json!([]), "{lib_diags}");
    let diags = c.open(&u, text);
    assert!(
        !diags
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["severity"] == json!(1)),
        "the unsaved buffer declares `y`, so nothing is wrong: {diags}"
    );
    let h = hover_text(&c.at("textDocument/hover", &u, pos(text, "y\n", 0)));
    assert!(h.contains("param y"), "{h}");
    // Definition (from the checker's name table) lands on the buffer's `y`, not the disk's.
    let def = c.at("textDocument/definition", &u, pos(text, "y\n", 0));
    assert!(
        def["uri"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/lib.res"),
        "{def}"
    );
    assert_eq!(range_start(&def["range"]), (0, 6), "{def}");
    // And the other way: the buffer changes back to `x`, unsaved; main.res is re-checked
    // against the buffer and now misses `y`, as hover does.
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": lib_uri, "version": 2 },
                "contentChanges": [{ "text": "param x = 5s\n" }] }),
    );
    // main.res is re-checked at its same version after the change to what it imports.
    let diags = c.diagnostics(&u, 1);
    assert!(
        diags
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "res::check::unknown_export"),
        "{diags}"
    );
    let h = c.at("textDocument/hover", &u, pos(text, "y\n", 0));
    assert!(h.is_null() || !hover_text(&h).contains("param y"), "{h}");
}

#[test]
fn one_broken_item_leaves_the_others_answering() {
    // `traffic broken` does not parse; every other item still has hover, definition,
    // symbols and its own diagnostics (the checker recovers at item boundaries).
    let dir = TempDir::new("broken-item");
    let path = dir.path.join("main.res");
    let u = uri(&path);
    let text = format!(
        "{SHOP}\ntraffic broken {{\n  rate 5/s oops\n}}\n\ntraffic daily {{ rate 5/s hold 1m }}\n\nparam pause_for = nope\n\nscenario s {{\n  step one = load daily\n  step two = load broken after one\n}}\n"
    );
    let mut c = Client::start(dir);
    let diags = c.open(&u, &text);
    let list = diags.as_array().unwrap();
    assert_eq!(list[0]["code"], "res::syntax::expected", "{diags}");
    assert_eq!(range_start(&list[0]["range"]), wide(pos(&text, "oops", 0)));
    // The good items are checked: the unknown name in a later item is reported...
    let unknown: Vec<&Value> = list
        .iter()
        .filter(|d| d["code"] == "res::check::unknown_name")
        .collect();
    assert_eq!(unknown.len(), 1, "{diags}");
    assert_eq!(
        range_start(&unknown[0]["range"]),
        wide(pos(&text, "nope", 0))
    );
    // ...and the broken item's name is not called unknown where it is used.
    assert!(!diags.to_string().contains("`broken`"), "{diags}");
    let h = hover_text(&c.at("textDocument/hover", &u, pos(&text, "daily\n", 1)));
    assert!(h.contains("traffic daily"), "{h}");
    let def = c.at("textDocument/definition", &u, pos(&text, "daily\n", 1));
    assert_eq!(
        range_start(&def["range"]),
        wide(pos(&text, "daily {", 0)),
        "{def}"
    );
    let def = c.at("textDocument/definition", &u, pos(&text, "one\n", 0));
    assert_eq!(
        range_start(&def["range"]),
        wide(pos(&text, "one =", 0)),
        "{def}"
    );
    let syms = c.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": u } }),
    );
    let names: Vec<&str> = syms
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["shop", "daily", "pause_for", "s"], "{syms}");
    assert_eq!(c.finish(), Some(0));
}

#[test]
fn diagnostics_and_hover_agree_on_an_unsaved_import_with_a_broken_item() {
    // On disk lib.res declares `rate_of`; its unsaved buffer declares `slow` and has an item
    // that does not parse. The importing document's squiggles and hover both read the
    // buffer: `slow` resolves, the buffer's syntax error is summarised on the import, and
    // hover shows the buffer's value.
    let dir = TempDir::new("unsaved-broken");
    let lib = dir.write("lib.res", "param rate_of = 5/s\n");
    let lib_uri = uri(&lib);
    let path = dir.path.join("main.res");
    let u = uri(&path);
    let text = "import \"./lib.res\" { slow }\nparam z = slow\n";
    let mut c = Client::start(dir);
    let buffer = "param slow = 7s\n\nsystem half {\n  service\n}\n";
    let lib_diags = c.open(&lib_uri, buffer);
    assert_eq!(lib_diags[0]["code"], "res::syntax::expected", "{lib_diags}");
    let diags = c.open(&u, text);
    let list = diags.as_array().unwrap();
    assert!(
        !list
            .iter()
            .any(|d| d["code"] == "res::check::unknown_export"
                || d["code"] == "res::check::unknown_name"),
        "the buffer declares `slow`: {diags}"
    );
    assert!(
        list.iter()
            .any(|d| d["code"] == "res::syntax::expected" && range_start(&d["range"]) == (0, 7)),
        "the buffer's syntax error is summarised on the import: {diags}"
    );
    let h = hover_text(&c.at("textDocument/hover", &u, pos(text, "slow\n", 0)));
    assert!(h.contains("param slow"), "{h}");
    let def = c.at("textDocument/definition", &u, pos(text, "slow\n", 0));
    assert!(
        def["uri"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/lib.res"),
        "{def}"
    );
    assert_eq!(range_start(&def["range"]), (0, 6), "{def}");
    assert_eq!(c.finish(), Some(0));
}

#[test]
fn formatting_gives_the_canonical_text() {
    let dir = TempDir::new("format");
    let u = uri(&dir.path.join("fmt.res"));
    let messy = "param   margin=1.3x\r\nsystem shop {builtin demo_shop\r\n service a { route GET \"/é\" }}\r\n// 😀 a comment\r\nparam  z = 3\r\n";
    let mut c = Client::start(dir);
    c.open(&u, messy);
    let edits = c.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": u }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    let want = res::syntax::format::format_source(messy).expect("formats");
    assert_ne!(want, messy);
    assert_eq!(apply(messy, &edits), want);

    // Formatted text: no edits. Text that does not parse: no edits either, and no error.
    let bad = "system shop {\n";
    for (version, text) in [(2, want.as_str()), (3, bad)] {
        c.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": u, "version": version }, "contentChanges": [{ "text": text }] }),
        );
        let edits = c.request(
            "textDocument/formatting",
            json!({ "textDocument": { "uri": u }, "options": { "tabSize": 2, "insertSpaces": true } }),
        );
        assert!(edits.is_null() || edits == json!([]), "{edits}");
    }
}

const DEMO: &str = r#"import "std/faults" { slow_dependency }

param peak_margin = 1.3x
param soak = 2m + 30s

system shop {
  builtin demo_shop
  service catalog { route GET "/items/1" }
  service checkout { route POST "/checkout" body size 64KiB }
}

traffic peak_test {
  rate 500/s * peak_margin
  ramp 0/s -> rate over 10s
  hold soak
}

fault slow_checkout {
  on shop.checkout
  latency 250ms jitter 50ms
}

fault flaky = slow_dependency(on: shop.catalog, latency: 80ms)

slo shop_ok {
  p99(shop.checkout) < 400ms
  error_rate(shop) < 1%
}

scenario demo {
  step warmup = load peak_test at 10% for 10s
  step main = load peak_test after warmup
  step chaos = inject slow_checkout after main.start + 5s for 5s
  step flaky_too = inject flaky during chaos
  expect shop_ok during main
}
"#;

#[test]
fn hover_explains_names_literals_and_functions() {
    let dir = TempDir::new("hover");
    let u = uri(&dir.path.join("demo.res"));
    let mut c = Client::start(dir);
    let diags = c.open(&u, DEMO);
    assert_eq!(diags, json!([]), "the demo should check cleanly: {diags}");
    let hover = |c: &mut Client, needle: &str, plus: usize| -> String {
        let h = c.at("textDocument/hover", &u, pos(DEMO, needle, plus));
        hover_text(&h)
    };
    let h = hover(&mut c, "peak_margin\n", 2);
    assert!(h.contains("param peak_margin: multiplier = 1.3x"), "{h}");
    let h = hover(&mut c, "soak =", 0);
    assert!(h.contains("param soak: duration = 2m30s"), "{h}");
    assert_eq!(hover(&mut c, "250ms", 1), "duration: 250 ms");
    assert_eq!(hover(&mut c, "500/s", 0), "rate: 500 per second");
    assert_eq!(hover(&mut c, "64KiB", 3), "size: 65,536 bytes");
    let h = hover(&mut c, "shop.checkout\n", 7);
    assert!(h.contains("service shop.checkout"), "{h}");
    assert!(h.contains("route POST \"/checkout\""), "{h}");
    let h = hover(&mut c, "peak_test after", 3);
    assert!(h.contains("traffic peak_test"), "{h}");
    let h = hover(&mut c, "p99(", 1);
    assert!(h.contains("p99(system or service) → duration"), "{h}");
    let h = hover(&mut c, "latency 250ms", 2);
    assert!(h.contains("`latency` (keyword)"), "{h}");
    let h = hover(&mut c, "slow_dependency(", 3);
    assert!(
        h.contains("template fault slow_dependency(on: service"),
        "{h}"
    );
    assert!(h.contains("std/faults"), "{h}");
    // Nothing to say about punctuation, and no error either.
    let h = c.at("textDocument/hover", &u, pos(DEMO, "{", 0));
    assert!(
        h.is_null() || hover_text(&h).is_empty() || h["contents"].is_object(),
        "{h}"
    );
}

#[test]
fn definition_within_the_file_across_imports_and_into_the_stdlib() {
    let dir = TempDir::new("definition");
    let common = dir.write(
        "common.res",
        &format!("// the shared shop\n{SHOP}\nslo shop_ok {{ error_rate(shop) < 1% }}\n"),
    );
    let sub = dir.path.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let main_text = r#"import "../common.res" { shop, shop_ok as healthy }
import "std/faults" { slow_dependency }

traffic browse { rate 10/s hold 10s }
fault slow = slow_dependency(on: shop.checkout)

scenario s {
  step load_it = load browse
  step hurt = inject slow after load_it.start for 5s
  expect healthy during load_it
}
"#;
    let main = sub.join("main.res");
    std::fs::write(&main, main_text).unwrap();
    let u = uri(&main);
    let mut c = Client::start(dir);
    let diags = c.open(&u, main_text);
    assert_eq!(diags, json!([]), "{diags}");
    let common_text = std::fs::read_to_string(&common).unwrap();

    let def = |c: &mut Client, needle: &str, plus: usize| {
        c.at("textDocument/definition", &u, pos(main_text, needle, plus))
    };

    // Within the file: a step in `after`, a traffic in `load`.
    let d = def(&mut c, "load_it.start", 2);
    assert_eq!(d["uri"], u);
    assert_eq!(range_start(&d["range"]), {
        let p = pos(main_text, "load_it =", 0);
        (p.0 as u64, p.1 as u64)
    });
    let d = def(&mut c, "browse\n", 1);
    assert_eq!(range_start(&d["range"]), {
        let p = pos(main_text, "browse {", 0);
        (p.0 as u64, p.1 as u64)
    });

    // Across a relative import: `shop` in `shop.checkout`, `checkout` itself, an aliased slo.
    let in_common = |needle: &str| {
        let p = pos(&common_text, needle, 0);
        (p.0 as u64, p.1 as u64)
    };
    let d = def(&mut c, "shop.checkout", 1);
    assert_eq!(d["uri"], uri(&common));
    assert_eq!(range_start(&d["range"]), in_common("shop {"));
    let d = def(&mut c, "shop.checkout", 6);
    assert_eq!(range_start(&d["range"]), in_common("checkout {"));
    let d = def(&mut c, "healthy during", 2);
    assert_eq!(d["uri"], uri(&common));
    assert_eq!(range_start(&d["range"]), in_common("shop_ok {"));

    // An import's path opens the module; an imported alias leads to the original.
    let d = def(&mut c, "../common.res", 3);
    assert_eq!(d["uri"], uri(&common));
    assert_eq!(range_start(&d["range"]), (0, 0));
    let d = def(&mut c, "healthy }", 2);
    assert_eq!(range_start(&d["range"]), in_common("shop_ok {"));

    // Into the stdlib: a file written to the cache, holding the template.
    let d = def(&mut c, "slow_dependency(", 2);
    let target = d["uri"].as_str().expect("a location").to_string();
    assert!(target.ends_with("/faults.res"), "{d}");
    let path = target.strip_prefix("file://").unwrap();
    let stdlib = std::fs::read_to_string(path).expect("the stdlib file exists");
    let line = d["range"]["start"]["line"].as_u64().unwrap() as usize;
    assert!(stdlib
        .lines()
        .nth(line)
        .unwrap()
        .contains("template fault slow_dependency"));

    // Nothing at a keyword, and nothing for a document the server does not know.
    let d = def(&mut c, "scenario", 2);
    assert!(d.is_null(), "{d}");
    let d = c.at("textDocument/definition", "file:///nowhere/x.res", (0, 0));
    assert!(d.is_null(), "{d}");
}

#[test]
fn completion_of_services_names_keywords_and_units() {
    let dir = TempDir::new("completion");
    let u = uri(&dir.path.join("c.res"));
    // Half typed: the file does not parse.
    let text = format!("{SHOP}traffic t {{ rate 10/s hold 1m }}\nscenario s {{\n  step a = load t for 1m\n  expect p99(shop.\n");
    let mut c = Client::start(dir);
    c.open(&u, &text);
    let labels = |v: &Value| -> Vec<String> {
        let items = if v.is_array() {
            v.clone()
        } else {
            v["items"].clone()
        };
        items
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|i| i["label"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let end = pos(&text, "shop.\n", 5);
    let got = labels(&c.at("textDocument/completion", &u, end));
    assert_eq!(got, ["catalog", "checkout", "payments"]);

    let text2 = format!("{SHOP}fault f {{\n  on shop.catalog\n  latency 25\n  \n}}\n");
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 2 }, "contentChanges": [{ "text": text2 }] }),
    );
    let got = labels(&c.at("textDocument/completion", &u, pos(&text2, "25\n", 2)));
    for unit in ["ms", "s", "m", "h", "/s", "KiB", "%", "x"] {
        assert!(got.iter().any(|l| l == unit), "{unit} missing from {got:?}");
    }
    let got = labels(&c.at("textDocument/completion", &u, pos(&text2, "  \n}", 2)));
    for kw in ["latency", "errors", "kill", "on"] {
        assert!(got.iter().any(|l| l == kw), "{kw} missing from {got:?}");
    }
    assert!(!got.iter().any(|l| l == "route"), "{got:?}");
}

#[test]
fn document_symbols_form_a_hierarchy() {
    let dir = TempDir::new("symbols");
    let u = uri(&dir.path.join("demo.res"));
    let mut c = Client::start(dir);
    c.open(&u, DEMO);
    let syms = c.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": u } }),
    );
    let names: Vec<&str> = syms
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "peak_margin",
            "soak",
            "shop",
            "peak_test",
            "slow_checkout",
            "flaky",
            "shop_ok",
            "demo"
        ]
    );
    let child_names = |name: &str| -> Vec<String> {
        let s = syms
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap();
        s["children"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| c["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(child_names("shop"), ["catalog", "checkout"]);
    assert_eq!(
        child_names("demo"),
        ["warmup", "main", "chaos", "flaky_too"]
    );
    let shop = syms
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "shop")
        .unwrap();
    assert_eq!(shop["detail"], "system");
    assert_eq!(range_start(&shop["selectionRange"]), (5, 7));
    assert_eq!(shop["range"]["end"]["line"], 9);
}

#[test]
fn survives_garbage_and_unknown_documents() {
    let dir = TempDir::new("garbage");
    let u = uri(&dir.path.join("g.res"));
    let mut c = Client::start(dir);
    let garbage = "system {{{ \"unterminated\n\u{0}\u{7f} é😀 /* never closed\r\n((((( shop. 12 /";
    c.open(&u, garbage);
    let lines = garbage.split('\n').count() as u32;
    for line in 0..=lines {
        for ch in [0, 1, 5, 13, 200] {
            for method in [
                "textDocument/hover",
                "textDocument/definition",
                "textDocument/completion",
            ] {
                let _ = c.at(method, &u, (line, ch));
            }
        }
    }
    let deep = format!("param x = {}1{}", "(".repeat(5000), ")".repeat(5000));
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 2 }, "contentChanges": [{ "text": deep }] }),
    );
    let diags = c.diagnostics(&u, 2);
    assert_eq!(diags[0]["code"], "res::syntax::too_deep", "{diags}");
    let _ = c.at("textDocument/hover", &u, (0, 2500));
    let syms = c.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": u } }),
    );
    assert!(syms.is_array(), "{syms}");

    // Requests about a document that was never opened get empty answers.
    let other = "file:///not/open.res";
    assert!(c.at("textDocument/hover", other, (0, 0)).is_null());
    assert!(c.at("textDocument/completion", other, (0, 0)).is_null());
    let f = c.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": other }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert!(f.is_null());
    assert_eq!(c.finish(), Some(0));
}

#[test]
fn exits_when_the_editor_goes_away() {
    // Closing stdin without `shutdown` and `exit` (an editor that crashed) ends the server,
    // with exit code 1 as the protocol asks.
    let mut c = Client::start(TempDir::new("gone"));
    c.stdin.take();
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Ok(Some(status)) = c.child.try_wait() {
            break status;
        }
        assert!(Instant::now() < deadline, "res lsp did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(1));
}
