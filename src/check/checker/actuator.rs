//! Actuators: how a remedy may change a service (`scale via admin|exec …`, `balance via
//! haproxy|proxy …`), the checks on their arguments, and the rule that a remedy's action needs
//! one.

use super::*;

/// The one builtin target whose admin API `scale via admin` drives.
const DEMO_SHOP: &str = "demo_shop";

impl<'a> Checker<'a> {
    /// A `scale via` or `balance via` statement of a service; `None` for other statements or
    /// when an argument is wrong (already reported).
    pub(super) fn actuator(
        &mut self,
        st: &ast::Stmt<ast::ServiceStmt>,
        seen: &mut Seen,
        cx: &Ctx,
    ) -> Option<ActuatorModel> {
        match &st.kind {
            ast::ServiceStmt::ScaleVia { via, within } => {
                seen.once(self, "scale via", st.span);
                let bounds = within.as_ref().map(|(lo, hi)| self.within(lo, hi, cx));
                let model = match via {
                    ast::ScaleVia::Admin => ActuatorModel::ScaleAdmin { within: None },
                    ast::ScaleVia::Exec { set, read } => {
                        let set_v = self.string(set, cx, "the command that sets the count");
                        let read_v = self.string(read, cx, "the command that reads the count");
                        let (set_v, read_v) = (set_v?, read_v?);
                        if let StrValue::Literal { value } = &set_v {
                            if !value.contains("{instances}") {
                                self.diags.push(
                                    Diagnostic::error(
                                        Code::Missing,
                                        self.file(),
                                        set.span,
                                        "the scale command does not say where the count goes",
                                    )
                                    .with_label("no `{instances}` in it")
                                    .with_help("write `{instances}` where the new count goes, like \"kubectl scale deploy/checkout --replicas={instances}\""),
                                );
                                return None;
                            }
                        }
                        ActuatorModel::ScaleExec {
                            set: set_v,
                            read: read_v,
                            within: None,
                        }
                    }
                };
                Some(match (model, bounds) {
                    (_, Some(None)) => return None,
                    (ActuatorModel::ScaleAdmin { .. }, b) => ActuatorModel::ScaleAdmin {
                        within: b.flatten(),
                    },
                    (ActuatorModel::ScaleExec { set, read, .. }, b) => ActuatorModel::ScaleExec {
                        set,
                        read,
                        within: b.flatten(),
                    },
                    (other, _) => other,
                })
            }
            ast::ServiceStmt::BalanceHaproxy { socket, backend } => {
                seen.once(self, "balance via", st.span);
                let s = self.string(socket, cx, "HAProxy's admin socket");
                let b = self.string(backend, cx, "the HAProxy backend");
                let mut ok = true;
                if let Some(StrValue::Literal { value }) = &s {
                    let host_port = value
                        .rsplit_once(':')
                        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
                    if !(value.starts_with('/') || host_port) {
                        self.out_of_range(
                            socket.span,
                            &format!("`{value}` is neither a unix socket path nor host:port"),
                            "give the stats socket HAProxy listens on: \"/run/haproxy/admin.sock\" or \"127.0.0.1:9999\"",
                        );
                        ok = false;
                    }
                }
                if matches!(&b, Some(StrValue::Literal { value }) if value.trim().is_empty()) {
                    self.out_of_range(
                        backend.span,
                        "the backend name is empty",
                        "name the backend as HAProxy's config does, like \"be_checkout\"",
                    );
                    ok = false;
                }
                let (s, b) = (s?, b?);
                ok.then_some(ActuatorModel::BalanceHaproxy {
                    socket: s,
                    backend: b,
                })
            }
            ast::ServiceStmt::BalanceProxy { admin } => {
                seen.once(self, "balance via", st.span);
                let a = self.string(admin, cx, "the proxy's admin API URL")?;
                if let StrValue::Literal { value } = &a {
                    if let Some(problem) = admin_url_problem(value) {
                        self.out_of_range(
                            admin.span,
                            &format!("`{value}` {problem}"),
                            "give the admin API `res proxy serve` prints, like \"http://127.0.0.1:9900\"",
                        );
                        return None;
                    }
                }
                Some(ActuatorModel::BalanceProxy { admin: a })
            }
            _ => None,
        }
    }

    /// `within LO..HI`: instance bounds, 1 ≤ LO ≤ HI.
    fn within(&mut self, lo: &ast::Expr, hi: &ast::Expr, cx: &Ctx) -> Option<(u64, u64)> {
        let l = self.count(lo, cx, "the fewest instances", 1.0, 10_000.0);
        let h = self.count(hi, cx, "the most instances", 1.0, 10_000.0);
        let (l, h) = (l?, h?);
        if l > h {
            self.out_of_range(
                lo.span.to(hi.span),
                &format!("the bounds {l}..{h} are the wrong way round"),
                &format!("write the fewest instances first: `within {h}..{l}`"),
            );
            return None;
        }
        Some((l, h))
    }

    /// `scale via admin` drives the embedded demo shop only: an error on any other system.
    pub(super) fn admin_needs_demo(&mut self, s: &ast::System, target: &SystemTarget) {
        if matches!(target, SystemTarget::Builtin(b) if b == DEMO_SHOP || b.is_empty()) {
            return;
        }
        for svc in s.stmts.iter().filter_map(|st| match &st.kind {
            ast::SystemStmt::Service(svc) => Some(svc),
            _ => None,
        }) {
            for st in &svc.stmts {
                if let ast::ServiceStmt::ScaleVia {
                    via: ast::ScaleVia::Admin,
                    ..
                } = &st.kind
                {
                    self.diags.push(
                        Diagnostic::error(
                            Code::Conflict,
                            self.file(),
                            st.span,
                            format!(
                                "`scale via admin` needs `builtin demo_shop`, and `{}` is not",
                                s.name.name
                            ),
                        )
                        .with_label("only the embedded demo shop has this admin API")
                        .with_help("for a real service, declare the commands: `scale via exec \"... --replicas={instances}\" read \"...\"`"),
                    );
                }
            }
        }
    }

    /// The service a remedy scales must say how (`scale via …`), unless it is part of the
    /// builtin demo shop, which has the admin API implicitly.
    pub(super) fn needs_scaler(&mut self, at: &ast::Path, (system, service): (usize, usize)) {
        let Some(sys) = self.model.systems.get(system) else {
            return;
        };
        let demo = matches!(&sys.target, SystemTarget::Builtin(b) if b == DEMO_SHOP);
        let Some(svc) = sys.services.get(service) else {
            return;
        };
        if demo || svc.scaler().is_some() {
            return;
        }
        let name = format!("{}.{}", sys.name, svc.name);
        self.diags.push(
            Diagnostic::error(
                Code::Missing,
                self.file(),
                at.span,
                format!("`{name}` cannot be scaled: it declares no `scale via`"),
            )
            .with_label("no way to change its instance count")
            .with_help(format!(
                "add to service `{}`: `scale via exec \"... --replicas={{instances}}\" read \"...\" within 2..12`",
                svc.name
            )),
        );
    }

    /// The service a remedy shifts traffic away from, or fails over, must name its balancer.
    pub(super) fn needs_balancer(
        &mut self,
        at: &ast::Path,
        (system, service): (usize, usize),
        verb: &str,
    ) {
        let Some(sys) = self.model.systems.get(system) else {
            return;
        };
        let Some(svc) = sys.services.get(service) else {
            return;
        };
        if svc.balancer().is_some() {
            return;
        }
        let name = format!("{}.{}", sys.name, svc.name);
        self.diags.push(
            Diagnostic::error(
                Code::Missing,
                self.file(),
                at.span,
                format!("`{name}` cannot {verb}: it declares no `balance via`"),
            )
            .with_label("no load balancer to act through")
            .with_help(format!(
                "add to service `{}`: `balance via haproxy \"127.0.0.1:9999\" backend \"NAME\"`, or `balance via proxy \"http://127.0.0.1:9900\"` for `res proxy serve`",
                svc.name
            )),
        );
    }

    /// `do scale S to N` with N outside the bounds S declares: the engine would clip it, so
    /// the file says something it cannot mean.
    pub(super) fn scale_to_within(
        &mut self,
        at: &ast::Expr,
        (system, service): (usize, usize),
        to: u64,
    ) {
        let bounds = self
            .model
            .systems
            .get(system)
            .and_then(|s| s.services.get(service))
            .and_then(|s| s.scaler())
            .and_then(|a| a.within());
        if let Some((lo, hi)) = bounds {
            if to < lo || to > hi {
                self.out_of_range(
                    at.span,
                    &format!("{to} instances is outside the service's bounds {lo}..{hi}"),
                    "scale to a count inside `within`, or widen the bounds",
                );
            }
        }
    }
}

/// What is wrong with the admin URL of `balance via proxy`, if anything: it must be
/// `http://HOST:PORT`, optionally ending in `/servers`.
fn admin_url_problem(value: &str) -> Option<&'static str> {
    let Some(rest) = value.strip_prefix("http://") else {
        return Some(if value.starts_with("https://") {
            "is https: the proxy's admin API speaks plain HTTP (keep it on 127.0.0.1)"
        } else {
            "is not an http:// URL"
        });
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = path.trim_end_matches('/');
    if !(path.is_empty() || path == "servers") {
        return Some("has a path: the admin API's address is enough");
    }
    let host_port = authority.rsplit_once(':').is_some_and(|(h, p)| {
        !h.is_empty() && !h.contains(['@', ' ']) && p.parse::<u16>().is_ok_and(|p| p > 0)
    });
    (!host_port).then_some("has no host:port")
}
