//! The language of remediation: service actuators (`scale via admin|exec`, `balance via
//! haproxy`) and a remedy's rails (`mode`, `verify within`, `require approval`, `step at
//! most`) reach the model, and a remedy whose service cannot do its action is refused with a
//! span on the action.

use res::check::{ActionModel, ActuatorModel, Checked, Model, RemedyMode, StrValue};
use res::diagnostic::Code;

fn check(text: &str) -> Checked {
    res::check::check_source("remedies.res", text, &res::check::Options::default())
}

fn model(text: &str) -> Model {
    let checked = check(text);
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    checked.model.expect("a model")
}

/// The errors of `text`: (code, the text the span covers, message).
fn errors(text: &str) -> Vec<(Code, String, String)> {
    check(text)
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            (
                d.code,
                text[d.span.start..d.span.end].to_string(),
                d.message.clone(),
            )
        })
        .collect()
}

fn lit(s: &str) -> StrValue {
    StrValue::Literal {
        value: s.to_string(),
    }
}

const REAL: &str = r#"
system shop {
  base "http://127.0.0.1:8080"
  service checkout {
    route POST "/checkout"
    scale via exec "kubectl scale deploy/checkout --replicas={instances}" read "kubectl get deploy/checkout -o jsonpath={.spec.replicas}" within 2..12
  }
  service pay_a {
    upstream "127.0.0.1:9201"
    balance via haproxy "127.0.0.1:9999" backend "be_pay"
  }
  service pay_b { upstream "127.0.0.1:9202" }
  service cart { route GET "/cart" }
}
"#;

const SCENARIO: &str = "scenario s {\n  step a = wait 1s\n  then remediate with r\n}\n";

#[test]
fn actuators_reach_the_service_model() {
    let m = model(&format!(
        "{REAL}remedy r {{\n  when p99(shop.checkout) > 400ms for 1m\n  do scale shop.checkout by +2\n}}\n{SCENARIO}"
    ));
    let svc = |n: &str| m.systems[0].services.iter().find(|s| s.name == n).expect(n);
    assert_eq!(
        svc("checkout").actuators,
        [ActuatorModel::ScaleExec {
            set: lit("kubectl scale deploy/checkout --replicas={instances}"),
            read: lit("kubectl get deploy/checkout -o jsonpath={.spec.replicas}"),
            within: Some((2, 12)),
        }]
    );
    assert_eq!(
        svc("pay_a").actuators,
        [ActuatorModel::BalanceHaproxy {
            socket: lit("127.0.0.1:9999"),
            backend: lit("be_pay"),
        }]
    );
    assert!(svc("pay_a").balancer().is_some() && svc("pay_a").scaler().is_none());
    assert!(svc("cart").actuators.is_empty());
}

#[test]
fn remedy_rails_reach_the_remedy_model() {
    let m = model(&format!(
        "{REAL}remedy r {{\n  when p99(shop.checkout) > 400ms for 1m\n  do scale shop.checkout to 8\n  mode advise\n  verify within 90s\n  require approval\n  step at most 4 per 1m\n}}\n{SCENARIO}"
    ));
    let r = &m.remedies[0];
    assert_eq!(r.mode, Some(RemedyMode::Advise));
    assert_eq!(r.verify_within.map(|d| d.0), Some(90_000.0));
    assert!(r.require_approval);
    assert_eq!(r.step_per_minute, Some(4));
    assert!(matches!(r.actions[0], ActionModel::ScaleTo { to: 8, .. }));

    // Without them: nothing declared, the engine's defaults apply.
    let m = model(&format!(
        "{REAL}remedy r {{\n  when p99(shop.checkout) > 400ms\n  do scale shop.checkout by 1\n  mode act\n  step at most 2 per 30s\n}}\n{SCENARIO}"
    ));
    let r = &m.remedies[0];
    assert_eq!(r.mode, Some(RemedyMode::Act));
    assert_eq!(r.verify_within, None);
    assert!(!r.require_approval);
    assert_eq!(r.step_per_minute, Some(4), "2 per 30s is 4 per minute");
}

#[test]
fn the_builtin_demo_shop_scales_through_its_admin_api_implicitly() {
    let text = format!(
        "system shop {{ builtin demo_shop  service checkout {{ route POST \"/checkout\" }} }}\n\
         remedy r {{\n  when p99(shop.checkout) > 400ms\n  do scale shop.checkout by +2\n}}\n{SCENARIO}"
    );
    let m = model(&text);
    assert!(m.systems[0].services[0].actuators.is_empty());
    // Declared explicitly, with bounds.
    let text = text.replace(
        "route POST \"/checkout\" }",
        "route POST \"/checkout\"  scale via admin within 2..12 }",
    );
    let m = model(&text);
    assert_eq!(
        m.systems[0].services[0].actuators,
        [ActuatorModel::ScaleAdmin {
            within: Some((2, 12))
        }]
    );
}

#[test]
fn an_action_without_an_actuator_is_an_error_on_the_action() {
    let text = format!(
        "{REAL}remedy r {{\n  when p99(shop.cart) > 400ms\n  do scale shop.cart by +2\n  do shift 20% from shop.pay_b to shop.pay_a\n  do failover shop.cart to \"backup\"\n  do shift 20% from shop.pay_a to shop.pay_b\n}}\n{SCENARIO}"
    );
    let e = errors(&text);
    let got: Vec<(Code, &str)> = e.iter().map(|(c, s, _)| (*c, s.as_str())).collect();
    assert_eq!(
        got,
        [
            (Code::Missing, "shop.cart"),
            (Code::Missing, "shop.pay_b"),
            (Code::Missing, "shop.cart"),
        ],
        "{e:?}"
    );
    assert!(e[0].2.contains("no `scale via`"), "{}", e[0].2);
    assert!(e[1].2.contains("no `balance via`"), "{}", e[1].2);
}

#[test]
fn a_template_remedy_is_checked_where_it_is_instantiated() {
    let text = format!(
        "import \"std/remedies\" {{ shift_traffic, scale_out }}\n{REAL}\
         remedy r = shift_traffic(from: shop.pay_b, to: shop.pay_a)\n\
         remedy ok = shift_traffic(from: shop.pay_a, to: shop.pay_b)\n\
         remedy grow = scale_out(target: shop.checkout)\n\
         scenario s {{\n  step a = wait 1s\n  then remediate with r, ok, grow\n}}\n"
    );
    let e = errors(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, Code::Missing);
    assert!(
        e[0].1.starts_with("shift_traffic(from: shop.pay_b"),
        "{e:?}"
    );
    assert!(
        e[0].2.contains("in `shift_traffic`") && e[0].2.contains("shop.pay_b"),
        "{e:?}"
    );
}

#[test]
fn bad_actuator_arguments_are_errors_with_spans() {
    let cases: &[(&str, Code, &str)] = &[
        ("scale via admin", Code::Conflict, "scale via admin"),
        ("scale via exec \"a\" read \"b\"", Code::Missing, "\"a\""),
        (
            "scale via exec \"a {instances}\" read \"b\" within 5..2",
            Code::OutOfRange,
            "5..2",
        ),
        (
            "scale via exec \"a {instances}\" read \"b\" within 0..2",
            Code::OutOfRange,
            "0",
        ),
        (
            "balance via haproxy \"nowhere\" backend \"b\"",
            Code::OutOfRange,
            "\"nowhere\"",
        ),
        (
            "balance via haproxy \"/run/h.sock\" backend \"\"",
            Code::OutOfRange,
            "\"\"",
        ),
        (
            "balance via haproxy \"/a\" backend \"b\"  balance via haproxy \"/a\" backend \"c\"",
            Code::Conflict,
            "balance via haproxy \"/a\" backend \"c\"",
        ),
    ];
    for (stmt, code, span) in cases {
        let text = format!(
            "system shop {{ base \"http://127.0.0.1:1\"  service a {{ route GET \"/\"  {stmt} }} }}\n"
        );
        let e = errors(&text);
        assert_eq!(e.len(), 1, "{stmt}: {e:?}");
        assert_eq!((e[0].0, e[0].1.as_str()), (*code, *span), "{stmt}: {e:?}");
    }
}

#[test]
fn bad_remedy_rails_are_errors_with_spans() {
    let cases: &[(&str, Code, &str)] = &[
        ("mode sometimes", Code::UnknownOption, "sometimes"),
        ("mode act  mode advise", Code::Conflict, "mode advise"),
        ("verify within 0s", Code::OutOfRange, "0s"),
        ("verify within 5%", Code::UnitMismatch, "5%"),
        (
            "require approval  require approval",
            Code::Conflict,
            "require approval",
        ),
        ("step at most 1 per 7m", Code::OutOfRange, "7m"),
        ("step at most 0 per 1m", Code::OutOfRange, "0"),
        ("do scale shop.checkout to 20", Code::OutOfRange, "20"),
    ];
    for (stmt, code, span) in cases {
        let text = format!(
            "{REAL}remedy r {{\n  when p99(shop.checkout) > 400ms\n  do scale shop.checkout by 1\n  {stmt}\n}}\n{SCENARIO}"
        );
        let e = errors(&text);
        assert_eq!(e.len(), 1, "{stmt}: {e:?}");
        assert_eq!((e[0].0, e[0].1.as_str()), (*code, *span), "{stmt}: {e:?}");
    }
}

#[test]
fn the_new_keywords_stay_usable_as_names() {
    // `balance` names the remedy below, `admin` the service.
    let words = [
        "mode", "verify", "require", "approval", "within", "read", "haproxy", "backend",
    ];
    let mut text = String::new();
    for w in words {
        text.push_str(&format!("param {w} = 2\n"));
    }
    text.push_str(
        "system shop {\n  builtin demo_shop\n  service admin { route GET \"/a\"  scale via admin within mode..12 }\n}\n\
         remedy balance {\n  when p99(shop.admin) > 400ms\n  do scale shop.admin to verify + require + approval + within + read + backend + haproxy - mode\n}\n\
         scenario s {\n  step a = wait 1s\n  then remediate with balance\n}\n",
    );
    let m = model(&text);
    assert_eq!(
        m.systems[0].services[0].actuators,
        [ActuatorModel::ScaleAdmin {
            within: Some((2, 12))
        }]
    );
    assert!(matches!(
        m.remedies[0].actions[0],
        ActionModel::ScaleTo { to: 12, .. }
    ));
}
