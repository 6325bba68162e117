//! `res fmt`: the canonical formatter.
//!
//! Every check goes through [`formatted`], which asserts the three promises of the formatter
//! on the way: formatting is idempotent, the output parses to the same tree as the input
//! (spans aside), and every comment of the input appears in the output exactly once.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use res::syntax::format::format_source;

/// Snapshots live in tests/snapshots/ as `fmt__NAME.snap` (the names they had when this file
/// was its own test binary).
macro_rules! snapshot {
    ($name:literal, $value:expr) => {
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!(concat!("fmt__", $name), $value);
        })
    };
}

// ----------------------------------------------------------------------------------------------
// helpers

/// Removes every `Span { start: N, end: M }` from a Debug dump.
fn strip_spans(dump: &str) -> String {
    const OPEN: &str = "Span { start: ";
    let mut out = String::with_capacity(dump.len());
    let mut rest = dump;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i]);
        out.push_str("Span");
        let after = &rest[i..];
        let close = after.find('}').expect("a Span dump closes");
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The tree of a file that parses, without spans.
fn tree(text: &str) -> String {
    let parsed = res::syntax::parse(text, 0);
    assert!(
        !parsed.has_errors(),
        "does not parse: {:?}\n{text}",
        parsed.diagnostics
    );
    strip_spans(&format!("{:?}", parsed.file))
}

/// Comments in `text`, sorted, found independently of the formatter's own scanner: a small
/// state machine over characters (strings, line comments, block comments).
fn comments(text: &str) -> Vec<String> {
    #[derive(PartialEq)]
    enum S {
        Code,
        Str,
        Line,
        Block,
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut state = S::Code;
    let mut cur = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match state {
            S::Code => match (c, next) {
                ('"', _) => state = S::Str,
                ('/', Some('/')) => {
                    state = S::Line;
                    cur.push_str("//");
                    i += 1;
                }
                ('/', Some('*')) => {
                    state = S::Block;
                    cur.push_str("/*");
                    i += 1;
                }
                _ => {}
            },
            S::Str => match c {
                '\\' => i += 1,
                '"' | '\n' => state = S::Code,
                _ => {}
            },
            S::Line => {
                if c == '\n' {
                    out.push(cur.trim_end().to_string());
                    cur.clear();
                    state = S::Code;
                } else {
                    cur.push(c);
                }
            }
            S::Block => {
                if c == '*' && next == Some('/') {
                    cur.push_str("*/");
                    out.push(cur.replace("\r\n", "\n"));
                    cur.clear();
                    state = S::Code;
                    i += 1;
                } else {
                    cur.push(c);
                }
            }
        }
        i += 1;
    }
    if state == S::Line {
        out.push(cur.trim_end().to_string());
    }
    out.sort();
    out
}

/// Formats `text`, checking idempotence, meaning and comments; returns the output.
fn formatted(text: &str) -> String {
    let once = format_source(text).unwrap_or_else(|d| panic!("format failed: {d:?}\n{text}"));
    let twice =
        format_source(&once).unwrap_or_else(|d| panic!("output does not parse: {d:?}\n{once}"));
    assert_eq!(once, twice, "not idempotent; input:\n{text}");
    assert_eq!(tree(text), tree(&once), "meaning changed; output:\n{once}");
    assert_eq!(
        comments(text),
        comments(&once),
        "comments changed; output:\n{once}"
    );
    for line in once.lines() {
        if !line.trim_start().starts_with("/*") && !line.trim_start().starts_with('*') {
            assert_eq!(
                line,
                line.trim_end(),
                "trailing whitespace in output:\n{once}"
            );
        }
    }
    assert!(
        once.is_empty() || (once.ends_with('\n') && !once.ends_with("\n\n")),
        "output must end in one newline:\n{once:?}"
    );
    once
}

fn res_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            res_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "res") {
            out.push(p);
        }
    }
}

// ----------------------------------------------------------------------------------------------
// the repository's own files

/// Every `.res` file in scenarios/, stdlib/, tests/ and docs/: a file that parses formats
/// idempotently without losing a comment; a file that does not is refused.
#[test]
fn corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        "scenarios",
        "stdlib",
        "tests/invalid",
        "tests/fuzz-corpus",
        "examples",
        "docs",
    ] {
        res_files(&root.join(dir), &mut files);
    }
    files.sort();
    assert!(!files.is_empty());
    let mut formatted_count = 0;
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        match format_source(&text) {
            Ok(_) => {
                formatted(&text);
                formatted_count += 1;
            }
            Err(diags) => {
                assert!(
                    !diags.is_empty(),
                    "{}: refused without a diagnostic",
                    path.display()
                );
                assert!(
                    diags.iter().all(|d| d.is_error()),
                    "{}: refused with a non-error",
                    path.display()
                );
                assert!(
                    res::syntax::parse(&text, 0).has_errors(),
                    "{}: refused but parses",
                    path.display()
                );
            }
        }
    }
    assert!(formatted_count > 0, "no file in the corpus parsed");
}

// ----------------------------------------------------------------------------------------------
// layout

#[test]
fn messy_input_becomes_canonical() {
    let messy = r#"import   "std/faults"{slow_dependency,latency_spike   as spike,}
import "std/remedies" { scale_out }
param   peak_margin:multiplier=1.3x
param limit = (2m+30s)*2
data items from "data/items.csv" order cycle format csv
system shop{builtin demo_shop
header "Authorization"=secret("SHOP_TOKEN")
    timeout    5s
  service catalog{route GET "/items/{items.id}" weight 3 expect status 2xx,404}
  service checkout {
          route POST "/checkout" body json {"item":"{items.id}","qty":1,"tags":["a","b"],"gift":null,"express":false}
  depends on payments,catalog }
service payments{upstream "127.0.0.1:9101"
process   pidfile "/run/pay.pid"}
}
traffic peak_test{like everyday rate peak(everyday)*peak_margin arrival poisson ramp 0/s->rate over 1m hold 5m at 100/s
mix{shop.catalog:70%,shop.checkout:30%}
session buyer weight 30%{visit shop.catalog think 1s..3s repeat 2 visit shop.checkout}
users 50 think 2s}
fault slow{on stressed(shop,by latency,top 1) latency 200ms per chunk jitter 50ms errors 503 at 5% reset blackhole at 1% kill signal KILL pause restart with "systemctl start pay" cpu 2 cores at 80% disk 1GiB at "/tmp" match method GET and path "/checkout" and header "X-Canary"="1" via toxiproxy "http://127.0.0.1:8474" proxy "payments"}
fault flaky=slow_dependency(on:shop.catalog,latency:80ms)
window nightly{every mon,tue,wed 02:00..04:00 +01:00
from 2026-11-27 to 2026-11-28}
event bf{at 2026-11-27T00:00Z lasts 1d expect 4x}
slo ok{p99(shop.checkout)<400ms error_rate(shop)<1%}
slo strict{availability(shop)>=99.9%}
abort when error_rate(shop)>25% and not(p99(shop)<=1s) for 15s
remedy fix{when predicted p99(shop.checkout)>400ms for 1m at peak(everyday) do scale shop.checkout by +2 cooldown 10m at most 3 per 1d}
remedy move{when error_rate(shop.payments)>5% do shift 20% from shop.payments to shop.checkout}
scenario main{in nightly or before bf step warm=load peak_test at 10% for 30s step main=load peak_test after warm step chaos=inject slow after main.start+2m for 3m
step flaky=inject flaky with chaos+10s during main step rest=wait 30s at+1m expect ok during main expect p99(shop)< -(-1s) after chaos abort when error_rate(shop)>50% record profile predict at peak(peak_test) then remediate with fix,move}
template fault slowish(on:service,latency:duration=100ms){on on latency latency}
"#;
    snapshot!("messy", formatted(messy));
}

#[test]
fn actuators_and_remedy_rails() {
    let src = r#"system shop{builtin demo_shop
service checkout{route POST "/checkout"   scale  via admin within 2 .. 12}
service catalog{route GET "/items"
scale via exec "kubectl scale deploy/catalog --replicas={instances}"   read "kubectl get deploy/catalog -o jsonpath={.spec.replicas}"}
service pay{upstream "127.0.0.1:9101" balance   via haproxy "/run/haproxy.sock"    backend "be_pay"}}
remedy fix{when p99(shop.checkout)>400ms for 1m do scale shop.checkout by +2 mode act verify  within 2m require   approval step at most 4 per 1m cooldown 10m}
remedy mode{when error_rate(shop.pay)>5% do failover shop.pay to "pay_backup" mode advise}
"#;
    snapshot!("actuators_and_remedy_rails", formatted(src));
}

#[test]
fn metrics_sources_and_queries() {
    let src = r#"system shop{base "http://127.0.0.1:8080"   metrics   prometheus "http://127.0.0.1:9090"
query rate "sum(rate(http_requests_total{job=\"shop\",service=\"$service\"}[1m]))"
service checkout{route POST "/checkout"  query   p99 "histogram_quantile(0.99, sum by (le) (rate(checkout_seconds_bucket[1m])))"}}
traffic t{rate 5/s hold 1m} window w{every day 02:00..04:00 UTC}
scenario s{in w  skip   when throughput(shop)>800/s or error_rate(shop.checkout)>2%  step main=load t}
"#;
    snapshot!("metrics_sources_and_queries", formatted(src));
}

#[test]
fn one_line_blocks() {
    let src = r#"system shop {
  service a { route GET "/a" }
  service b {
    route GET "/b"
  }
  service c { route GET "/c" route GET "/cc" }
  service with_a_very_long_name_that_pushes_the_line { route GET "/a/very/long/path/that/does/not/fit/in/one/line" }
  service empty {}
}

system nested { service only { route GET "/" } }

scenario s { step a = wait 1s }

window w {
}
"#;
    snapshot!("one_line_blocks", formatted(src));
}

#[test]
fn long_lists_break_one_entry_per_line() {
    let src = r#"import "std/faults" { slow_dependency, latency_spike, slow_stream, bandwidth_squeeze, fragmented_responses, packet_loss }

system shop {
  service checkout {
    route POST "/checkout" body json { "item": "{items.id}", "qty": 1, "customer": { "id": "{customers.id}", "tier": "gold" }, "tags": ["a", "b"] } expect status 2xx
    route POST "/short" body json { "a": [], "b": {} }
  }
}

traffic t {
  mix { shop.catalog_with_a_long_name: 40%, shop.checkout_with_a_long_name: 30%, shop.payments_long: 30% }
}

fault f = slow_dependency(on: shop.checkout_with_a_long_name, latency: 250ms, jitter: 100ms, extra: 1)

template slo fast(target: service, p99_limit: duration = 400ms, error_limit: percent = 1%, x: number = 1) {
  p99(target) < p99_limit
}
"#;
    snapshot!("long_lists", formatted(src));
}

#[test]
fn blank_lines() {
    let src = "\n\n\nimport \"std/faults\" { slow_dependency }\n\n\n\nimport \"std/slos\" { fast }\nimport \"std/remedies\" { scale_out }\nparam a = 1\n\n\nparam b = 2\nparam c = 3\ndata d from \"d.csv\"\nsystem s {\n\n\n  builtin demo_shop\n\n\n\n  timeout 5s\n  protocol http1\n\n}\nslo o { p99(s) < 1s }\n\n\n\n\nslo p {\n  p99(s) < 1s\n\n  p50(s) < 100ms\n}\n\n\n";
    snapshot!("blank_lines", formatted(src));
}

#[test]
fn expressions_keep_their_parentheses_and_literals() {
    let src = r#"param a = ((1+2))*3
param b = -(-1s)+ +2s
param c = not (true and false) or not false
param d = "tab\tquote\"backslash\\unicode\u{e9}brace\{x}"
param e = 1.50x
param f = 2026-11-27T08:30:00+01:00
param g = 1h30m
param h = 10MiB/s
param i = 30000/m
param j = 5xx
param k = env("URL", "http://localhost:8080") + "/x"
"#;
    snapshot!("expressions", formatted(src));
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(formatted(""), "");
    assert_eq!(formatted("  \n\n\t\n"), "");
    assert_eq!(formatted("// just this"), "// just this\n");
    assert_eq!(
        formatted("\n\n// a   \n\n\n\n/* b */ /* c */\n// d\n\n"),
        "// a\n\n/* b */ /* c */\n// d\n"
    );
}

#[test]
fn crlf_line_endings() {
    let src =
        "// head\r\nsystem s {\r\n  builtin demo_shop // why\r\n\r\n\r\n  timeout 5s\r\n}\r\n";
    assert_eq!(
        formatted(src),
        "// head\nsystem s {\n  builtin demo_shop // why\n\n  timeout 5s\n}\n"
    );
}

#[test]
fn tricky_cases() {
    let cases = [
        // Prefix operators in a row stay separate tokens.
        ("param x = - -1s\nparam y = 1 - - 1\nparam z = not not true\nparam w = + +1\n", "param x = --1s\nparam y = 1 - -1\nparam z = not not true\nparam w = ++1\n"),
        // A `{` inside a comment in a header is not the block's brace.
        ("fault f /* { */ { on x }", "fault f { /* { */\n  on x\n}\n"),
        // A `{` inside a string before the block's brace.
        ("traffic t { session s weight \"{\" { visit a } }", "traffic t {\n  session s weight \"{\" { visit a }\n}\n"),
        // Templates without parameters.
        ("template fault g() { on x }\ntemplate fault h(\n) {}", "template fault g() { on x }\n\ntemplate fault h() {}\n"),
        // Two declarations on one line, a comment between them.
        ("param a = 1 /* x */ param b = 2 // end", "param a = 1 /* x */\nparam b = 2 // end\n"),
        ("system a {} /* x */ system b {}", "system a {} /* x */\n\nsystem b {}\n"),
        // An empty block with a comment on the brace line.
        ("system s { // c\n}", "system s { // c\n}\n"),
        // Blank lines at the end of a block and of the file go.
        ("system s {\n  builtin demo_shop\n\n  // c\n\n}\n\n\n", "system s {\n  builtin demo_shop\n\n  // c\n}\n"),
        // No newline at the end of the input.
        ("param x = 1 // end", "param x = 1 // end\n"),
        // Nested JSON breaks only as far as needed.
        (
            r#"system s { service x { route POST "/very/long/path/that/goes/on" body json { "a": { "b": { "c": [1, 2, 3, { "d": "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeee" }] } } } } }"#,
            "system s {\n  service x {\n    route POST \"/very/long/path/that/goes/on\" body json {\n      \"a\": { \"b\": { \"c\": [1, 2, 3, { \"d\": \"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\" }] } },\n    }\n  }\n}\n",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(formatted(input), expected, "input:\n{input}");
    }
}

// ----------------------------------------------------------------------------------------------
// comments

#[test]
fn comments_in_every_position() {
    let src = r#"// file header

/* block header */
import "std/faults" { slow_dependency /* inside the list */, latency_spike } // after import
import /* in import */ "std/slos" { fast }
// before system
system /* in header */ shop { // after brace
  // leading a
  builtin demo_shop // trailing a
  /* own line block */ timeout 5s
  header "X" = /* inside expr */ "y" /* after expr */ // trailing line
  service catalog { route GET "/x" } // after one-line block
  service checkout { // brace of service
    route POST "/c" body json {
      "item": "{items.id}", // inside json
      "qty": 1
    }
  } // after service
  // last in system
} // after system

traffic t {
  mix {
    shop.catalog: 70%, // catalog share
    shop.checkout: 30% // checkout share
  }
  session s // header comment
  weight 30% {
    visit shop.catalog think 1s..3s /* a */ /* b */
  }
}

scenario s {
  step a = wait 1s
  // between steps

  // after a blank
  step b = wait 2s after // line inside the statement
    a
  step c = wait 3s
  /* before close */ }

fault f = slow_dependency(on: shop.catalog, // argument comment
  latency: 80ms)

template fault g(on: service, // parameter comment
  latency: duration = 1s /* default */) {
  on on
}

/* multi-line
   block comment
     keeps its lines */
slo o { p99(shop) < 1s }

// end of file
/* really the end */
"#;
    snapshot!("comments", formatted(src));
}

#[test]
fn comment_markers_inside_strings_are_not_comments() {
    let src = r#"system s {
  base "http://example.com//path/*not a comment*/" // a real comment
  header "X-Url" = "https://a//b" /* real */
  service x { upstream "127.0.0.1:80" process command "sh -c 'echo // no; echo /* no */'" }
}
param quote = "he said \"// not a comment\"" // yes a comment
"#;
    let out = formatted(src);
    assert_eq!(
        comments(&out),
        vec!["/* real */", "// a real comment", "// yes a comment"]
    );
    snapshot!("strings_with_comment_markers", out);
}

#[test]
fn comments_never_make_one_line_blocks() {
    let out = formatted("system s { /* c */ builtin demo_shop }\n");
    assert_eq!(out, "system s { /* c */\n  builtin demo_shop\n}\n");
    let out = formatted("system s { builtin demo_shop /* c */ }\n");
    assert_eq!(out, "system s {\n  builtin demo_shop /* c */\n}\n");
    let out = formatted("system s { builtin demo_shop } /* c */\n");
    assert_eq!(out, "system s { builtin demo_shop } /* c */\n");
    let out = formatted("system s {\n  // nothing yet\n}\n");
    assert_eq!(out, "system s {\n  // nothing yet\n}\n");
}

#[test]
fn several_line_comments_in_one_statement() {
    // Only one line comment fits at the end of a line; the others move above the statement.
    let src = "scenario s {\n  step a = wait // one\n    1s // two\n    for // three\n    2s // four\n}\n";
    let out = formatted(src);
    assert_eq!(
        out,
        "scenario s {\n  // one\n  // two\n  // three\n  step a = wait 1s for 2s // four\n}\n"
    );
}

// ----------------------------------------------------------------------------------------------
// refusal

#[test]
fn a_file_that_does_not_parse_is_refused() {
    for bad in [
        "system {",
        "system s { builtin }",
        "param x = 2026-02-30",
        "param x = \"bad \\q escape\"",
        "fault f { latency 200 ms }",
        "/* unterminated",
        "route GET \"/x\"",
    ] {
        let diags = format_source(bad).expect_err(bad);
        assert!(!diags.is_empty(), "{bad}");
        assert!(diags.iter().all(|d| d.is_error()), "{bad}");
    }
}

// ----------------------------------------------------------------------------------------------
// property: random layouts of valid declarations

/// A statement: a line of tokens, or a header and a block of statements.
#[derive(Clone, Debug)]
enum G {
    Line(&'static str),
    Block(&'static str, Vec<G>),
}

fn l(s: &'static str) -> G {
    G::Line(s)
}

fn b(h: &'static str, c: Vec<G>) -> G {
    G::Block(h, c)
}

/// Top-level declarations, tokens separated by single spaces.
fn declarations() -> Vec<G> {
    vec![
        l(r#"import "std/faults" { slow_dependency , latency_spike as spike }"#),
        l("param peak_margin = 1.3x"),
        l("param limit : duration = ( 2m + 30s ) * 2"),
        l(r#"data items from "data/items.csv" format csv order cycle"#),
        b(
            "system shop",
            vec![
                l("builtin demo_shop"),
                l(r#"header "Authorization" = secret( "TOKEN" )"#),
                l("timeout 5s"),
                b(
                    "service catalog",
                    vec![l(
                        r#"route GET "/items/{items.id}" expect status 2xx , 404 weight 3"#,
                    )],
                ),
                b(
                    "service checkout",
                    vec![
                        l(
                            r#"route POST "/checkout" body json { "item" : "{items.id}" , "qty" : 1 , "tags" : [ "a" , "b" ] }"#,
                        ),
                        l("depends on payments , catalog"),
                    ],
                ),
                b(
                    "service payments",
                    vec![
                        l(r#"upstream "http://127.0.0.1:9101//x""#),
                        l(r#"process name "pay""#),
                    ],
                ),
            ],
        ),
        b(
            "traffic everyday",
            vec![
                l(r#"learn from "logs/a.log" format combined"#),
                l("forecast peak over 7d quantile 0.95 method auto"),
            ],
        ),
        b(
            "traffic peak_test",
            vec![
                l("like everyday"),
                l("rate peak( everyday ) * peak_margin"),
                l("arrival poisson"),
                l("ramp 0/s -> rate over 1m"),
                l("hold 5m at 100/s"),
                l("mix { shop.catalog : 70% , shop.checkout : 30% }"),
                b(
                    "session buyer weight 30%",
                    vec![
                        l("visit shop.catalog think 1s .. 3s repeat 2"),
                        l("visit shop.checkout"),
                    ],
                ),
            ],
        ),
        b(
            "fault slow",
            vec![
                l("on stressed ( shop , top 1 , by latency )"),
                l("latency 200ms jitter 50ms per chunk"),
                l("errors 503 at 5%"),
                l(r#"match method GET and path "/x" and header "X-A""#),
            ],
        ),
        l("fault flaky = slow_dependency( on : shop.catalog , latency : 80ms )"),
        b(
            "window nightly",
            vec![l("every mon , tue 02:00 .. 04:00 UTC")],
        ),
        b(
            "event bf",
            vec![l("at 2026-11-27T00:00Z"), l("lasts 1d"), l("expect 4x")],
        ),
        b(
            "slo ok",
            vec![
                l("p99( shop.checkout ) < 400ms"),
                l("error_rate( shop ) < 1%"),
            ],
        ),
        l("abort when error_rate( shop ) > 25% and not ( p99( shop ) < 1s ) for 15s"),
        b(
            "remedy fix",
            vec![
                l("when predicted p99( shop.checkout ) > 400ms at peak( everyday ) for 1m"),
                l("do scale shop.checkout by + 2"),
                l("cooldown 10m"),
                l("at most 3 per 1d"),
            ],
        ),
        b(
            "scenario main",
            vec![
                l("in nightly or before bf"),
                l("step warm = load peak_test at 10% for 30s"),
                l("step chaos = inject slow after warm.start + 2m for 3m"),
                l("step rest = wait 30s at + 1m"),
                l("expect ok during chaos"),
                l("record profile"),
                l("predict at peak( everyday )"),
                l("then remediate with fix"),
            ],
        ),
        b(
            "template fault t ( on : service , latency : duration = 100ms )",
            vec![l("on on"), l("latency latency")],
        ),
    ]
}

/// What goes between two tokens; `#N#` marks a comment, numbered when the file is built.
const SEPARATORS: &[&str] = &[
    " ",
    " ",
    " ",
    " ",
    " ",
    "  ",
    "\n",
    "\n  ",
    "\n\n",
    "\n\n\n",
    "\t",
    "\r\n",
    " /*#*/ ",
    " //#\n",
    "\n//#\n",
    "\n\n  //#\n\n",
    "/*#\n  more\n*/",
    " /*#*/ /*#*/ ",
    " //# with \"quotes\" and /* marks\n",
];

struct Layout<'a> {
    seps: &'a [u8],
    keys: &'a [u32],
    n: usize,
    comment: usize,
    out: String,
}

impl Layout<'_> {
    fn sep(&mut self) {
        let s = SEPARATORS[self.seps[self.n % self.seps.len()] as usize % SEPARATORS.len()];
        self.n += 1;
        for (i, part) in s.split('#').enumerate() {
            if i > 0 {
                self.out.push_str(&format!("#{}#", self.comment));
                self.comment += 1;
            }
            self.out.push_str(part);
        }
    }

    fn tokens(&mut self, s: &str) {
        for t in s.split(' ') {
            self.out.push_str(t);
            self.sep();
        }
    }

    fn shuffled(&mut self, gs: &[G]) -> Vec<G> {
        let mut keyed: Vec<(u32, G)> = gs
            .iter()
            .map(|g| {
                let k = self.keys[self.n % self.keys.len()];
                self.n += 1;
                (k, g.clone())
            })
            .collect();
        keyed.sort_by_key(|(k, _)| *k);
        keyed.into_iter().map(|(_, g)| g).collect()
    }

    fn stmt(&mut self, g: &G) {
        match g {
            G::Line(s) => self.tokens(s),
            G::Block(h, children) => {
                self.tokens(h);
                self.tokens("{");
                for c in self.shuffled(children) {
                    self.stmt(&c);
                }
                self.tokens("}");
            }
        }
    }
}

fn layout(chosen: &[bool], seps: &[u8], keys: &[u32]) -> (String, usize) {
    let mut lay = Layout {
        seps,
        keys,
        n: 0,
        comment: 0,
        out: String::new(),
    };
    let decls: Vec<G> = declarations()
        .into_iter()
        .zip(chosen.iter().cycle())
        .filter(|(_, c)| **c)
        .map(|(g, _)| g)
        .collect();
    lay.sep();
    for g in lay.shuffled(&decls) {
        lay.stmt(&g);
    }
    (lay.out, lay.comment)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_layout_formats_idempotently_and_keeps_every_comment(
        chosen in prop::collection::vec(any::<bool>(), 16),
        seps in prop::collection::vec(any::<u8>(), 1..400),
        keys in prop::collection::vec(any::<u32>(), 1..64),
    ) {
        let (text, n_comments) = layout(&chosen, &seps, &keys);
        let parsed = res::syntax::parse(&text, 0);
        prop_assert!(!parsed.has_errors(), "generated file does not parse: {:?}\n{}", parsed.diagnostics, text);
        let out = formatted(&text);
        for i in 0..n_comments {
            let marker = format!("#{i}#");
            prop_assert_eq!(out.matches(&marker).count(), 1, "comment {} lost or duplicated:\n{}", marker, out);
        }
    }
}
