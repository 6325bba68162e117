//! Network faults inside a network namespace that `res` creates, so that undoing them is one
//! command: deleting the namespace.
//!
//! [`Netns::create`] makes namespace `res-XXXX` and a veth pair, `res-XXXXh` on the host and
//! `res-XXXXn` inside, addressed from a private /30 that no route of the host uses. Traffic
//! between the host and whatever runs in the namespace crosses the pair, and the faults sit on
//! it: packet loss as an nftables rule inside the namespace (`numgen random mod 10000 < N
//! drop`, both directions), a bandwidth limit as a `tbf` qdisc on both ends. Deleting the
//! namespace deletes the namespace end, which deletes its peer, the qdiscs and the rules: a
//! crash can leave nothing behind that `res recover` cannot remove with `ip netns delete`.
//!
//! netem is not used for loss or rate: many kernels (this project's CI among them) ship
//! without `sch_netem`. What the kernel lacks is found by trying and reading the error, and
//! reported by name.

use std::net::Ipv4Addr;
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::chaos::error::{ChaosError, Result};

/// The nftables table a loss fault adds inside the namespace.
pub const LOSS_TABLE: &str = "res_loss";

/// A namespace created by `res`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Netns {
    pub name: String,
    /// The veth end on the host.
    pub host_if: String,
    /// The veth end inside the namespace.
    pub ns_if: String,
    pub host_addr: Ipv4Addr,
    pub ns_addr: Ipv4Addr,
}

/// Runs a command; `Err` carries stderr. A missing binary is a [`ChaosError::Tool`] with the
/// package to install.
fn run(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program).args(args).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            let package = match program {
                "nft" => "nftables",
                _ => "iproute2",
            };
            ChaosError::Tool(format!(
                "`{program}` is not installed; network faults need it (apt-get install {package})"
            ))
        } else {
            ChaosError::io(format!("cannot run `{program}`"), e)
        }
    })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(classify(
            program,
            args,
            String::from_utf8_lossy(&out.stderr).trim(),
        ))
    }
}

fn classify(program: &str, args: &[&str], stderr: &str) -> ChaosError {
    let line = format!("`{program} {}`", args.join(" "));
    // `ip netns exec NS tc …` fails the way `tc …` does.
    let program = match args {
        ["netns", "exec", _, inner, ..] => inner,
        _ => program,
    };
    let lower = stderr.to_ascii_lowercase();
    if lower.contains("operation not permitted") || lower.contains("permission denied") {
        return ChaosError::Permission(format!(
            "{line} failed ({stderr}); network faults need root (CAP_NET_ADMIN and CAP_SYS_ADMIN)"
        ));
    }
    if program == "tc"
        && (lower.contains("qdisc kind is unknown") || lower.contains("unknown qdisc"))
    {
        let kind = args
            .iter()
            .find(|a| ["netem", "tbf", "htb"].contains(a))
            .copied()
            .unwrap_or("the qdisc");
        let hint = match kind {
            "netem" => "; use `latency` on the fault proxy instead",
            "tbf" => "; use `bandwidth` on the fault proxy instead",
            _ => "",
        };
        return ChaosError::KernelMissing(format!("the kernel has no sch_{kind}{hint}"));
    }
    if program == "nft"
        && (lower.contains("no such file or directory") || lower.contains("not supported"))
    {
        return ChaosError::KernelMissing(format!(
            "the kernel's nftables lacks what `loss` needs (nf_tables with numgen): {line} failed: {stderr}"
        ));
    }
    ChaosError::Tool(format!("{line} failed: {stderr}"))
}

fn netns_exec<'a>(ns: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["netns", "exec", ns];
    v.extend_from_slice(rest);
    v
}

impl Netns {
    /// A fresh name, `res-` and four hex digits.
    pub fn fresh_name() -> String {
        format!("res-{:04x}", rand::random::<u16>())
    }

    /// Creates namespace `name` with its veth pair and addresses. On failure whatever was made
    /// is deleted again.
    pub fn create(name: &str) -> Result<Netns> {
        let (host_addr, ns_addr) = free_slash30()?;
        let ns = Netns {
            name: name.to_string(),
            host_if: format!("{name}h"),
            ns_if: format!("{name}n"),
            host_addr,
            ns_addr,
        };
        if let Err(e) = ns.build() {
            let _ = delete(name);
            return Err(e);
        }
        Ok(ns)
    }

    fn build(&self) -> Result<()> {
        let (name, h, n) = (
            self.name.as_str(),
            self.host_if.as_str(),
            self.ns_if.as_str(),
        );
        let host_cidr = format!("{}/30", self.host_addr);
        let ns_cidr = format!("{}/30", self.ns_addr);
        run("ip", &["netns", "add", name])?;
        run(
            "ip",
            &[
                "link", "add", h, "type", "veth", "peer", "name", n, "netns", name,
            ],
        )?;
        run("ip", &["addr", "add", &host_cidr, "dev", h])?;
        run("ip", &["link", "set", h, "up"])?;
        run("ip", &["-n", name, "addr", "add", &ns_cidr, "dev", n])?;
        run("ip", &["-n", name, "link", "set", n, "up"])?;
        run("ip", &["-n", name, "link", "set", "lo", "up"])?;
        Ok(())
    }

    /// Drops `percent` (0..=100, two decimals) of packets in both directions.
    pub fn set_loss(&self, percent: f64) -> Result<()> {
        if !(0.0..=100.0).contains(&percent) {
            return Err(ChaosError::Invalid(format!(
                "loss must be between 0% and 100%, got {percent}%"
            )));
        }
        let basis = ((percent * 100.0).round() as u32).to_string();
        let ns = self.name.as_str();
        let _ = self.clear_loss();
        run(
            "ip",
            &netns_exec(ns, &["nft", "add", "table", "inet", LOSS_TABLE]),
        )?;
        for (chain, hook) in [("in", "input"), ("out", "output")] {
            let spec = format!("{{ type filter hook {hook} priority 0; policy accept; }}");
            run(
                "ip",
                &netns_exec(
                    ns,
                    &["nft", "add", "chain", "inet", LOSS_TABLE, chain, &spec],
                ),
            )?;
            run(
                "ip",
                &netns_exec(
                    ns,
                    &[
                        "nft", "add", "rule", "inet", LOSS_TABLE, chain, "numgen", "random", "mod",
                        "10000", "<", &basis, "counter", "drop",
                    ],
                ),
            )?;
        }
        Ok(())
    }

    /// Removes the loss rules (idempotent).
    pub fn clear_loss(&self) -> Result<()> {
        clear_loss(&self.name)
    }

    /// Packets dropped so far by the loss rules.
    pub fn dropped_packets(&self) -> Result<u64> {
        let out = run(
            "ip",
            &netns_exec(&self.name, &["nft", "list", "table", "inet", LOSS_TABLE]),
        )?;
        Ok(out
            .split("packets ")
            .skip(1)
            .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .sum())
    }

    /// Limits both directions to `bytes_per_sec` with a token bucket (tbf).
    pub fn set_bandwidth(&self, bytes_per_sec: f64) -> Result<()> {
        if !(bytes_per_sec.is_finite() && bytes_per_sec >= 125.0) {
            return Err(ChaosError::Invalid(format!(
                "bandwidth must be at least 125 B/s (1 kbit/s), got {bytes_per_sec}"
            )));
        }
        let bits = format!("{}bit", (bytes_per_sec * 8.0) as u64);
        // A burst of at least one MTU-sized packet and ~10 ms of traffic.
        let burst = format!("{}", ((bytes_per_sec / 100.0) as u64).max(4096));
        let ns = self.name.as_str();
        // The same token bucket on the namespace's end (from inside it) and on the host's.
        for (program, mut args, dev) in [
            ("ip", vec!["netns", "exec", ns, "tc"], self.ns_if.as_str()),
            ("tc", vec![], self.host_if.as_str()),
        ] {
            args.extend([
                "qdisc", "replace", "dev", dev, "root", "tbf", "rate", &bits, "burst", &burst,
                "latency", "200ms",
            ]);
            run(program, &args)?;
        }
        Ok(())
    }

    /// Adds fixed delay with netem when the kernel has it; otherwise says what to use instead.
    pub fn set_latency(&self, ms: f64) -> Result<()> {
        let delay = format!("{ms}ms");
        run(
            "ip",
            &netns_exec(
                &self.name,
                &[
                    "tc",
                    "qdisc",
                    "replace",
                    "dev",
                    &self.ns_if,
                    "root",
                    "netem",
                    "delay",
                    &delay,
                ],
            ),
        )
        .map(|_| ())
    }

    /// Removes qdiscs from both ends (idempotent).
    pub fn clear_shaping(&self) -> Result<()> {
        clear_shaping(&self.name, &self.host_if, &self.ns_if)
    }

    pub fn delete(&self) -> Result<()> {
        delete(&self.name)
    }
}

/// Deletes namespace `name`; one that is already gone counts as deleted.
pub fn delete(name: &str) -> Result<()> {
    // Deleting the host end removes the pair at once; the namespace's own teardown is
    // asynchronous in the kernel and would leave the host end visible for a moment.
    let _ = run("ip", &["link", "del", &format!("{name}h")]);
    match run("ip", &["netns", "delete", name]) {
        Ok(_) => Ok(()),
        Err(ChaosError::Tool(msg))
            if msg.contains("No such file")
                || msg.contains("Cannot remove")
                || msg.contains("Cannot open") =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

pub fn clear_loss(ns: &str) -> Result<()> {
    if !exists(ns) {
        return Ok(());
    }
    match run(
        "ip",
        &netns_exec(ns, &["nft", "delete", "table", "inet", LOSS_TABLE]),
    ) {
        Ok(_) => Ok(()),
        Err(ChaosError::Tool(_)) | Err(ChaosError::KernelMissing(_)) => Ok(()), // no such table
        Err(e) => Err(e),
    }
}

pub fn clear_shaping(ns: &str, host_if: &str, ns_if: &str) -> Result<()> {
    if exists(ns) {
        let _ = run(
            "ip",
            &netns_exec(ns, &["tc", "qdisc", "del", "dev", ns_if, "root"]),
        );
    }
    let _ = run("tc", &["qdisc", "del", "dev", host_if, "root"]);
    Ok(())
}

/// Whether namespace `name` exists.
pub fn exists(name: &str) -> bool {
    std::path::Path::new("/run/netns").join(name).exists()
}

/// A /30 in 10.213.0.0/16 that overlaps no address or route of the host: (host, namespace).
fn free_slash30() -> Result<(Ipv4Addr, Ipv4Addr)> {
    let routes = run("ip", &["-4", "route", "show", "table", "all"])?;
    let addrs = run("ip", &["-4", "-o", "addr", "show"])?;
    let taken: Vec<(u32, u32)> = routes
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .chain(addrs.lines().filter_map(|l| l.split_whitespace().nth(3)))
        .filter_map(parse_cidr)
        .collect();
    for _ in 0..64 {
        let block =
            u32::from(Ipv4Addr::new(10, 213, 0, 0)) | (u32::from(rand::random::<u16>()) & 0xfffc);
        // Two prefixes overlap when they agree on the shorter one's bits; default routes
        // (length 0) are not "taken".
        let overlaps = taken.iter().any(|&(net, len)| {
            let l = len.min(30);
            let m = u32::MAX << (32 - l);
            len > 0 && (block & m) == (net & m)
        });
        if !overlaps {
            return Ok((Ipv4Addr::from(block + 1), Ipv4Addr::from(block + 2)));
        }
    }
    Err(ChaosError::Tool(
        "no free /30 in 10.213.0.0/16 for a res network namespace".into(),
    ))
}

fn parse_cidr(s: &str) -> Option<(u32, u32)> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, l.parse().ok()?),
        None => (s, 32),
    };
    let addr: Ipv4Addr = addr.parse().ok()?;
    (len <= 32).then_some((u32::from(addr), len))
}
