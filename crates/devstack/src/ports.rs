//! The components' TCP ports: fixed ones as given, free ones picked before their component
//! starts, and, when a start fails, whether it failed because another process took a port
//! picked free in between (then [`crate::Stack::start`] starts again on newly picked ports).

use std::net::TcpListener;
use std::path::Path;

use anyhow::Result;

/// TCP ports of the components; 0 picks a free port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// anvil's JSON-RPC.
    pub anvil: u16,
    /// The API.
    pub api: u16,
    /// localstripe.
    pub stripe: u16,
    /// PostgreSQL.
    pub postgres: u16,
    /// The indexer's Prometheus `/metrics`.
    pub indexer_metrics: u16,
}

impl Ports {
    /// Every port picked free at start (tests).
    pub const FREE: Self = Self {
        anvil: 0,
        api: 0,
        stripe: 0,
        postgres: 0,
        indexer_metrics: 0,
    };
    /// The fixed ports of `make up`: anvil 8545, API 8080, localstripe 8420, Postgres 54329,
    /// indexer metrics 9102.
    pub const MAKE_UP: Self = Self {
        anvil: 8545,
        api: 8080,
        stripe: 8420,
        postgres: 54329,
        indexer_metrics: 9102,
    };

    /// `(component, port)` pairs.
    pub const fn named(&self) -> [(&'static str, u16); 5] {
        [
            ("anvil", self.anvil),
            ("API", self.api),
            ("localstripe", self.stripe),
            ("PostgreSQL", self.postgres),
            ("indexer metrics", self.indexer_metrics),
        ]
    }
}

pub(crate) fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// An error naming the component if `port` cannot be bound on 127.0.0.1.
pub fn check_port_free(component: &str, port: u16) -> Result<()> {
    TcpListener::bind(("127.0.0.1", port))
        .map(drop)
        .map_err(|e| anyhow::anyhow!("port {port} ({component}) is not available: {e}"))
}

/// The ports to use: the fixed ones as given, a port from `free` for each 0.
pub(crate) fn resolve(ports: Ports, free: &mut impl FnMut() -> Result<u16>) -> Result<Ports> {
    let mut pick = |p: u16| if p == 0 { free() } else { Ok(p) };
    Ok(Ports {
        anvil: pick(ports.anvil)?,
        api: pick(ports.api)?,
        stripe: pick(ports.stripe)?,
        postgres: pick(ports.postgres)?,
        indexer_metrics: pick(ports.indexer_metrics)?,
    })
}

/// How many times [`Stack::start`] starts the stack on newly picked free ports when one of
/// them was taken by another process between being picked and being bound.
pub(crate) const PORT_ATTEMPTS: usize = 3;

/// The component (as named in the error) whose port was already in use when it tried to bind
/// it, if that is why the start failed. Every component exits when it cannot bind its port,
/// and says so in its log (`<log_dir>/<name>.log`): "Address already in use" (anvil, the API,
/// the indexer, PostgreSQL), "address already in use" (localstripe). The whole log is read:
/// the error quotes only its end, which a backtrace may fill.
pub(crate) fn port_in_use(e: &anyhow::Error, log_dir: &Path) -> Option<&'static str> {
    let text = format!("{e:#}");
    let name = ["anvil", "api", "localstripe", "postgres", "indexer"]
        .into_iter()
        .find(|name| text.contains(&format!("{name} exited")))?;
    let log = std::fs::read(log_dir.join(format!("{name}.log"))).unwrap_or_default();
    let in_use = |t: &str| t.to_ascii_lowercase().contains("address already in use");
    (in_use(&text) || in_use(&String::from_utf8_lossy(&log))).then_some(name)
}

/// Whether component `name` (as in [`port_in_use`]) was given a free port (0) in `requested`.
pub(crate) fn was_free(requested: Ports, name: &str) -> bool {
    let port = match name {
        "anvil" => requested.anvil,
        "api" => requested.api,
        "localstripe" => requested.stripe,
        "postgres" => requested.postgres,
        "indexer" => requested.indexer_metrics,
        _ => return false,
    };
    port == 0
}
