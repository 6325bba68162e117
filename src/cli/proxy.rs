//! `res proxy serve`: res's proxy as a weighted splitter in front of several instances, for
//! teams with no load balancer, with an admin API that `balance via proxy` remedies (and
//! people) read and change the weights and states through ([`crate::chaos::proxy::split`],
//! [`crate::chaos::proxy::admin`]).

use std::net::SocketAddr;

use clap::{Args, Subcommand};

use super::chaos::ModeArg;
use crate::chaos::proxy::split::ServerSpec;
use crate::chaos::proxy::{admin, Proxy, ProxyMode};
use crate::exit::Exit;
use crate::shutdown::Shutdown;

#[derive(Debug, Subcommand)]
pub enum ProxyCommand {
    /// Split traffic over weighted servers until Ctrl-C or SIGTERM; change weights and
    /// states through the admin API (GET /servers, POST /servers).
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where clients connect; port 0 picks a free one.
    #[arg(long)]
    pub listen: SocketAddr,
    /// A server: NAME=HOST:PORT[,weight=N][,backup][,state=ready|drain|maint] (repeatable;
    /// weight 0-256, default 100). A backup takes traffic only while no other server is
    /// ready with a weight above 0.
    #[arg(long = "server", value_name = "SPEC", required = true, value_parser = ServerSpec::parse)]
    pub servers: Vec<ServerSpec>,
    /// http: a choice per request (HTTP/1.1 and h2c); tcp: a choice per connection.
    #[arg(long, value_enum, default_value = "http")]
    pub mode: ModeArg,
    /// The admin API's address (no authentication: keep it on 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub admin: SocketAddr,
    /// Let the admin API listen on an address other than loopback. Anyone who reaches it can
    /// move all the traffic.
    #[arg(long)]
    pub admin_any_address: bool,
}

pub fn run(command: ProxyCommand) -> Exit {
    let ProxyCommand::Serve(args) = command;
    if !args.admin.ip().is_loopback() && !args.admin_any_address {
        return super::fail(
            Exit::Invalid,
            format!(
                "--admin {}: the admin API has no authentication, so it listens on loopback only; add --admin-any-address to listen there anyway",
                args.admin
            ),
        );
    }
    let mode = match args.mode {
        ModeArg::Tcp => ProxyMode::Tcp,
        ModeArg::Http => ProxyMode::Http,
    };
    let runtime = match crate::runtime::multi_thread(None) {
        Ok(r) => r,
        Err(e) => return super::fail(Exit::Tool, e),
    };
    runtime.block_on(async move {
        let shutdown = match Shutdown::listen() {
            Ok(s) => s,
            Err(e) => return super::fail(Exit::Tool, format!("cannot listen for signals: {e}")),
        };
        let proxy = match Proxy::start_split(args.listen, &args.servers, mode).await {
            Ok(p) => p,
            Err(crate::chaos::ChaosError::UnsupportedOnProxy(e)) => {
                return super::fail(Exit::Invalid, e)
            }
            Err(e) => return super::fail(Exit::Tool, e),
        };
        let api = match admin::serve(args.admin, proxy.clone()).await {
            Ok(a) => a,
            Err(e) => return super::fail(Exit::Tool, e),
        };
        let scheme = if mode == ProxyMode::Http {
            "http"
        } else {
            "tcp"
        };
        println!("proxy  {scheme}://{}", proxy.addr());
        println!("admin  http://{}/servers", api.addr());
        for s in &args.servers {
            println!(
                "server {} {} weight {} {}{}",
                s.name,
                s.addr,
                s.weight,
                s.admin.name(),
                if s.backup { " backup" } else { "" }
            );
        }
        println!("press Ctrl-C to stop");
        shutdown.requested("").await;
        api.shutdown().await;
        proxy.shutdown().await;
        Exit::Ok
    })
}
