//! Output helpers: JSON for scripts (`--json`), text for people, progress bars on stderr.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::Value;

/// The `--get` path of this run, if any.
static GET: OnceLock<String> = OnceLock::new();
/// Set when the `--get` path named nothing in the document printed.
static GET_MISSED: AtomicBool = AtomicBool::new(false);

/// Prints only the value at `path` instead of whole JSON documents from now on (`--get`).
pub fn select(path: &str) {
    let _ = GET.set(path.to_owned());
}

/// The `--get` path that named nothing in a document printed in this run, if any.
pub fn missed() -> Option<&'static str> {
    GET_MISSED
        .load(Ordering::Relaxed)
        .then(|| GET.get().map(String::as_str))
        .flatten()
}

/// The value at a dotted `path` (`licence_id`, `0.offer_id`, `editions.1.price_cents`):
/// object keys, or indices into arrays.
pub fn pick<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .try_fold(value, |v, seg| match v {
            Value::Array(items) => items.get(seg.parse::<usize>().ok()?),
            Value::Object(map) => map.get(seg),
            _ => None,
        })
}

/// Prints `value` as one line of JSON; with `--get PATH`, only the value there (a string
/// unquoted, anything else as JSON), so that `X=$(tangible --get licence_id buy …)` needs no jq.
pub fn json<T: Serialize>(value: &T) {
    let whole = match serde_json::to_value(value) {
        Ok(v) => v,
        Err(e) => {
            println!("{}", serde_json::json!({ "error": e.to_string() }));
            return;
        }
    };
    let Some(path) = GET.get() else {
        println!("{whole}");
        return;
    };
    match pick(&whole, path) {
        Some(Value::String(s)) => println!("{s}"),
        Some(v) => println!("{v}"),
        None => GET_MISSED.store(true, Ordering::Relaxed),
    }
}

/// A byte progress bar on stderr (hidden when stderr is not a terminal).
pub fn bytes_bar(total: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(message.to_owned());
    bar
}

/// A spinner on stderr (hidden when stderr is not a terminal).
pub fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Euros from cents, `13.00`.
pub fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

#[cfg(test)]
mod tests {
    use super::pick;
    use serde_json::json;

    #[test]
    fn pick_follows_keys_and_indices() {
        let v = json!([{"offer_id": "7", "editions": [{"q": "hd"}, {"q": "4k"}]}]);
        assert_eq!(pick(&v, "0.offer_id"), Some(&json!("7")));
        assert_eq!(pick(&v, "0.editions.1.q"), Some(&json!("4k")));
        assert_eq!(pick(&v, "0.missing"), None);
        assert_eq!(pick(&v, "1"), None);
        assert_eq!(pick(&v, "x"), None);
        assert_eq!(pick(&json!({"a": 1}), "a.b"), None);
    }
}
