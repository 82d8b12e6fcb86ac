//! Configuration of a service: an optional TOML file overlaid by environment variables, then
//! by command-line overrides.
//!
//! For the service named `api`:
//! - `TANGIBLE_API_CONFIG` names an optional TOML file with one key per field
//!   (`listen_addr = "0.0.0.0:8080"`), which may group fields in tables: a key in table
//!   `[stripe]` sets the field `stripe_<key>` (`[stripe] secret_key = …` is
//!   `stripe_secret_key`), so the file reads in sections while a field keeps one name in the
//!   file, the variables and the flags;
//! - every `TANGIBLE_API_<FIELD>` variable sets the field of that name, upper-cased
//!   (`listen_addr` ← `TANGIBLE_API_LISTEN_ADDR`) and wins over the file;
//! - [`ConfigLoader::with_overrides`] (e.g. command-line flags) wins over both.
//!
//! Values from the environment are kept as text and serde converts them into the type of their
//! field (figment's lossy interpretation): a number or a boolean (`true`/`false`, also
//! `1`/`0`, `yes`/`no`, `on`/`off`) parses where the field asks for one, while a secret made
//! of digits stays text. No field list to maintain. A variable naming no field is an error when
//! the target struct denies unknown fields.

use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Errors while loading a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("configuration file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file, a variable or an override does not describe a valid configuration.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Prefix of a service's variables: `TANGIBLE_API_` for `api`.
pub fn env_prefix(service: &str) -> String {
    format!("TANGIBLE_{}_", service.to_ascii_uppercase())
}

/// The variable naming a service's optional TOML file: `TANGIBLE_API_CONFIG` for `api`.
pub fn config_file_var(service: &str) -> String {
    format!("{}CONFIG", env_prefix(service))
}

/// The layered sources of one service's configuration; [`ConfigLoader::extract`] reads a
/// struct out of them.
#[derive(Debug, Clone)]
pub struct ConfigLoader {
    figment: Figment,
}

impl ConfigLoader {
    /// The file named by `TANGIBLE_<SERVICE>_CONFIG` (if set) under the process's
    /// `TANGIBLE_<SERVICE>_*` variables.
    pub fn from_env(service: &str) -> Result<Self, ConfigError> {
        let file = std::env::var_os(config_file_var(service)).map(PathBuf::from);
        Self::from_sources(service, file.as_deref(), std::env::vars())
    }

    /// An optional TOML file under `(name, value)` variables; only the variables with the
    /// service's prefix are read.
    pub fn from_sources(
        service: &str,
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            // Read here so a missing file is an error (figment would take it as empty).
            std::fs::metadata(path).map_err(|source| ConfigError::Io {
                path: path.to_owned(),
                source,
            })?;
            figment = figment.merge(Sections(Toml::file_exact(path)));
        }
        let prefix = env_prefix(service);
        let vars = vars
            .into_iter()
            .filter_map(|(name, value)| {
                let field = name.strip_prefix(&prefix)?.to_ascii_lowercase();
                (field != "config").then_some((field, value))
            })
            .collect();
        Ok(Self {
            figment: figment.merge(EnvText { prefix, vars }),
        })
    }

    /// Sets fields over the file and the variables: every field `overrides` serializes to
    /// (skip the unset ones with `#[serde(skip_serializing_if = "Option::is_none")]`).
    pub fn with_overrides(self, overrides: impl Serialize) -> Self {
        Self {
            figment: self.figment.merge(Serialized::defaults(overrides)),
        }
    }

    /// Deserializes the configuration (numbers and booleans given as text are parsed).
    pub fn extract<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.figment.extract_lossy().map_err(|e| {
            ConfigError::Invalid(
                e.into_iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })
    }
}

/// A file's tables flattened into fields: `[stripe] secret_key` is the field
/// `stripe_secret_key` (nested tables join each level with `_`). Fields are flat, so a table
/// never is a field's value.
struct Sections<P>(P);

impl<P: Provider> Provider for Sections<P> {
    fn metadata(&self) -> Metadata {
        self.0.metadata()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(self
            .0
            .data()?
            .into_iter()
            .map(|(profile, dict)| {
                let mut flat = Dict::new();
                flatten(String::new(), dict, &mut flat);
                (profile, flat)
            })
            .collect())
    }
}

/// Moves every entry of `dict` into `into`, a table's entries under `<prefix><table>_`.
fn flatten(prefix: String, dict: Dict, into: &mut Dict) {
    for (key, value) in dict {
        let name = format!("{prefix}{key}");
        match value {
            Value::Dict(_, table) => flatten(format!("{name}_"), table, into),
            other => {
                into.insert(name, other);
            }
        }
    }
}

/// The service's variables as text values, one top-level key per variable (figment's own
/// environment provider would parse `0123` into a number, which a text field then refuses).
struct EnvText {
    prefix: String,
    vars: Vec<(String, String)>,
}

impl Provider for EnvText {
    fn metadata(&self) -> Metadata {
        let prefix = self.prefix.clone();
        Metadata::named(format!("{}* environment variables", self.prefix)).interpolater(
            move |_profile, keys| format!("{prefix}{}", keys.join("__").to_ascii_uppercase()),
        )
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let dict = self
            .vars
            .iter()
            .map(|(field, value)| (field.clone(), Value::from(value.clone())))
            .collect();
        Ok(Profile::Default.collect(dict))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Demo {
        name: String,
        #[serde(default)]
        workers: u32,
        #[serde(default)]
        enabled: bool,
        #[serde(default)]
        limit: Option<u64>,
        #[serde(default)]
        ratio: f64,
        #[serde(default)]
        max_range: u64,
        #[serde(default)]
        db_pool_max: u32,
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn variables_over_file_over_nothing_typed_by_serde() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.toml");
        std::fs::write(&path, "name = \"file\"\nworkers = 5\nlimit = 7\n").unwrap();
        let loader = ConfigLoader::from_sources(
            "demo",
            Some(&path),
            vars(&[
                ("TANGIBLE_DEMO_WORKERS", "9"),
                ("TANGIBLE_DEMO_ENABLED", "true"),
                ("TANGIBLE_DEMO_RATIO", "0.5"),
                ("TANGIBLE_DEMO_CONFIG", "ignored: the file's own variable"),
                ("TANGIBLE_OTHER_NAME", "another service's"),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        let demo: Demo = loader.extract().unwrap();
        assert_eq!(demo.name, "file");
        assert_eq!(demo.workers, 9);
        assert!(demo.enabled);
        assert_eq!(demo.limit, Some(7));
        assert_eq!(demo.ratio, 0.5);
    }

    #[test]
    fn tables_of_the_file_prefix_their_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.toml");
        std::fs::write(
            &path,
            "name = \"top\"\nworkers = 2\n[max]\nrange = 3\n[db.pool]\nmax = 5\n",
        )
        .unwrap();
        let demo: Demo = ConfigLoader::from_sources("demo", Some(&path), vars(&[]))
            .unwrap()
            .extract()
            .unwrap();
        assert_eq!(demo.name, "top");
        assert_eq!(demo.workers, 2);
        assert_eq!(demo.max_range, 3, "[max] range is the field max_range");
        assert_eq!(
            demo.db_pool_max, 5,
            "[db.pool] max is the field db_pool_max"
        );
        // A variable still wins over a key given in a table.
        let demo: Demo = ConfigLoader::from_sources(
            "demo",
            Some(&path),
            vars(&[("TANGIBLE_DEMO_MAX_RANGE", "4")]),
        )
        .unwrap()
        .extract()
        .unwrap();
        assert_eq!(demo.max_range, 4);
        // A table naming no field is refused like an unknown top-level key.
        std::fs::write(&path, "name = \"top\"\n[nothing]\nhere = 1\n").unwrap();
        let err = ConfigLoader::from_sources("demo", Some(&path), vars(&[]))
            .unwrap()
            .extract::<Demo>()
            .unwrap_err();
        assert!(err.to_string().contains("nothing_here"), "{err}");
    }

    #[test]
    fn digits_stay_text_where_a_field_wants_text() {
        let loader =
            ConfigLoader::from_sources("demo", None, vars(&[("TANGIBLE_DEMO_NAME", "0123")]))
                .unwrap();
        let demo: Demo = loader.extract().unwrap();
        assert_eq!(demo.name, "0123");
    }

    #[test]
    fn overrides_win_and_unset_ones_do_not() {
        #[derive(Serialize)]
        struct Flags {
            #[serde(skip_serializing_if = "Option::is_none")]
            workers: Option<u32>,
            #[serde(skip_serializing_if = "Option::is_none")]
            name: Option<String>,
        }
        let loader = ConfigLoader::from_sources(
            "demo",
            None,
            vars(&[
                ("TANGIBLE_DEMO_NAME", "env"),
                ("TANGIBLE_DEMO_WORKERS", "3"),
            ]),
        )
        .unwrap()
        .with_overrides(Flags {
            workers: Some(4),
            name: None,
        });
        let demo: Demo = loader.extract().unwrap();
        assert_eq!((demo.name.as_str(), demo.workers), ("env", 4));
    }

    #[test]
    fn errors_name_the_variable_and_the_missing_file() {
        let load = |pairs: &[(&str, &str)]| {
            ConfigLoader::from_sources("demo", None, vars(pairs))
                .unwrap()
                .extract::<Demo>()
                .unwrap_err()
                .to_string()
        };
        let err = load(&[
            ("TANGIBLE_DEMO_NAME", "n"),
            ("TANGIBLE_DEMO_WORKERS", "many"),
        ]);
        assert!(err.contains("TANGIBLE_DEMO_WORKERS"), "{err}");
        let err = load(&[("TANGIBLE_DEMO_NAME", "n"), ("TANGIBLE_DEMO_NO_SUCH", "1")]);
        assert!(err.contains("no_such"), "{err}");
        let err = load(&[]);
        assert!(err.contains("missing field `name`"), "{err}");
        let err = ConfigLoader::from_sources("demo", Some(Path::new("/nonexistent/x.toml")), [])
            .unwrap_err();
        assert!(matches!(err, ConfigError::Io { .. }), "{err}");
    }

    #[test]
    fn names_of_a_service() {
        assert_eq!(env_prefix("indexer"), "TANGIBLE_INDEXER_");
        assert_eq!(config_file_var("api"), "TANGIBLE_API_CONFIG");
    }
}
