//! Shift and fail over through HAProxy's runtime API: the stats socket, over TCP
//! (`127.0.0.1:9999`) or a unix socket (a path). One command per connection, answered and
//! closed by HAProxy (its non-interactive mode), each with a 10 s deadline.
//!
//! State is read from HAProxy itself: `show servers state BACKEND` for weights and
//! administrative/operational states, and `show stat` for which servers are backups (the
//! servers-state table does not say). Changes are `set weight BACKEND/SERVER N` and
//! `set server BACKEND/SERVER state ready|drain|maint`; restoring a state read earlier sets
//! every server's weight and state back.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::actuator::{ActFuture, Actuator, Change};
use super::error::ActuatorError;
use super::state::{ActuatorState, AdminState, ServerState};

/// Every runtime-API exchange gets 10 s.
pub const SOCKET_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest answer read from the socket: a guard against a runaway peer.
const MAX_ANSWER: u64 = 4 * 1024 * 1024;

// HAProxy's srv_admin_state bits (src/server.h): forced, inherited, resolver and hostname
// maintenance; forced and inherited drain. 0x04 (configured `disabled`) is left out on
// purpose: HAProxy keeps it after `set server … state ready` while the server runs.
const ADMIN_MAINT: u32 = 0x01 | 0x02 | 0x20 | 0x40;
const ADMIN_DRAIN: u32 = 0x08 | 0x10;

/// One backend of an HAProxy, acted on through its runtime API.
#[derive(Debug, Clone)]
pub struct HaproxyBalancer {
    /// `127.0.0.1:9999` (TCP) or a path to a unix socket.
    socket: String,
    backend: String,
    timeout: Duration,
}

impl HaproxyBalancer {
    pub fn new(socket: &str, backend: &str) -> Self {
        HaproxyBalancer {
            socket: socket.to_string(),
            backend: backend.to_string(),
            timeout: SOCKET_TIMEOUT,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn backend(&self) -> &str {
        &self.backend
    }

    /// Sends one command and returns HAProxy's whole answer.
    pub async fn command(&self, line: &str) -> Result<String, ActuatorError> {
        match tokio::time::timeout(self.timeout, self.exchange(line)).await {
            Ok(r) => r,
            Err(_) => Err(ActuatorError::Timeout {
                what: format!("haproxy `{line}` on {}", self.socket),
                after: self.timeout,
            }),
        }
    }

    async fn exchange(&self, line: &str) -> Result<String, ActuatorError> {
        let unreachable = |e: std::io::Error| ActuatorError::Unreachable {
            target: format!("haproxy runtime API {}", self.socket),
            message: e.to_string(),
        };
        if self.socket.starts_with('/') || self.socket.starts_with('.') {
            let stream = tokio::net::UnixStream::connect(&self.socket)
                .await
                .map_err(unreachable)?;
            talk(stream, line).await.map_err(unreachable)
        } else {
            let stream = tokio::net::TcpStream::connect(self.socket.as_str())
                .await
                .map_err(unreachable)?;
            talk(stream, line).await.map_err(unreachable)
        }
    }

    /// Sends a command that answers nothing on success; any text is HAProxy's refusal.
    async fn order(&self, line: &str) -> Result<(), ActuatorError> {
        let answer = self.command(line).await?;
        let answer = answer.trim();
        if answer.is_empty() {
            Ok(())
        } else {
            Err(ActuatorError::Refused {
                target: format!("haproxy `{line}`"),
                message: answer.to_string(),
            })
        }
    }

    async fn set_weight(&self, server: &str, weight: u32) -> Result<(), ActuatorError> {
        self.order(&format!("set weight {}/{server} {weight}", self.backend))
            .await
    }

    async fn set_state(&self, server: &str, state: AdminState) -> Result<(), ActuatorError> {
        self.order(&format!(
            "set server {}/{server} state {}",
            self.backend,
            state.name()
        ))
        .await
    }

    async fn read_state(&self) -> Result<ActuatorState, ActuatorError> {
        let table = self
            .command(&format!("show servers state {}", self.backend))
            .await?;
        let mut servers =
            parse_servers_state(&table).map_err(|message| ActuatorError::Unreadable {
                target: format!("haproxy `show servers state {}`", self.backend),
                message,
            })?;
        if servers.is_empty() {
            return Err(ActuatorError::Unreadable {
                target: format!("haproxy backend {}", self.backend),
                message: format!("no servers (answer: {})", table.trim()),
            });
        }
        let stat = self.command("show stat").await?;
        for (name, backup) in parse_backups(&stat, &self.backend) {
            if let Some(s) = servers.iter_mut().find(|s| s.name == name) {
                s.backup = backup;
            }
        }
        Ok(ActuatorState::Servers {
            backend: self.backend.clone(),
            servers,
        })
    }
}

async fn talk<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    line: &str,
) -> std::io::Result<String> {
    stream.write_all(line.as_bytes()).await?;
    stream.write_all(b"\n").await?;
    stream.flush().await?;
    let mut answer = String::new();
    stream.take(MAX_ANSWER).read_to_string(&mut answer).await?;
    Ok(answer)
}

/// Parses `show servers state` (format version 1): a version line, a `#` header naming the
/// columns, then one line per server.
pub fn parse_servers_state(text: &str) -> Result<Vec<ServerState>, String> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let version = lines.next().ok_or("empty answer")?;
    if version != "1" {
        return Err(format!("unexpected answer: {version}"));
    }
    let header: Vec<&str> = lines
        .next()
        .and_then(|h| h.strip_prefix('#'))
        .ok_or("no column header")?
        .split_whitespace()
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or(format!("no column {name}"))
    };
    let (name_c, op_c, admin_c, weight_c) = (
        col("srv_name")?,
        col("srv_op_state")?,
        col("srv_admin_state")?,
        col("srv_uweight")?,
    );
    let mut servers = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let field = |i: usize| fields.get(i).copied().ok_or(format!("short line: {line}"));
        let number = |i: usize| -> Result<u32, String> {
            field(i)?
                .parse::<u32>()
                .map_err(|_| format!("not a number in: {line}"))
        };
        let admin_bits = number(admin_c)?;
        let admin = if admin_bits & ADMIN_MAINT != 0 {
            AdminState::Maint
        } else if admin_bits & ADMIN_DRAIN != 0 {
            AdminState::Drain
        } else {
            AdminState::Ready
        };
        servers.push(ServerState {
            name: field(name_c)?.to_string(),
            weight: number(weight_c)?,
            admin,
            // srv_op_state 2 is SRV_ST_RUNNING.
            up: number(op_c)? == 2,
            backup: false,
        });
    }
    Ok(servers)
}

/// Which servers of `backend` are backups, from `show stat`'s CSV (`pxname`, `svname`, `bck`).
fn parse_backups(csv: &str, backend: &str) -> Vec<(String, bool)> {
    let mut lines = csv.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let header: Vec<&str> = header.trim_start_matches("# ").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(px), Some(sv), Some(bck)) = (col("pxname"), col("svname"), col("bck")) else {
        return Vec::new();
    };
    lines
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f.get(px) == Some(&backend)).then_some(())?;
            let name = f.get(sv)?;
            (*name != "BACKEND" && *name != "FRONTEND")
                .then(|| (name.to_string(), f.get(bck) == Some(&"1")))
        })
        .collect()
}

impl Actuator for HaproxyBalancer {
    fn kind(&self) -> &'static str {
        "haproxy"
    }

    fn target(&self) -> String {
        format!("haproxy {} backend {}", self.socket, self.backend)
    }

    fn read(&self) -> ActFuture<'_, ActuatorState> {
        Box::pin(self.read_state())
    }

    fn apply<'a>(&'a self, change: &'a Change) -> ActFuture<'a, ()> {
        Box::pin(async move {
            match change {
                Change::SetWeights { weights } => {
                    for (server, weight) in weights {
                        self.set_weight(server, *weight).await?;
                    }
                    Ok(())
                }
                Change::SetStates { states } => {
                    for (server, state) in states {
                        self.set_state(server, *state).await?;
                    }
                    Ok(())
                }
                other => Err(ActuatorError::Unsupported {
                    actuator: self.kind().into(),
                    change: other.summary(),
                }),
            }
        })
    }

    fn restore<'a>(&'a self, before: &'a ActuatorState) -> ActFuture<'a, ()> {
        Box::pin(async move {
            let ActuatorState::Servers { servers, .. } = before else {
                return Err(ActuatorError::Unsupported {
                    actuator: self.kind().into(),
                    change: format!("restore {}", before.summary()),
                });
            };
            for s in servers {
                self.set_weight(&s.name, s.weight).await?;
            }
            // Servers coming back into service first, so the backend is never left with none.
            for s in servers.iter().filter(|s| s.admin == AdminState::Ready) {
                self.set_state(&s.name, s.admin).await?;
            }
            for s in servers.iter().filter(|s| s.admin != AdminState::Ready) {
                self.set_state(&s.name, s.admin).await?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_servers_state() {
        let text = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight\n\
                    3 checkout 1 a 127.0.0.1 2 0 100 100\n\
                    3 checkout 2 b 127.0.0.1 2 8 50 100\n\
                    3 checkout 3 spare 127.0.0.1 0 5 1 1\n\
                    3 checkout 4 back 127.0.0.1 2 4 1 1\n";
        let s = parse_servers_state(text).unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(
            (s[0].weight, s[0].admin, s[0].up),
            (100, AdminState::Ready, true)
        );
        assert_eq!((s[1].weight, s[1].admin), (50, AdminState::Drain));
        assert_eq!((s[2].admin, s[2].up), (AdminState::Maint, false));
        // Configured `disabled`, then set ready: running, the config bit stays.
        assert_eq!((s[3].admin, s[3].up), (AdminState::Ready, true));
        assert!(parse_servers_state("Can't find backend.\n").is_err());
    }

    #[test]
    fn parses_backups_from_stat() {
        let csv = "# pxname,svname,qcur,bck\nfe,FRONTEND,0,\ncheckout,a,0,0\ncheckout,spare,0,1\ncheckout,BACKEND,0,1\n";
        assert_eq!(
            parse_backups(csv, "checkout"),
            vec![("a".to_string(), false), ("spare".to_string(), true)]
        );
    }
}
