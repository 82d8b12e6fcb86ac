//! HTTP fallback: an axum router serving stored files with `Range` support, and a client-side
//! range downloader that resumes partial files and verifies the BLAKE3 hash.
//!
//! Server: [`router`] answers `GET` and `HEAD` on `/{hash}` (mount it under a prefix, e.g.
//! `Router::new().nest("/content", tangible_content::http::router(store))`):
//! - `200` with the whole file, or `206` with `Content-Range` for one `bytes=` range
//!   (`a-b`, `a-`, `-n`); the body streams from disk;
//! - `416` with `Content-Range: bytes */size` for an unsatisfiable or malformed range;
//! - a multiple-range request, or a range in another unit, is ignored (`200`, whole file),
//!   as RFC 9110 allows; an `If-Range` that does not match the ETag also gives `200`;
//! - `ETag: "<hash>"` (the content never changes under a hash), `Accept-Ranges: bytes`,
//!   `Content-Length`, `Cache-Control: immutable`; `If-None-Match` with the ETag gives `304`;
//! - `400` for a malformed hash, `404` for a file the store does not hold.
//!
//! Client: [`download_to_file`] and [`download_into_store`] keep the bytes received so far in
//! a `.part` file, resume it with `Range: bytes=<len>-` (guarded by `If-Range: "<hash>"`),
//! hash everything with BLAKE3 while streaming, and only move the file into place when the
//! hash matches.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    extract::{Path as UrlPath, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tracing::{debug, error, info, warn};

use crate::{
    error::{ContentError, Result},
    hash::ContentHash,
    p2p::TransferProgress,
    store::ContentStore,
};

const TARGET: &str = "tangible::content::http";

/// The router serving `GET`/`HEAD /{hash}` from `store`.
pub fn router(store: ContentStore) -> Router {
    Router::new()
        .route("/{hash}", get(serve_blob).head(serve_blob))
        .with_state(store)
}

/// A parsed `Range` header, checked against the file size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable range: serve the whole file.
    Full,
    /// Serve bytes `start..=end` (inclusive, within the file).
    Partial {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// A `bytes` range that cannot be served (416).
    Unsatisfiable,
}

/// Interprets a `Range` header value for a file of `size` bytes (RFC 9110 §14).
pub fn parse_range(value: &str, size: u64) -> RangeRequest {
    let value = value.trim();
    let Some((unit, specs)) = value.split_once('=') else {
        return RangeRequest::Unsatisfiable;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        // A unit we do not know: ignore the header.
        return RangeRequest::Full;
    }
    if specs.contains(',') {
        // Multiple ranges are not supported: serve the whole file.
        return RangeRequest::Full;
    }
    let Some((first, last)) = specs.trim().split_once('-') else {
        return RangeRequest::Unsatisfiable;
    };
    let (first, last) = (first.trim(), last.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if first.is_empty() {
        // Suffix range: the last `n` bytes.
        let Some(n) = digits(last).then(|| last.parse::<u64>().ok()).flatten() else {
            return RangeRequest::Unsatisfiable;
        };
        if n == 0 || size == 0 {
            return RangeRequest::Unsatisfiable;
        }
        return RangeRequest::Partial {
            start: size.saturating_sub(n),
            end: size - 1,
        };
    }
    let Some(start) = digits(first).then(|| first.parse::<u64>().ok()).flatten() else {
        return RangeRequest::Unsatisfiable;
    };
    let end = if last.is_empty() {
        u64::MAX
    } else {
        match digits(last).then(|| last.parse::<u64>().ok()).flatten() {
            Some(end) if end >= start => end,
            _ => return RangeRequest::Unsatisfiable,
        }
    };
    if start >= size {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Partial {
        start,
        end: end.min(size - 1),
    }
}

fn etag_of(hash: ContentHash) -> String {
    format!("\"{hash}\"")
}

fn etag_matches(header_value: &HeaderValue, etag: &str) -> bool {
    header_value.to_str().is_ok_and(|v| {
        v.split(',').any(|t| {
            let t = t.trim();
            t == "*" || t == etag || t.strip_prefix("W/") == Some(etag)
        })
    })
}

async fn serve_blob(
    State(store): State<ContentStore>,
    UrlPath(hash): UrlPath<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let Ok(hash) = hash.parse::<ContentHash>() else {
        return (StatusCode::BAD_REQUEST, "malformed content hash").into_response();
    };
    let size = match store.size(hash).await {
        Ok(Some(size)) => size,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such content").into_response(),
        Err(e) => {
            error!(target: TARGET, %hash, error = %e, "store lookup failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let etag = etag_of(hash);
    let common = |mut builder: axum::http::response::Builder| {
        builder = builder
            .header(header::ETAG, &etag)
            .header(header::ACCEPT_RANGES, "bytes")
            .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable");
        builder
    };

    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| etag_matches(v, &etag))
    {
        return common(Response::builder().status(StatusCode::NOT_MODIFIED))
            .body(Body::empty())
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    }

    let if_range_ok = headers
        .get(header::IF_RANGE)
        .is_none_or(|v| v.to_str().is_ok_and(|v| v.trim() == etag));
    let range = match headers.get(header::RANGE) {
        Some(value) if if_range_ok => match value.to_str() {
            Ok(v) => parse_range(v, size),
            Err(_) => RangeRequest::Unsatisfiable,
        },
        _ => RangeRequest::Full,
    };

    let (status, start, end_exclusive) = match range {
        RangeRequest::Full => (StatusCode::OK, 0, size),
        RangeRequest::Partial { start, end } => (StatusCode::PARTIAL_CONTENT, start, end + 1),
        RangeRequest::Unsatisfiable => {
            debug!(target: TARGET, %hash, size, range = ?headers.get(header::RANGE), "unsatisfiable range");
            return common(Response::builder().status(StatusCode::RANGE_NOT_SATISFIABLE))
                .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                .body(Body::empty())
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
        }
    };
    let len = end_exclusive - start;
    let mut builder = common(Response::builder().status(status))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, len);
    if status == StatusCode::PARTIAL_CONTENT {
        builder = builder.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{size}", end_exclusive - 1),
        );
    }
    let body = if method == Method::HEAD || len == 0 {
        Body::empty()
    } else {
        Body::from_stream(store.range_stream(hash, start..end_exclusive))
    };
    debug!(target: TARGET, %hash, %method, status = status.as_u16(), start, len, "serving content");
    builder
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Result of a successful HTTP download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpOutcome {
    /// The file fetched (its hash was verified).
    pub hash: ContentHash,
    /// Its size.
    pub size: u64,
    /// Bytes already in the `.part` file and reused (0 for a fresh download).
    pub resumed_from: u64,
    /// Body bytes received in this download.
    pub transferred: u64,
    /// Wall time of this download.
    pub elapsed: Duration,
}

/// URL of `hash` under a base URL where [`router`] is mounted.
pub fn blob_url(base: &str, hash: ContentHash) -> String {
    format!("{}/{hash}", base.trim_end_matches('/'))
}

/// The partial file used while downloading to `dest`.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    dest.with_file_name(name)
}

/// Downloads `url` to `dest`, expecting content hashing to `expected`.
///
/// Bytes go to `<dest>.part` first. If that file exists (an earlier interrupted download), it
/// is re-hashed and the download continues from its end with a `Range` request; a server that
/// answers `200` instead makes it start over. The file is renamed to `dest` only if the BLAKE3
/// hash of the whole matches `expected`; on a mismatch the `.part` file is deleted and
/// [`ContentError::HashMismatch`] returned. On a network error the `.part` file is kept for
/// the next attempt.
pub async fn download_to_file(
    client: &reqwest::Client,
    url: &str,
    expected: ContentHash,
    dest: &Path,
    mut on_progress: impl FnMut(TransferProgress),
) -> Result<HttpOutcome> {
    let started = Instant::now();
    let part = part_path(dest);
    let (size, resumed_from, transferred) =
        fetch_part(client, url, expected, &part, &mut on_progress).await?;
    tokio::fs::rename(&part, dest)
        .await
        .map_err(ContentError::io(dest))?;
    let elapsed = started.elapsed();
    info!(target: TARGET, hash = %expected, url, size, resumed_from, transferred, elapsed_ms = elapsed.as_millis() as u64, dest = %dest.display(), "HTTP download complete");
    Ok(HttpOutcome {
        hash: expected,
        size,
        resumed_from,
        transferred,
        elapsed,
    })
}

/// Like [`download_to_file`], but into `store` (the `.part` file lives under
/// `<store root>/http-partial/`, so a later call resumes it). The verified file is then
/// imported and the `.part` file deleted.
pub async fn download_into_store(
    client: &reqwest::Client,
    url: &str,
    expected: ContentHash,
    store: &ContentStore,
    mut on_progress: impl FnMut(TransferProgress),
) -> Result<HttpOutcome> {
    let started = Instant::now();
    if let Some(size) = store.size(expected).await? {
        on_progress(TransferProgress {
            done: size,
            total: size,
        });
        return Ok(HttpOutcome {
            hash: expected,
            size,
            resumed_from: size,
            transferred: 0,
            elapsed: started.elapsed(),
        });
    }
    let dir = store.root().join("http-partial");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(ContentError::io(&dir))?;
    let part = part_path(&dir.join(expected.to_hex()));
    let (size, resumed_from, transferred) =
        fetch_part(client, url, expected, &part, &mut on_progress).await?;
    let info = store.import_file(&part).await?;
    if info.hash != expected {
        // Cannot happen unless the file changed between verification and import.
        return Err(ContentError::HashMismatch {
            expected,
            actual: info.hash,
        });
    }
    tokio::fs::remove_file(&part)
        .await
        .map_err(ContentError::io(&part))?;
    let elapsed = started.elapsed();
    info!(target: TARGET, hash = %expected, url, size, resumed_from, transferred, elapsed_ms = elapsed.as_millis() as u64, "HTTP download stored");
    Ok(HttpOutcome {
        hash: expected,
        size,
        resumed_from,
        transferred,
        elapsed,
    })
}

/// Total size from a `Content-Range` value: `bytes a-b/total` or `bytes */total`.
fn content_range(value: &str) -> Option<(Option<(u64, u64)>, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let total = total.trim().parse().ok()?;
    if range.trim() == "*" {
        return Some((None, total));
    }
    let (a, b) = range.split_once('-')?;
    Some((
        Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
        total,
    ))
}

/// Downloads into `part` (resuming it), verifies it; returns (size, resumed_from, received).
async fn fetch_part(
    client: &reqwest::Client,
    url: &str,
    expected: ContentHash,
    part: &Path,
    on_progress: &mut impl FnMut(TransferProgress),
) -> Result<(u64, u64, u64)> {
    let bad = |detail: String| ContentError::HttpResponse {
        url: url.to_owned(),
        detail,
    };
    let http = |source| ContentError::Http {
        url: url.to_owned(),
        source,
    };

    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(part)
        .await
        .map_err(ContentError::io(part))?;
    // Re-hash what an earlier attempt left, so the final check covers the whole file.
    let mut hasher = blake3::Hasher::new();
    let mut have = 0u64;
    {
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).await.map_err(ContentError::io(part))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            have += n as u64;
        }
    }

    let mut request = client.get(url);
    if have > 0 {
        request = request
            .header(header::RANGE, format!("bytes={have}-"))
            .header(header::IF_RANGE, etag_of(expected));
    }
    let mut response = request.send().await.map_err(http)?;
    let status = response.status();
    let resumed_from;
    let total;
    match status {
        StatusCode::PARTIAL_CONTENT => {
            let cr = response
                .headers()
                .get(header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(content_range);
            match cr {
                Some((Some((start, _)), t)) if start == have => {
                    resumed_from = have;
                    total = t;
                }
                other => return Err(bad(format!("206 with unusable Content-Range {other:?}"))),
            }
        }
        StatusCode::OK => {
            if have > 0 {
                warn!(target: TARGET, hash = %expected, url, have, "server ignored the range, starting over");
            }
            file.set_len(0).await.map_err(ContentError::io(part))?;
            hasher.reset();
            have = 0;
            resumed_from = 0;
            total = response
                .content_length()
                .ok_or_else(|| bad("200 without Content-Length".into()))?;
        }
        StatusCode::RANGE_NOT_SATISFIABLE if have > 0 => {
            let t = response
                .headers()
                .get(header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(content_range)
                .map(|(_, t)| t);
            if t == Some(have) {
                // The part file already holds every byte: just verify it.
                resumed_from = have;
                total = have;
            } else {
                // The part file is longer than the file: it cannot be ours. Start over.
                warn!(target: TARGET, hash = %expected, url, have, size = ?t, "partial file does not fit, starting over");
                drop(file);
                tokio::fs::remove_file(part)
                    .await
                    .map_err(ContentError::io(part))?;
                return Box::pin(fetch_part(client, url, expected, part, on_progress)).await;
            }
        }
        StatusCode::NOT_FOUND => return Err(ContentError::NotFound { hash: expected }),
        other => return Err(bad(format!("status {other}"))),
    }

    // Append from `have` (after a 200 the file was truncated to 0).
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    tokio::io::AsyncSeekExt::seek(&mut writer, std::io::SeekFrom::Start(have))
        .await
        .map_err(ContentError::io(part))?;
    on_progress(TransferProgress { done: have, total });
    let mut received = 0u64;
    let body_result: Result<()> = async {
        while let Some(chunk) = response.chunk().await.map_err(http)? {
            if have + chunk.len() as u64 > total {
                return Err(bad(format!("body longer than the announced {total} bytes")));
            }
            writer
                .write_all(&chunk)
                .await
                .map_err(ContentError::io(part))?;
            hasher.update(&chunk);
            have += chunk.len() as u64;
            received += chunk.len() as u64;
            on_progress(TransferProgress { done: have, total });
        }
        Ok(())
    }
    .await;
    // Keep what arrived, even on error, so the next attempt resumes it.
    writer.flush().await.map_err(ContentError::io(part))?;
    let file = writer.into_inner();
    file.sync_all().await.map_err(ContentError::io(part))?;
    drop(file);
    if let Err(e) = body_result {
        warn!(target: TARGET, hash = %expected, url, have, total, error = %e, "HTTP download interrupted, partial file kept");
        return Err(e);
    }
    if have != total {
        warn!(target: TARGET, hash = %expected, url, have, total, "HTTP body ended early, partial file kept");
        return Err(bad(format!(
            "body ended after {have} of {total} bytes (partial file kept for resume)"
        )));
    }
    let actual = ContentHash::from(hasher.finalize());
    if actual != expected {
        error!(target: TARGET, %expected, %actual, url, "HTTP download hash mismatch, partial file deleted");
        let _ = tokio::fs::remove_file(part).await;
        return Err(ContentError::HashMismatch { expected, actual });
    }
    Ok((total, resumed_from, received))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeRequest::*;
        assert_eq!(parse_range("bytes=0-9", 100), Partial { start: 0, end: 9 });
        assert_eq!(
            parse_range("bytes=10-", 100),
            Partial { start: 10, end: 99 }
        );
        assert_eq!(
            parse_range("bytes=-10", 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range("bytes=-1000", 100),
            Partial { start: 0, end: 99 }
        );
        assert_eq!(
            parse_range("bytes=90-1000", 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=9-3", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=a-3", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=+1-3", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes", 100), Unsatisfiable);
        assert_eq!(parse_range("items=0-3", 100), Full);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Full);
    }

    #[test]
    fn content_range_header() {
        assert_eq!(content_range("bytes 5-9/10"), Some((Some((5, 9)), 10)));
        assert_eq!(content_range("bytes */10"), Some((None, 10)));
        assert_eq!(content_range("bytes 5-9"), None);
    }

    #[test]
    fn part_path_appends_suffix() {
        assert_eq!(
            part_path(Path::new("/a/film.enc")),
            Path::new("/a/film.enc.part")
        );
    }
}
