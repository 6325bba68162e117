//! `res demo serve`: the embedded demo shop ([`crate::demo`]) on real ports, until a stop
//! signal.

use clap::Subcommand;

use crate::exit::Exit;
use crate::shutdown::Shutdown;

#[derive(Debug, Subcommand)]
pub enum DemoAction {
    /// Serve the demo shop until Ctrl-C, SIGTERM, SIGHUP or SIGQUIT.
    Serve {
        /// Port of the main listener (catalog, checkout, admin); 0 picks a free one.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Port of payments (the upstream in scenarios/demo.res); 0 picks a free one.
        #[arg(long, default_value_t = 9101)]
        payments_port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Workers of a service: --capacity checkout=6 (repeatable, or comma-separated).
        #[arg(long = "capacity", value_name = "SERVICE=N")]
        capacity: Vec<String>,
        /// Seed of the service-time draws.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

pub fn run(action: DemoAction) -> Exit {
    let DemoAction::Serve {
        port,
        payments_port,
        host,
        capacity,
        seed,
    } = action;
    let mut config = crate::demo::DemoConfig {
        host,
        port,
        payments_port,
        seed,
        ..Default::default()
    };
    for setting in &capacity {
        if let Err(e) = config.capacity.apply_setting(setting) {
            return super::fail(Exit::Invalid, format!("--capacity {setting}: {e}"));
        }
    }
    let runtime = match crate::runtime::multi_thread(None) {
        Ok(runtime) => runtime,
        Err(e) => return super::fail(Exit::Tool, e),
    };
    runtime.block_on(async {
        let shutdown = match Shutdown::listen() {
            Ok(s) => s,
            Err(e) => return super::fail(Exit::Tool, format!("cannot listen for signals: {e}")),
        };
        let shop = match crate::demo::start(config).await {
            Ok(shop) => shop,
            Err(e) => return super::fail(Exit::Tool, format!("cannot start the demo shop: {e}")),
        };
        let c = shop.capacities();
        println!(
            "demo shop  http://{}  (catalog, checkout, admin)",
            shop.addr()
        );
        println!("payments   http://{}", shop.payments_addr());
        println!(
            "capacity   catalog {}, checkout {}, payments {}",
            c.catalog, c.checkout, c.payments
        );
        println!("press Ctrl-C to stop");
        shutdown.requested("").await;
        shop.shutdown().await;
        Exit::Ok
    })
}
