//! The typed syntax tree of one `.res` file. Every node carries the byte span it came from.
//!
//! The tree is what was written, not what it means: names are unresolved, units unchecked.
//! The checker (src/check) turns it into a Model; the formatter prints it back canonically.

use crate::diagnostic::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A string literal: the unescaped value and the span of the whole literal with its quotes.
#[derive(Debug, Clone, PartialEq)]
pub struct Str {
    pub value: String,
    pub span: Span,
}

/// A statement of kind `K` with the span of the whole statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt<K> {
    pub kind: K,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    pub items: Vec<Item>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Import(Import),
    Param(Param),
    Data(Data),
    System(System),
    Traffic(Traffic),
    Fault(Fault),
    Window(Window),
    Event(Event),
    Slo(Slo),
    Abort(Abort),
    Remedy(Remedy),
    Scenario(Scenario),
    Template(Template),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Import(x) => x.span,
            Item::Param(x) => x.span,
            Item::Data(x) => x.span,
            Item::System(x) => x.span,
            Item::Traffic(x) => x.span,
            Item::Fault(x) => x.span,
            Item::Window(x) => x.span,
            Item::Event(x) => x.span,
            Item::Slo(x) => x.span,
            Item::Abort(x) => x.span,
            Item::Remedy(x) => x.span,
            Item::Scenario(x) => x.span,
            Item::Template(x) => x.span,
        }
    }

    /// The declared name, for items that declare one.
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Item::Import(_) | Item::Abort(_) => None,
            Item::Param(x) => Some(&x.name),
            Item::Data(x) => Some(&x.name),
            Item::System(x) => Some(&x.name),
            Item::Traffic(x) => Some(&x.name),
            Item::Fault(x) => Some(&x.name),
            Item::Window(x) => Some(&x.name),
            Item::Event(x) => Some(&x.name),
            Item::Slo(x) => Some(&x.name),
            Item::Remedy(x) => Some(&x.name),
            Item::Scenario(x) => Some(&x.name),
            Item::Template(x) => Some(&x.name),
        }
    }

    /// The keyword that introduces the item, as users write it.
    pub fn keyword(&self) -> &'static str {
        match self {
            Item::Import(_) => "import",
            Item::Param(_) => "param",
            Item::Data(_) => "data",
            Item::System(_) => "system",
            Item::Traffic(_) => "traffic",
            Item::Fault(_) => "fault",
            Item::Window(_) => "window",
            Item::Event(_) => "event",
            Item::Slo(_) => "slo",
            Item::Abort(_) => "abort",
            Item::Remedy(_) => "remedy",
            Item::Scenario(_) => "scenario",
            Item::Template(_) => "template",
        }
    }
}

// ----------------------------------------------------------------------------------------------
// import, param, data

#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub path: Str,
    pub names: Vec<ImportName>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportName {
    pub name: Ident,
    pub alias: Option<Ident>,
}

impl ImportName {
    /// The name the importing file uses.
    pub fn local(&self) -> &Ident {
        self.alias.as_ref().unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    pub name: Ident,
    pub path: Str,
    pub format: Option<Ident>,
    pub order: Option<Ident>,
    pub span: Span,
}

// ----------------------------------------------------------------------------------------------
// system and service

#[derive(Debug, Clone, PartialEq)]
pub struct System {
    pub name: Ident,
    pub stmts: Vec<Stmt<SystemStmt>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SystemStmt {
    Builtin(Ident),
    Base(Expr),
    Header(Header),
    Timeout(Expr),
    Protocol(Ident),
    /// `metrics prometheus URL`
    MetricsPrometheus(Expr),
    /// `query QUANTITY "PROMQL"` for every service of the system (`$service` in it).
    Query(Query),
    Service(Service),
}

/// `query rate|p99|errors "PROMQL"`: how one quantity of the real system is read.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub quantity: Ident,
    pub promql: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub name: Str,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub name: Ident,
    pub stmts: Vec<Stmt<ServiceStmt>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ServiceStmt {
    Route(Route),
    DependsOn(Vec<Ident>),
    Upstream(Expr),
    Process(ProcessRef),
    Header(Header),
    Timeout(Expr),
    Capacity(Expr),
    /// `scale via admin|exec "SET" read "READ" [within LO..HI]`
    ScaleVia {
        via: ScaleVia,
        within: Option<(Expr, Expr)>,
    },
    /// `balance via haproxy SOCKET backend NAME`
    BalanceHaproxy {
        socket: Expr,
        backend: Expr,
    },
    /// `balance via proxy ADMIN_URL`: res's splitting proxy (`res proxy serve`)
    BalanceProxy {
        admin: Expr,
    },
    /// `query QUANTITY "PROMQL"` for this service.
    Query(Query),
}

/// How `scale via` changes the instance count.
#[derive(Debug, Clone, PartialEq)]
pub enum ScaleVia {
    /// The embedded demo shop's admin API.
    Admin,
    /// A command that sets the count (`{instances}` in it) and one that reads it back.
    Exec { set: Expr, read: Expr },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub method: Ident,
    pub path: Str,
    pub body: Option<Body>,
    pub expect_status: Vec<(String, Span)>,
    pub weight: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Json(Json),
    Size(Expr),
    Raw(Str),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProcessRef {
    Pidfile(Expr),
    Name(Expr),
    Command(Expr),
}

/// A JSON value in a request body; strings may hold `{feeder.column}` templates.
#[derive(Debug, Clone, PartialEq)]
pub struct Json {
    pub kind: JsonKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonKind {
    Object(Vec<(Str, Json)>),
    Array(Vec<Json>),
    String(String),
    Number(String),
    Bool(bool),
    Null,
}

// ----------------------------------------------------------------------------------------------
// traffic

#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    pub name: Ident,
    pub body: Body2<TrafficStmt>,
    pub span: Span,
}

/// The body of a declaration that may also be a template instantiation.
#[derive(Debug, Clone, PartialEq)]
pub enum Body2<K> {
    Block(Vec<Stmt<K>>),
    Template(Call),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TrafficStmt {
    Learn {
        path: Str,
        format: Option<Ident>,
    },
    Forecast {
        horizon: Expr,
        quantile: Option<Expr>,
        method: Option<Ident>,
    },
    Like(Ident),
    Against(Ident),
    Rate(Expr),
    Arrival(Ident),
    Ramp {
        from: Option<Expr>,
        to: Expr,
        over: Expr,
    },
    Hold {
        duration: Expr,
        at: Option<Expr>,
    },
    Mix(Vec<MixEntry>),
    Session(Session),
    Users {
        count: Expr,
        think: Option<Think>,
    },
    Scale(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MixEntry {
    pub target: Path,
    pub share: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub name: Ident,
    pub weight: Option<Expr>,
    pub visits: Vec<Stmt<Visit>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub target: Path,
    pub think: Option<Think>,
    pub repeat: Option<Expr>,
}

/// Think time: fixed, or uniform between two durations.
#[derive(Debug, Clone, PartialEq)]
pub struct Think {
    pub min: Expr,
    pub max: Option<Expr>,
}

// ----------------------------------------------------------------------------------------------
// fault

#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub name: Ident,
    pub body: Body2<FaultStmt>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FaultStmt {
    On(Target),
    Latency {
        value: Expr,
        jitter: Option<Expr>,
        per_chunk: bool,
    },
    Errors {
        status: Expr,
        rate: Option<Expr>,
    },
    Reset {
        rate: Option<Expr>,
    },
    Blackhole {
        rate: Option<Expr>,
    },
    Timeout(Expr),
    Bandwidth(Expr),
    SlowClose(Expr),
    Slice {
        size: Expr,
        delay: Option<Expr>,
    },
    Kill {
        signal: Option<Ident>,
    },
    Pause {
        duration: Option<Expr>,
    },
    Restart {
        command: Option<Expr>,
    },
    Cpu {
        cores: Expr,
        load: Option<Expr>,
    },
    Memory(Expr),
    Disk {
        size: Expr,
        path: Option<Expr>,
    },
    Fds(Expr),
    Loss(Expr),
    Toxicity(Expr),
    Match(Vec<MatchCond>),
    Toxiproxy {
        url: Expr,
        proxy: Option<Expr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Stressed {
        system: Ident,
        top: Option<Expr>,
        by: Option<Ident>,
        span: Span,
    },
    Fixed(Path),
}

#[derive(Debug, Clone, PartialEq)]
pub enum MatchCond {
    Method(Ident),
    Path(Str),
    Header { name: Str, value: Option<Expr> },
}

// ----------------------------------------------------------------------------------------------
// window, event, slo, abort, remedy

#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub name: Ident,
    pub stmts: Vec<Stmt<WindowStmt>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WindowStmt {
    Every {
        days: Vec<Ident>,
        from: Expr,
        to: Expr,
        zone: Option<(String, Span)>,
    },
    Between {
        from: Expr,
        to: Expr,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: Ident,
    pub stmts: Vec<Stmt<EventStmt>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventStmt {
    At(Expr),
    Lasts(Expr),
    Expect(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    pub name: Ident,
    pub body: Body2<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Abort {
    pub cond: Expr,
    pub for_: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Remedy {
    pub name: Ident,
    pub body: Body2<RemedyStmt>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RemedyStmt {
    When {
        predicted: bool,
        cond: Expr,
        at: Option<Expr>,
        for_: Option<Expr>,
    },
    Do(Action),
    Cooldown(Expr),
    Limit {
        count: Expr,
        per: Expr,
    },
    /// `mode act|advise`
    Mode(Ident),
    /// `verify within D`
    Verify(Expr),
    /// `require approval`
    RequireApproval,
    /// `step at most N per D`
    StepLimit {
        count: Expr,
        per: Expr,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    ScaleBy { target: Path, by: Expr },
    ScaleTo { target: Path, to: Expr },
    Shift { amount: Expr, from: Path, to: Path },
    Failover { target: Path, to: Expr },
    Exec(Expr),
    Webhook(Expr),
}

// ----------------------------------------------------------------------------------------------
// scenario

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: Ident,
    pub stmts: Vec<Stmt<ScenarioStmt>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ScenarioStmt {
    In(Vec<WindowRef>),
    Step(Step),
    Expect {
        cond: Expr,
        scope: Option<ExpectScope>,
    },
    Abort(Abort),
    Record,
    Predict {
        at: Option<Expr>,
    },
    Remediate(Vec<Ident>),
    /// `skip when COND`: the orchestrator's guard against the real system's current metrics.
    SkipWhen(Expr),
    /// `runs at most N per window`: how many runs the orchestrator may start in one
    /// occurrence of a window (one when not said).
    RunsPerWindow(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum WindowRef {
    Window(Ident),
    Before(Ident),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExpectScope {
    During(Ident),
    After(Ident),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub name: Ident,
    pub action: StepAction,
    pub timing: Vec<Timing>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepAction {
    Load { traffic: Ident, at: Option<Expr> },
    Inject(Ident),
    Wait(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Timing {
    After {
        point: StepPoint,
        offset: Option<Expr>,
        span: Span,
    },
    With {
        point: StepPoint,
        offset: Option<Expr>,
        span: Span,
    },
    During {
        step: Ident,
        span: Span,
    },
    For {
        duration: Expr,
        span: Span,
    },
    At {
        offset: Expr,
        span: Span,
    },
}

impl Timing {
    pub fn span(&self) -> Span {
        match self {
            Timing::After { span, .. }
            | Timing::With { span, .. }
            | Timing::During { span, .. }
            | Timing::For { span, .. }
            | Timing::At { span, .. } => *span,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Start,
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepPoint {
    pub step: Ident,
    /// `main.start` or `main.end`; `None` means the default for the relation.
    pub edge: Option<Edge>,
}

// ----------------------------------------------------------------------------------------------
// templates

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: Ident,
    pub params: Vec<TemplateParam>,
    pub body: TemplateBody,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TemplateBody {
    Fault(Vec<Stmt<FaultStmt>>),
    Traffic(Vec<Stmt<TrafficStmt>>),
    Slo(Vec<Stmt<Expr>>),
    Remedy(Vec<Stmt<RemedyStmt>>),
}

impl TemplateBody {
    pub fn kind(&self) -> &'static str {
        match self {
            TemplateBody::Fault(_) => "fault",
            TemplateBody::Traffic(_) => "traffic",
            TemplateBody::Slo(_) => "slo",
            TemplateBody::Remedy(_) => "remedy",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TemplateParam {
    pub name: Ident,
    pub ty: Ident,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub func: Ident,
    pub args: Vec<Arg>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub label: Option<Ident>,
    pub value: Expr,
}

// ----------------------------------------------------------------------------------------------
// expressions

/// A dotted name: `shop.checkout`, `everyday`.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub parts: Vec<Ident>,
    pub span: Span,
}

impl Path {
    pub fn text(&self) -> String {
        self.parts
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(".")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Lit(Lit),
    Path(Path),
    Call(Call),
    Paren(Box<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Pos,
    Not,
}

impl UnaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Pos => "+",
            UnaryOp::Not => "not ",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }

    /// Binding strength, higher binds tighter (used by the formatter to place parentheses).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div => 6,
        }
    }

    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }
}

/// A literal as written (`text`) and what it means (`value`).
#[derive(Debug, Clone, PartialEq)]
pub struct Lit {
    pub text: String,
    pub value: LitValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LitValue {
    Number(f64),
    Duration(crate::units::Duration),
    Rate(crate::units::Rate),
    Size(crate::units::Bytes),
    Bandwidth(crate::units::Bandwidth),
    Percent(crate::units::Percent),
    Multiplier(crate::units::Multiplier),
    Status(crate::units::StatusPattern),
    Timestamp(crate::units::Timestamp),
    TimeOfDay(crate::units::TimeOfDay),
    String(String),
    Bool(bool),
    /// A literal that failed to decode (already reported); checks treat it as unknown.
    Invalid,
}
