//! How to reach a provider ([`ProviderAddr`]) and one file on it ([`ContentTicket`]): what the
//! API hands to clients, in string form (iroh tickets) and through serde.

use std::{fmt, str::FromStr};

use iroh::EndpointAddr;
use iroh_blobs::{BlobFormat, ticket::BlobTicket};
use iroh_tickets::endpoint::EndpointTicket;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{
    error::{ContentError, Result},
    hash::ContentHash,
};

/// How to reach a provider: its endpoint id and direct (and/or relay) addresses.
///
/// String form: an iroh endpoint ticket (`endpoint…`, base32); serde uses the string form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderAddr(pub EndpointAddr);

impl ProviderAddr {
    /// The provider's endpoint id, as a string (for logs and errors).
    pub fn id_string(&self) -> String {
        self.0.id.to_string()
    }
}

impl fmt::Display for ProviderAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", EndpointTicket::new(self.0.clone()))
    }
}

impl FromStr for ProviderAddr {
    type Err = ContentError;

    fn from_str(s: &str) -> Result<Self> {
        let ticket = EndpointTicket::from_str(s).map_err(|e| ContentError::Parse {
            kind: "provider address",
            detail: e.to_string(),
        })?;
        Ok(Self(ticket.endpoint_addr().clone()))
    }
}

impl Serialize for ProviderAddr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ProviderAddr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A provider address plus the hash to fetch from it: everything a client needs to download
/// one film file.
///
/// String form: an iroh-blobs `BlobTicket` (`blob…`, base32), readable by other iroh-blobs
/// tools; serde uses the string form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentTicket {
    /// Where to fetch from.
    pub provider: ProviderAddr,
    /// What to fetch.
    pub hash: ContentHash,
}

impl fmt::Display for ContentTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = BlobTicket::new(self.provider.0.clone(), self.hash.into(), BlobFormat::Raw);
        write!(f, "{t}")
    }
}

impl FromStr for ContentTicket {
    type Err = ContentError;

    fn from_str(s: &str) -> Result<Self> {
        let t = BlobTicket::from_str(s).map_err(|e| ContentError::Parse {
            kind: "ticket",
            detail: e.to_string(),
        })?;
        if t.format() != BlobFormat::Raw {
            return Err(ContentError::Parse {
                kind: "ticket",
                detail: "only raw blob tickets are supported".into(),
            });
        }
        Ok(Self {
            provider: ProviderAddr(t.addr().clone()),
            hash: t.hash().into(),
        })
    }
}

impl Serialize for ContentTicket {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ContentTicket {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
