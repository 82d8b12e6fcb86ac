//! `tangible studio …`: a studio's commands.

use std::path::PathBuf;

use alloy::primitives::Address;
use clap::Subcommand;

/// Studio commands.
#[derive(Debug, Subcommand)]
pub enum StudioCommand {
    /// Register a studio administered by the wallet: an application that a platform admin
    /// approves (a platform admin's wallet registers at once).
    Register {
        /// Studio name.
        #[arg(long)]
        name: String,
        /// Where royalties are paid (default: the wallet).
        #[arg(long)]
        royalty: Option<Address>,
    },
    /// The wallet's studio applications and where they stand.
    Applications,
    /// Register a film of a studio.
    Film {
        /// The studio id.
        #[arg(long)]
        studio: u32,
        /// Title.
        #[arg(long)]
        title: String,
        /// Release year.
        #[arg(long)]
        year: u16,
        /// An edition and its price, `QUALITY=EUROS` (e.g. `--edition hd=9.00 --edition
        /// 4k=13.00`); it goes on sale when its master is uploaded.
        #[arg(long = "edition", value_parser = parse_edition)]
        editions: Vec<(tangible_domain::Quality, tangible_domain::Cents)>,
    },
    /// Upload the master of one quality of a film (encrypted and published by the API).
    Upload {
        /// The film id.
        film: u64,
        /// `sd`, `hd` or `4k`.
        #[arg(long, short)]
        quality: tangible_domain::Quality,
        /// Price in euros of this edition (e.g. 13.00); required if the edition was not
        /// declared with the film.
        #[arg(long)]
        price: Option<tangible_domain::Cents>,
        /// The master file.
        file: PathBuf,
    },
    /// Set the lowest price a licence of an edition can be resold at on the market (studio
    /// admin; at most half the lowest price the edition ever had; 0 removes it): a sale declared
    /// at a token price still pays the studio 15 % of the floor.
    ResaleFloor {
        /// The film id.
        film: u64,
        /// `sd`, `hd` or `4k`.
        #[arg(long, short)]
        quality: tangible_domain::Quality,
        /// The floor in euros (e.g. 4.50), or 0.
        floor: tangible_domain::Cents,
    },
    /// Have a studio's cleared earnings paid to its royalty recipient (studio admin; the API's
    /// operator pays the gas).
    Withdraw {
        /// The studio id.
        #[arg(long)]
        studio: u32,
    },
    /// Royalty statement of a studio.
    Statement {
        /// The studio id.
        studio: i64,
        /// From (RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// To (RFC 3339).
        #[arg(long)]
        to: Option<String>,
        /// CSV instead of a table.
        #[arg(long)]
        csv: bool,
    },
}

fn parse_edition(s: &str) -> Result<(tangible_domain::Quality, tangible_domain::Cents), String> {
    let (q, p) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected QUALITY=EUROS, e.g. 4k=13.00"))?;
    let q = q.parse().map_err(|e| format!("{s:?}: {e}"))?;
    let p = p.parse().map_err(|e| format!("{s:?}: {e}"))?;
    Ok((q, p))
}
