//! The command lines of a private PostgreSQL server, started from the system's binaries: one
//! definition for `tangible-db`'s test cluster and the development stack's cluster.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The directory holding `initdb`, `pg_ctl` and `postgres`: `$PG_BIN_DIR`, then the newest
/// `/usr/lib/postgresql/<version>/bin`, then `PATH`.
pub fn pg_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN_DIR") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|p| p.join("postgres").exists() && p.join("initdb").exists())
    })
}

/// `initdb` of a cluster in `data`: superuser `postgres`, trust authentication, UTF-8, no
/// locale, no fsync of the new files.
pub fn initdb(bin: &Path, data: &Path) -> Command {
    let mut cmd = Command::new(bin.join("initdb"));
    cmd.arg("-D").arg(data).args([
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--no-locale",
        "--no-sync",
    ]);
    cmd
}

/// How [`server`] runs.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions<'a> {
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    /// Where the Unix socket goes.
    pub socket_dir: &'a Path,
    /// `max_connections`.
    pub max_connections: u32,
    /// Durability traded for speed (`fsync`, `synchronous_commit`, `full_page_writes` off).
    pub fast_unsafe: bool,
}

/// `postgres` on the cluster in `data`, listening on 127.0.0.1 only.
pub fn server(bin: &Path, data: &Path, options: &ServerOptions<'_>) -> Command {
    let mut cmd = Command::new(bin.join("postgres"));
    cmd.arg("-D")
        .arg(data)
        .arg("-k")
        .arg(options.socket_dir)
        .args([
            "-p",
            &options.port.to_string(),
            "-c",
            "listen_addresses=127.0.0.1",
        ])
        .args([
            "-c",
            &format!("max_connections={}", options.max_connections),
        ]);
    if options.fast_unsafe {
        cmd.args([
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ]);
    }
    cmd
}
