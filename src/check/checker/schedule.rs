//! Windows, events, slos and aborts: when things happen and what must hold.

use super::*;

impl<'a> Checker<'a> {
    pub(super) fn window(&mut self, w: &ast::Window, cx: &Ctx) -> WindowModel {
        let mut rules = Vec::new();
        for st in &w.stmts {
            match &st.kind {
                ast::WindowStmt::Every {
                    days,
                    from,
                    to,
                    zone,
                } => {
                    let mut mask = 0u8;
                    for d in days {
                        let bits = match d.name.as_str() {
                            "day" | "daily" => 0x7f,
                            "weekday" | "weekdays" => 0x1f,
                            "weekend" | "weekends" => 0x60,
                            "mon" => 1,
                            "tue" => 2,
                            "wed" => 4,
                            "thu" => 8,
                            "fri" => 16,
                            "sat" => 32,
                            "sun" => 64,
                            _ => {
                                self.unknown_option(
                                    d,
                                    "day",
                                    &[
                                        "day", "weekday", "weekend", "mon", "tue", "wed", "thu",
                                        "fri", "sat", "sun",
                                    ],
                                );
                                0
                            }
                        };
                        mask |= bits;
                    }
                    let from_t = self.constant(from, Ty::Time, cx, "");
                    let to_t = self.constant(to, Ty::Time, cx, "");
                    let offset = match zone {
                        Some((z, _)) if z != "UTC" => {
                            let sign = if z.starts_with('-') { -1 } else { 1 };
                            let h: i32 = z[1..3].parse().unwrap_or(0);
                            let mm: i32 = z[4..6].parse().unwrap_or(0);
                            if h > 14 || mm > 59 {
                                self.out_of_range(
                                    zone.as_ref().map_or(st.span, |z| z.1),
                                    "UTC offsets run from -14:00 to +14:00",
                                    "",
                                );
                            }
                            sign * (h * 60 + mm)
                        }
                        _ => 0,
                    };
                    if let (Some(Value::Time(f)), Some(Value::Time(t))) = (from_t, to_t) {
                        if f == t {
                            self.out_of_range(from.span.to(to.span), "this window is empty: it starts when it ends", "write `02:00..04:00`; a window may wrap past midnight, like `22:00..02:00`");
                        }
                        rules.push(WindowRule::Every {
                            days: mask,
                            from: f,
                            to: t,
                            utc_offset_min: offset,
                        });
                    }
                }
                ast::WindowStmt::Between { from, to } => {
                    let f = self.constant(
                        from,
                        Ty::Timestamp,
                        cx,
                        "windows run between two timestamps",
                    );
                    let t =
                        self.constant(to, Ty::Timestamp, cx, "windows run between two timestamps");
                    if let (Some(Value::Timestamp(f)), Some(Value::Timestamp(t))) = (f, t) {
                        if t <= f {
                            self.out_of_range(
                                st.span,
                                "this window ends before it starts",
                                "write the earlier timestamp first",
                            );
                        }
                        rules.push(WindowRule::Between { from: f, to: t });
                    }
                }
            }
        }
        if w.stmts.is_empty() {
            self.diags.push(
                Diagnostic::error(Code::Missing, self.file(), w.name.span, format!("window `{}` is never open", w.name.name))
                    .with_label("no times")
                    .with_help("add `every day 02:00..04:00 UTC` or `from 2026-12-01T00:00Z to 2026-12-02T00:00Z`"),
            );
        }
        WindowModel {
            name: w.name.name.clone(),
            rules,
            origin: Origin {
                file: self.file(),
                span: w.span,
            },
        }
    }

    pub(super) fn event(&mut self, e: &ast::Event, cx: &Ctx) -> EventModel {
        let mut m = EventModel {
            name: e.name.name.clone(),
            at: Timestamp(0),
            lasts: Duration::from_secs(86_400.0),
            expect: Multiplier(1.0),
            origin: Origin {
                file: self.file(),
                span: e.span,
            },
        };
        let mut seen = Seen::default();
        let mut has_at = false;
        for st in &e.stmts {
            match &st.kind {
                ast::EventStmt::At(x) => {
                    seen.once(self, "at", st.span);
                    has_at = true;
                    if let Some(Value::Timestamp(t)) =
                        self.constant(x, Ty::Timestamp, cx, "when the event starts")
                    {
                        m.at = t;
                    }
                }
                ast::EventStmt::Lasts(x) => {
                    seen.once(self, "lasts", st.span);
                    if let Some(d) = self.duration(x, cx, "how long the event lasts") {
                        m.lasts = d;
                    }
                }
                ast::EventStmt::Expect(x) => {
                    seen.once(self, "expect", st.span);
                    if let Some(Value::Multiplier(v)) = self.constant(
                        x,
                        Ty::Multiplier,
                        cx,
                        "the expected load, as a multiple of normal, like `4x`",
                    ) {
                        m.expect = v;
                    }
                }
            }
        }
        if !has_at {
            self.diags.push(
                Diagnostic::error(
                    Code::Missing,
                    self.file(),
                    e.name.span,
                    format!("event `{}` has no date", e.name.name),
                )
                .with_label("when?")
                .with_help("add `at 2026-11-27T00:00Z`"),
            );
        }
        m
    }

    pub(in crate::check) fn slo(
        &mut self,
        name: &ast::Ident,
        stmts: &[ast::Stmt<ast::Expr>],
        cx: &Ctx,
        _span: Span,
    ) -> Vec<Condition> {
        if stmts.is_empty() {
            self.diags.push(
                Diagnostic::error(
                    Code::Missing,
                    self.file(),
                    name.span,
                    format!("slo `{}` has no objectives", name.name),
                )
                .with_label("empty")
                .with_help("add an objective such as `p99(shop) < 400ms`"),
            );
        }
        stmts
            .iter()
            .filter_map(|s| self.condition(&s.kind, cx, Duration::ZERO))
            .collect()
    }

    pub(super) fn abort(&mut self, a: &ast::Abort, cx: &Ctx) -> Option<Condition> {
        let sustain = a
            .for_
            .as_ref()
            .map_or(Some(Duration::ZERO), |f| {
                self.duration(f, cx, "how long the condition must hold")
            })
            .unwrap_or(Duration::ZERO);
        let c = self.condition(&a.cond, cx, sustain)?;
        Some(c)
    }
}
