//! [`SecretUrl`]: a URL with credentials in it (a database URL with its password, a node
//! provider's URL with its API key) that prints without them.

use std::fmt;

use serde::Deserialize;
use url::Url;

/// What replaces a credential when a [`SecretUrl`] is printed.
pub const REDACTED: &str = "***";

/// Query parameters whose values are printed as they are (connection settings, never keys).
const PLAIN_QUERY_KEYS: &[&str] = &[
    "sslmode",
    "application_name",
    "connect_timeout",
    "host",
    "port",
    "dbname",
    "user",
];

/// Path segments at least this long are taken for tokens (`/v3/<key>`, `/v2/<key>`) and
/// hidden; database names and API versions are shorter.
const TOKEN_SEGMENT_LEN: usize = 20;

/// A URL whose `Debug` and `Display` hide its credentials: the password (`user:***@host`),
/// the values of the query parameters (except connection settings such as `sslmode`), path
/// segments long enough to be API keys, and the fragment. The full string is only returned by
/// [`SecretUrl::expose`], to hand to the client that connects.
///
/// ```
/// use tangible_service::SecretUrl;
///
/// let url = SecretUrl::new("postgres://tangible:hunter2@db:5432/tangible?sslmode=require");
/// assert_eq!(url.to_string(), "postgres://tangible:***@db:5432/tangible?sslmode=require");
/// assert_eq!(url.expose(), "postgres://tangible:hunter2@db:5432/tangible?sslmode=require");
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SecretUrl(String);

impl SecretUrl {
    /// Wraps `url` (not validated: the client that connects reports a malformed one, and it
    /// prints as [`REDACTED`]).
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL with its credentials, for the client that connects. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL as it prints: credentials replaced by [`REDACTED`].
    pub fn redacted(&self) -> String {
        let Ok(mut url) = Url::parse(&self.0) else {
            return REDACTED.to_owned();
        };
        if url.password().is_some() {
            // Only fails for URLs that cannot have credentials, which then have none.
            let _ = url.set_password(Some(REDACTED));
        }
        if url.query().is_some() {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| {
                    let keep = PLAIN_QUERY_KEYS.contains(&k.as_ref());
                    let v = if keep {
                        v.into_owned()
                    } else {
                        REDACTED.to_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        if !url.cannot_be_a_base() {
            let path: Vec<String> = url
                .path_segments()
                .map(|segments| {
                    segments
                        .map(|s| {
                            if s.len() >= TOKEN_SEGMENT_LEN {
                                REDACTED.to_owned()
                            } else {
                                s.to_owned()
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            url.set_path(&path.join("/"));
        }
        url.set_fragment(None);
        // `Url` escapes the asterisks of a redacted password; print them plainly.
        url.as_str().replace("%2A%2A%2A", REDACTED)
    }
}

impl From<String> for SecretUrl {
    fn from(url: String) -> Self {
        Self(url)
    }
}

impl From<&str> for SecretUrl {
    fn from(url: &str) -> Self {
        Self(url.to_owned())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SecretUrl").field(&self.redacted()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(url: &str) -> (String, String) {
        let url = SecretUrl::new(url);
        (url.to_string(), format!("{url:?}"))
    }

    #[test]
    fn database_url_hides_the_password_keeps_the_rest() {
        let (display, debug) =
            shown("postgres://tangible:s3cr%40t@db.example:5432/tangible?sslmode=require");
        assert_eq!(
            display,
            "postgres://tangible:***@db.example:5432/tangible?sslmode=require"
        );
        assert_eq!(
            debug,
            "SecretUrl(\"postgres://tangible:***@db.example:5432/tangible?sslmode=require\")"
        );
        assert!(!debug.contains("s3cr"));
        let (display, _) = shown("postgres://postgres@127.0.0.1:5432/tangible");
        assert_eq!(display, "postgres://postgres@127.0.0.1:5432/tangible");
    }

    #[test]
    fn rpc_url_hides_keys_in_the_path_and_the_query() {
        let key = "0123456789abcdef0123456789abcdef";
        for (raw, expected) in [
            (
                format!("https://mainnet.infura.io/v3/{key}"),
                "https://mainnet.infura.io/v3/***",
            ),
            (
                format!("https://rpc.example/?apikey={key}&x=1"),
                "https://rpc.example/?apikey=***&x=***",
            ),
            (
                format!("https://user:{key}@rpc.example/#{key}"),
                "https://user:***@rpc.example/",
            ),
            ("http://127.0.0.1:8545".to_owned(), "http://127.0.0.1:8545/"),
        ] {
            let (display, debug) = shown(&raw);
            assert_eq!(display, expected);
            assert!(!display.contains(key) && !debug.contains(key), "{debug}");
        }
    }

    #[test]
    fn unparseable_prints_nothing_of_itself() {
        let url = SecretUrl::new("not a url with password hunter2");
        assert_eq!(url.to_string(), REDACTED);
        assert_eq!(url.expose(), "not a url with password hunter2");
    }

    #[test]
    fn deserializes_from_a_string() {
        let url: SecretUrl = serde_json::from_str("\"postgres://u:p@h/db\"").unwrap();
        assert_eq!(url.expose(), "postgres://u:p@h/db");
        assert_eq!(url.to_string(), "postgres://u:***@h/db");
    }
}
